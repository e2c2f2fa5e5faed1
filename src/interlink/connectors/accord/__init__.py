"""Accord: Interlink's own signed intake envelope for Accord mutual-action-plan data.

``envelope`` is the JSON an Accord sender posts (``parse_envelope``); ``signature`` how it is signed
(``signature_headers`` to sign, ``verify_signature`` to check). Accord publishes no webhook format of its own,
so both are Interlink's definitions (reference/accelo-api.md §7).
"""

from interlink.connectors.accord.envelope import (
    AccordEnvelope,
    AccordState,
    AccordStatus,
    InvalidEnvelope,
    MalformedEnvelope,
    Trigger,
    parse_envelope,
)
from interlink.connectors.accord.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureRejected,
    signature_headers,
    verify_signature,
)

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "AccordEnvelope",
    "AccordState",
    "AccordStatus",
    "InvalidEnvelope",
    "MalformedEnvelope",
    "SignatureRejected",
    "Trigger",
    "parse_envelope",
    "signature_headers",
    "verify_signature",
]
