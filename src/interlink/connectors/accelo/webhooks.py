"""Accelo webhook intake: verify ``X-Hub-Signature``, read the thin payload, name the event.

Accelo POSTs ``{id, resource_url}`` (form-encoded or JSON, chosen per subscription) with two headers:
``X-Accelo-Event`` (the subscription's ``event_id``, e.g. ``update_company``) and ``X-Hub-Signature``,
"the HMAC hex digest of the payload using your configured subscription secret".

**Digest (unconfirmed by Accelo's docs).** The header name is PubSubHubbub's (as GitHub used it), whose
convention is HMAC-**SHA1** over the raw body, as ``sha1=<hex>``. ``verify_signature`` therefore accepts:
a ``sha1=`` or ``sha256=`` prefix (that algorithm is used), or a bare hex digest, read as HMAC-SHA1 when it
has 40 digits and HMAC-SHA256 when it has 64. It always compares in constant time over the exact bytes
received.

The payload carries no delivery id and no timestamp, so a retried delivery and a later real update of the
same record look identical. Both are hints (the worker re-reads the record), so the inbox keeps one unclaimed
hint per record: a delivery about a record whose hint nobody has claimed yet is acknowledged and dropped,
and one that arrives after a worker claimed it is stored (it may be an edit that re-read missed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from interlink.connectors.accelo.errors import AcceloError

SIGNATURE_HEADER = "X-Hub-Signature"
EVENT_HEADER = "X-Accelo-Event"

# Accelo's documented event ids: (the object type that triggers it, what happened to it).
KNOWN_EVENTS: dict[str, tuple[str, str]] = {
    "create_company": ("company", "create"),
    "update_company": ("company", "update"),
    "create_contact": ("contact", "create"),
    "update_contact": ("contact", "update"),
    "assign_task": ("task", "assign"),
    "unassign_task": ("task", "unassign"),
    "create_task": ("task", "create"),
    "create_invoice": ("invoice", "create"),
    "update_invoice": ("invoice", "update"),
    "delete_invoice": ("invoice", "delete"),
    "create_invoice_pdf": ("invoice", "create_pdf"),
    "create_purchase_pdf": ("purchase", "create_pdf"),
    "create_quote": ("quote", "create"),
    "create_request": ("request", "create"),
    "update_request_status": ("request", "update_status"),
    "create_issue": ("issue", "create"),
    "update_issue": ("issue", "update"),
    "create_sale": ("sale", "create"),
    "update_sale": ("sale", "update"),
    "delete_activity": ("activity", "delete"),
}
# What Interlink subscribes to: there are no delete, affiliation or profile-value events, so polling finds
# those.
SYNC_EVENTS = ("create_company", "update_company", "create_contact", "update_contact")

_RESOURCE_NAMES = {"company": "companies", "contact": "contacts", "invoice": "invoices", "issue": "issues"}


class AcceloWebhookRejected(AcceloError):
    """A delivery that must not be stored. ``reason`` is safe to return to the sender; ``status_code`` is
    what to answer (401 for signatures, 400 for a body that cannot be read)."""

    def __init__(self, reason: str, *, status_code: int) -> None:
        super().__init__(reason, status_code=status_code)
        self.reason = reason


class InvalidSignature(AcceloWebhookRejected):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, status_code=401)


class MalformedWebhook(AcceloWebhookRejected):
    def __init__(self, reason: str) -> None:
        super().__init__(reason, status_code=400)


@dataclass(frozen=True)
class AcceloWebhookEvent:
    """One verified delivery: ``object_type`` ``object_id`` was ``action``-ed (e.g. company 45, update)."""

    event_id: str
    object_type: str
    action: str
    object_id: int
    resource_url: str

    @property
    def record_key(self) -> str:
        """The record the event is about, for coalescing many events into one re-read."""
        return f"{self.object_type}:{self.object_id}"


Algorithm = Literal["sha1", "sha256"]


def sign(body: bytes, secret: str, *, algorithm: Algorithm = "sha1", prefixed: bool = False) -> str:
    """The ``X-Hub-Signature`` value for ``body`` (used by the simulator and by tests)."""
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return f"{algorithm}={digest}" if prefixed else digest


def verify_signature(body: bytes, signature: str | None, secret: str | None) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` is the HMAC of ``body`` under ``secret``."""
    if not secret:
        raise InvalidSignature("no webhook secret is configured for this Accelo connection")
    if not signature or not signature.strip():
        raise InvalidSignature(f"the {SIGNATURE_HEADER} header is missing")
    value = signature.strip()
    algorithm: str | None = None
    if "=" in value:
        prefix, _, value = value.partition("=")
        algorithm = prefix.strip().lower()
        if algorithm not in ("sha1", "sha256"):
            raise InvalidSignature(f"unsupported signature algorithm {prefix!r}")
    value = value.strip().lower()
    if algorithm is None:
        algorithm = {40: "sha1", 64: "sha256"}.get(len(value))
        if algorithm is None:
            raise InvalidSignature(f"the {SIGNATURE_HEADER} header is not a SHA-1 or SHA-256 hex digest")
    expected = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    if not hmac.compare_digest(expected, value):
        raise InvalidSignature("the signature does not match the body")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def parse_payload(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as a dict, whether form-encoded or JSON (sniffed when the content type does not say)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedWebhook("the body is not UTF-8") from None
    kind = (content_type or "").split(";")[0].strip().lower()
    looks_like_json = text.lstrip().startswith("{")
    if kind == "application/json" or (kind != "application/x-www-form-urlencoded" and looks_like_json):
        try:
            data = json.loads(text)
        except ValueError:
            raise MalformedWebhook("the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise MalformedWebhook("the JSON body is not an object")
        return data
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise MalformedWebhook("the body is neither JSON nor form-encoded") from None
    return dict(pairs)


def parse_event(body: bytes, *, event_id: str | None, content_type: str | None) -> AcceloWebhookEvent:
    """The typed event; ``MalformedWebhook`` with the reason when any part is missing or wrong."""
    if not event_id or not event_id.strip():
        raise MalformedWebhook(f"the {EVENT_HEADER} header is missing")
    event_id = event_id.strip()
    known = KNOWN_EVENTS.get(event_id)
    if known is None:
        raise MalformedWebhook(f"unknown Accelo event {event_id!r}")
    object_type, action = known
    payload = parse_payload(body, content_type)
    raw_id = payload.get("id")
    if raw_id is None or str(raw_id).strip() == "":
        raise MalformedWebhook("the body has no id")
    text_id = str(raw_id).strip()
    if isinstance(raw_id, bool) or not text_id.isdigit() or int(text_id) == 0:
        raise MalformedWebhook(f"the id is not a record id: {raw_id!r}")
    object_id = int(text_id)
    resource_url = payload.get("resource_url")
    if not isinstance(resource_url, str) or not resource_url.strip():
        raise MalformedWebhook("the body has no resource_url")
    parts = urlsplit(resource_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise MalformedWebhook(f"the resource_url is not an absolute URL: {resource_url!r}")
    segments = [segment for segment in parts.path.split("/") if segment]
    resource = _RESOURCE_NAMES.get(object_type)
    if resource is not None and (len(segments) < 2 or segments[-2:] != [resource, str(object_id)]):
        raise MalformedWebhook(f"the resource_url does not name {resource}/{object_id}: {resource_url!r}")
    return AcceloWebhookEvent(
        event_id=event_id,
        object_type=object_type,
        action=action,
        object_id=object_id,
        resource_url=resource_url.strip(),
    )


def read_webhook(body: bytes, headers: Mapping[str, str], *, secret: str | None) -> AcceloWebhookEvent:
    """Verify, then parse, one delivery (``headers`` may be any mapping; names are matched
    case-insensitively). Raises ``InvalidSignature`` (answer 401) or ``MalformedWebhook`` (answer 400)."""
    verify_signature(body, _header(headers, SIGNATURE_HEADER), secret)
    return parse_event(body, event_id=_header(headers, EVENT_HEADER), content_type=_header(headers, "content-type"))
