"""HubSpot webhooks: proving a delivery came from HubSpot, and reading its events.

Signatures (reference/hubspot-api.md §1.6). Webhooks-API deliveries carry a v1 signature and a v3 one;
v3 is checked when present, because its timestamp stops replays:

- v3: ``base64(HMAC-SHA256(client_secret, METHOD + URI + body + timestamp))`` in ``X-HubSpot-Signature-v3``,
  the timestamp in epoch **milliseconds** in ``X-HubSpot-Request-Timestamp``, refused when more than five
  minutes old. HubSpot signs the URI after decoding twelve ``%XX`` escapes (``%3A`` → ``:``, ...); the
  official SDK does not decode, so it disagrees with HubSpot on such URIs, and we follow HubSpot. The URI
  is the one HubSpot called, i.e. our configured public URL, never ``request.url`` (a proxy in front of
  us changes scheme, host or port).
- v1 (fallback, only when no v3 header came): ``sha256_hex(client_secret + body)``; v2 (workflow actions):
  ``sha256_hex(client_secret + METHOD + URI + body)``.

A v3 signature that does not match is refused outright: falling back to v1 would let an old captured
delivery be replayed with a forged v3 header.

Events (§1.2): the body is a JSON array of flat objects. Both ``subscriptionType`` (what deliveries carry)
and ``eventType`` (what the docs' table names) are accepted. Events are hints (late, repeated, out of
order); ``dedupe_key`` identifies one notification across redeliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from interlink.connectors.hubspot.schemas import object_type_name
from interlink.kit.time import from_epoch_millis

MAX_SIGNATURE_AGE_SECONDS = 300
SIGNATURE_V3_HEADER = "x-hubspot-signature-v3"
SIGNATURE_HEADER = "x-hubspot-signature"
SIGNATURE_VERSION_HEADER = "x-hubspot-signature-version"
TIMESTAMP_HEADER = "x-hubspot-request-timestamp"

# The escapes HubSpot decodes before signing a v3 URI (VAL24); others (``%20``) stay as they are.
_V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_V3_ESCAPE = re.compile("|".join(_V3_DECODED), re.IGNORECASE)


class WebhookRejected(Exception):
    """A delivery we will not accept. ``http_status`` is what our endpoint should answer (400 or 401)."""

    http_status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SignatureInvalid(WebhookRejected):
    """Missing, stale or wrong signature: answer 401 and store nothing."""

    http_status = 401


class MalformedWebhook(WebhookRejected):
    """The body is not an array of HubSpot events: answer 400 with the reason."""


def decode_signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it for v3: the twelve documented escapes decoded, nothing else."""
    return _V3_ESCAPE.sub(lambda match: _V3_DECODED[match.group(0).upper()], uri)


def signed_uri(public_base_url: str, path: str, query: str = "") -> str:
    """The URI HubSpot called: our configured public base URL, the request's path and query string."""
    uri = public_base_url.rstrip("/") + path
    return f"{uri}?{query}" if query else uri


def signature_v1(client_secret: str, body: bytes) -> str:
    return hashlib.sha256(client_secret.encode() + body).hexdigest()


def signature_v2(client_secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(client_secret.encode() + method.upper().encode() + uri.encode() + body).hexdigest()


def signature_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    message = method.upper().encode() + decode_signed_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


SignatureVersion = Literal["v1", "v2", "v3"]


def verify_signature(
    *,
    client_secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now: float | None = None,
    max_age_seconds: float = MAX_SIGNATURE_AGE_SECONDS,
    allow_v1: bool = True,
) -> SignatureVersion:
    """Check a delivery's signature; return the version that matched, or raise ``SignatureInvalid``.

    ``uri`` is the full URL HubSpot called (see ``signed_uri``); ``body`` the raw bytes as received.
    ``headers`` may be any mapping (names are matched case-insensitively).
    """
    if not client_secret:
        raise SignatureInvalid("no client secret is configured to verify HubSpot signatures")
    lowered = {name.lower(): value for name, value in headers.items()}
    v3 = lowered.get(SIGNATURE_V3_HEADER)
    if v3 is not None:
        timestamp = lowered.get(TIMESTAMP_HEADER)
        if not timestamp:
            raise SignatureInvalid(f"a v3 signature needs the {TIMESTAMP_HEADER} header")
        if not timestamp.strip().isdigit():
            raise SignatureInvalid(f"{TIMESTAMP_HEADER} is not epoch milliseconds: {timestamp[:40]!r}")
        age = (now if now is not None else time.time()) - int(timestamp) / 1000
        if age > max_age_seconds:
            raise SignatureInvalid(f"the signature timestamp is {age:.0f}s old (more than {max_age_seconds:.0f}s)")
        if age < -max_age_seconds:
            raise SignatureInvalid(f"the signature timestamp is {-age:.0f}s in the future")
        expected = signature_v3(client_secret, method, uri, body, timestamp.strip())
        if not hmac.compare_digest(expected.encode(), v3.strip().encode()):
            raise SignatureInvalid("the v3 signature does not match (wrong secret, altered body, or another URL)")
        return "v3"
    signature = lowered.get(SIGNATURE_HEADER)
    if signature is None:
        raise SignatureInvalid("no HubSpot signature headers (X-HubSpot-Signature-v3 or X-HubSpot-Signature)")
    version = (lowered.get(SIGNATURE_VERSION_HEADER) or "v1").strip().lower()
    if version == "v2":
        expected = signature_v2(client_secret, method, uri, body)
    elif version == "v1":
        if not allow_v1:
            raise SignatureInvalid("only v3 signatures are accepted here")
        expected = signature_v1(client_secret, body)
    else:
        raise SignatureInvalid(f"unknown signature version {version!r}")
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise SignatureInvalid(f"the {version} signature does not match (wrong secret or altered body)")
    return "v1" if version == "v1" else "v2"


# -- events --------------------------------------------------------------------------------------------------

_OBJECT_TYPE_IDS = {"0-1": "contacts", "0-2": "companies", "0-3": "deals", "0-5": "tickets"}


class WebhookEvent(BaseModel):
    """The fields every HubSpot webhook event has (ids as text, like the API's)."""

    model_config = ConfigDict(frozen=True)

    event_id: int
    subscription_id: int | None = None
    portal_id: int
    app_id: int | None = None
    occurred_at_ms: int
    subscription_type: str
    attempt_number: int = 0
    object_id: str | None = None
    object_type_id: str | None = None
    change_source: str | None = None
    source_id: str | None = None
    change_flag: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def occurred_at(self) -> datetime:
        return from_epoch_millis(self.occurred_at_ms)

    @property
    def object_type(self) -> str:
        """``contacts``/``companies``/``deals`` (or the subscription's own prefix for other objects)."""
        prefix = self.subscription_type.split(".", 1)[0]
        if prefix == "object" and self.object_type_id:
            return _OBJECT_TYPE_IDS.get(self.object_type_id, self.object_type_id)
        return object_type_name(prefix)

    @property
    def action(self) -> str:
        """``creation``, ``propertyChange``, ``deletion``, ``restore``, ``merge``, ``associationChange``..."""
        return self.subscription_type.split(".", 1)[-1]

    @property
    def dedupe_key(self) -> str:
        """One notification across redeliveries. ``eventId`` alone is not guaranteed unique (§1.4)."""
        parts = [
            str(self.portal_id),
            self.subscription_type,
            self.object_id or "",
            str(getattr(self, "property_name", "") or ""),
            str(self.occurred_at_ms),
            str(self.event_id),
        ]
        return ":".join(parts)

    def written_by_app(self, app_id: int | str) -> bool:
        """Whether the change came from an API write by the app ``app_id`` (an integration's ``sourceId``
        is its app id). A hint for echo suppression, never the only signal (DESIGN.md)."""
        return self.change_source in {"INTEGRATION", "API"} and self.source_id == str(app_id)


class CreationEvent(WebhookEvent):
    pass


class DeletionEvent(WebhookEvent):
    pass


class PrivacyDeletionEvent(WebhookEvent):
    pass


class RestoreEvent(WebhookEvent):
    pass


class PropertyChangeEvent(WebhookEvent):
    property_name: str
    property_value: str = ""  # the new value, as text; empty when cleared


class MergeEvent(WebhookEvent):
    primary_object_id: str | None = None
    merged_object_ids: list[str] = Field(default_factory=list)
    new_object_id: str | None = None
    number_of_properties_moved: int | None = None

    @property
    def surviving_id(self) -> str | None:
        """The id every merged id now resolves to (a new id for contacts and companies, §8)."""
        return self.new_object_id or self.primary_object_id or self.object_id


class AssociationChangeEvent(WebhookEvent):
    association_type: str | None = None
    from_object_id: str | None = None
    to_object_id: str | None = None
    association_removed: bool = False
    is_primary_association: bool = False


class OtherEvent(WebhookEvent):
    """A subscription type we do not read (conversations, tickets...): kept so the caller can ignore it."""


_EVENT_CLASSES: dict[str, type[WebhookEvent]] = {
    "creation": CreationEvent,
    "deletion": DeletionEvent,
    "privacyDeletion": PrivacyDeletionEvent,
    "restore": RestoreEvent,
    "propertyChange": PropertyChangeEvent,
    "merge": MergeEvent,
    "associationChange": AssociationChangeEvent,
}

_FIELDS = {
    "eventId": "event_id",
    "subscriptionId": "subscription_id",
    "portalId": "portal_id",
    "appId": "app_id",
    "occurredAt": "occurred_at_ms",
    "attemptNumber": "attempt_number",
    "objectId": "object_id",
    "objectTypeId": "object_type_id",
    "changeSource": "change_source",
    "sourceId": "source_id",
    "changeFlag": "change_flag",
    "propertyName": "property_name",
    "propertyValue": "property_value",
    "primaryObjectId": "primary_object_id",
    "mergedObjectIds": "merged_object_ids",
    "newObjectId": "new_object_id",
    "numberOfPropertiesMoved": "number_of_properties_moved",
    "associationType": "association_type",
    "fromObjectId": "from_object_id",
    "toObjectId": "to_object_id",
    "associationRemoved": "association_removed",
    "isPrimaryAssociation": "is_primary_association",
}
_ID_FIELDS = {"object_id", "primary_object_id", "new_object_id", "from_object_id", "to_object_id", "source_id"}


def _as_text(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value))
    return value


def parse_event(item: Any, *, position: int = 0) -> WebhookEvent:
    """One event object; raises ``MalformedWebhook`` naming the event and the problem."""
    if not isinstance(item, dict):
        raise MalformedWebhook(f"event {position} is not an object")
    subscription_type = item.get("subscriptionType") or item.get("eventType")
    if not isinstance(subscription_type, str) or not subscription_type:
        raise MalformedWebhook(f"event {position} has no subscriptionType (or eventType)")
    data: dict[str, Any] = {"subscription_type": subscription_type, "raw": item}
    for wire, name in _FIELDS.items():
        if wire in item and item[wire] is not None:
            value = item[wire]
            if name in _ID_FIELDS:
                value = _as_text(value)
            elif name == "merged_object_ids" and isinstance(value, list):
                value = [_as_text(entry) for entry in value]
            elif name == "property_value":
                value = "" if value is None else str(value)
            data[name] = value
    cls = _EVENT_CLASSES.get(subscription_type.split(".", 1)[-1], OtherEvent)
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()[:3]
        )
        raise MalformedWebhook(f"event {position} ({subscription_type}) is not valid: {problems}") from None


def parse_events(body: bytes | str) -> list[WebhookEvent]:
    """The typed events of one delivery, in delivery order (sort by ``occurred_at_ms`` to order them)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedWebhook(f"the body is not JSON: {exc}") from None
    if not isinstance(payload, list):
        raise MalformedWebhook(f"the body is a JSON {type(payload).__name__}, not an array of events")
    return [parse_event(item, position=position) for position, item in enumerate(payload)]
