"""Accord -> HubSpot deals: intake, links, property names and provisioning.

The push itself (the inbox handler) is in ``interlink.accord.handler``. Services flush; the caller (a request,
the CLI, the webhook's own transaction) commits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from interlink.accord import ledger
from interlink.accord.ledger import Entry
from interlink.accord.properties import (
    BY_KEY,
    DEFAULT_NAMES,
    GROUP_LABEL,
    GROUP_NAME,
    OBJECT_TYPE,
    PROPERTIES,
    AccordKey,
    names_with_defaults,
)
from interlink.accord.repository import AccordLinkRepo, AccordSettingsRepo
from interlink.accord.schemas import (
    GroupCheck,
    IntakeAck,
    PropertyCheck,
    PropertyNamesInput,
    PropertySettingsRead,
    ProvisionReport,
)
from interlink.connections.registry import connectors_for
from interlink.connections.repository import ConnectionRepo
from interlink.connections.service import credentials_of
from interlink.connectors.accord.credentials import AccordCredentials
from interlink.connectors.accord.envelope import (
    ACCORD_ID_PATTERN,
    MAX_BODY_BYTES,
    InvalidEnvelope,
    MalformedEnvelope,
    parse_envelope,
)
from interlink.connectors.accord.signature import SignatureRejected, verify_signature
from interlink.connectors.errors import ConnectorError
from interlink.connectors.hubspot.client import HubSpotClient
from interlink.connectors.hubspot.errors import HubSpotInvalidRequest, HubSpotNotFound, HubSpotPropertyMismatch
from interlink.connectors.hubspot.schemas import PropertyDefinition
from interlink.db import Database
from interlink.errors import BadRequest, Conflict, InterlinkError, NotFound, Unauthorized, ValidationFailed
from interlink.inbox.service import NewEvent, accept_events
from interlink.kit.crypto import CredentialCipher
from interlink.kit.time import utc_now
from interlink.metrics import EVENTS_DUPLICATE, EVENTS_RECEIVED
from interlink.models import AccordLink
from interlink.workspaces.repository import WorkspaceRepo

log = logging.getLogger(__name__)

SOURCE = "accord"  # the inbox source, and the connection's system
EVENT_OBJECT_TYPE = "accord"
PUSH_KIND = "interlink.push"  # an inbox event asking to push the stored snapshot (after a relink, or by hand)

FLAG_DEAL_MISMATCH = "deal_mismatch"
FLAG_DEAL_TAKEN = "deal_taken"
FLAG_DEAL_MISSING = "deal_missing"


class PayloadTooLarge(InterlinkError):
    status_code = 413
    code = "payload_too_large"


class HubSpotUnavailable(InterlinkError):
    """HubSpot could not be reached or refused us; the message says which."""

    status_code = 502
    code = "upstream_error"


# -- HubSpot -------------------------------------------------------------------------------------------------


def hubspot_client(db: Database, session: Session, workspace_id: uuid.UUID) -> HubSpotClient:
    """The workspace's HubSpot client (pooled HTTP and shared rate budgets come from the process registry)."""
    connection = ConnectionRepo(session, workspace_id).get_by_system("hubspot")
    if connection is None:
        message = "this workspace has no HubSpot connection; connect HubSpot first (PUT /api/v1/connections/hubspot)"
        raise ValidationFailed(message, details=[{"field": "hubspot", "message": message}])
    return connectors_for(db).hubspot(connection)


def _unavailable(what: str, exc: ConnectorError) -> HubSpotUnavailable:
    return HubSpotUnavailable(f"could not {what}: HubSpot answered {exc}")


# -- intake --------------------------------------------------------------------------------------------------


def accept_webhook(
    db: Database,
    cipher: CredentialCipher,
    *,
    slug: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime | None = None,
) -> IntakeAck:
    """Verify one signed Accord event, check it, and store it in the inbox (the push happens after commit).

    401 for anything about the signature or its timestamp, 400 for a body that is not JSON, 422 naming the
    field for a value that cannot be accepted. Nothing is stored unless the event is accepted.
    """
    now = now or utc_now()
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"an Accord event is at most {MAX_BODY_BYTES // 1024} KiB")
    with db.transaction() as session:
        workspace = WorkspaceRepo(session).get_by_slug(slug)
        if workspace is None:
            raise NotFound(f"no workspace {slug!r}")
        connection = ConnectionRepo(session, workspace.id).get_by_system(SOURCE)
        credentials = credentials_of(connection, cipher, AccordCredentials) if connection is not None else None
        if credentials is None or credentials.signing_secret is None:
            raise Unauthorized(
                "this workspace has no Accord signing secret, so no event can be verified; set one with "
                "PUT /api/v1/connections/accord"
            )
        try:
            verify_signature(
                credentials.signing_secret.get_secret_value(), body=body, headers=headers, now=now.timestamp()
            )
        except SignatureRejected as exc:
            raise Unauthorized(f"Accord signature rejected: {exc.reason}") from None
        try:
            envelope = parse_envelope(body, now=now)
        except MalformedEnvelope as exc:
            raise BadRequest(exc.reason) from None
        except InvalidEnvelope as exc:
            raise ValidationFailed(str(exc), details=exc.problems) from None
        accord = envelope.accord
        links = AccordLinkRepo(session, workspace.id)
        link = links.by_accord(accord.id)
        if link is None and accord.hubspot_deal_id is None:
            message = f"is required: Accord {accord.id} is not linked to a HubSpot deal yet"
            raise ValidationFailed(
                f"accord.hubspot_deal_id: {message}",
                details=[{"field": "accord.hubspot_deal_id", "message": message, "type": "missing"}],
            )
        result = accept_events(
            session,
            workspace.id,
            SOURCE,
            [
                NewEvent(
                    kind=envelope.trigger.value,
                    dedupe_key=envelope.event_id,
                    payload=envelope.model_dump(mode="json"),
                    object_type=EVENT_OBJECT_TYPE,
                    object_id=accord.id,
                    occurred_at=envelope.occurred_at,
                )
            ],
        )
        if result.accepted and link is None and accord.hubspot_deal_id is not None:
            link_from_event(session, workspace.id, accord.id, accord.hubspot_deal_id, event_ids=result.event_ids)
    EVENTS_RECEIVED.labels(source=SOURCE).inc(result.accepted)
    EVENTS_DUPLICATE.labels(source=SOURCE).inc(result.duplicates)
    return IntakeAck(
        status="accepted" if result.accepted else "duplicate", event_id=envelope.event_id, accord_id=accord.id
    )


# -- links ---------------------------------------------------------------------------------------------------


def insert_link(session: Session, link: AccordLink) -> AccordLink | None:
    """Insert, or None when a unique key (the Accord, or the deal) was taken meanwhile by another request."""
    try:
        with session.begin_nested():
            session.add(link)
    except IntegrityError:
        return None
    return link


def flag(link: AccordLink, reason: str, detail: str, *, requested_deal_id: str | None = None) -> None:
    link.flagged = True
    link.flag_reason = reason
    link.flag_detail = detail
    link.flagged_at = utc_now()
    link.requested_deal_id = requested_deal_id


def unflag(link: AccordLink) -> None:
    link.flagged = False
    link.flag_reason = None
    link.flag_detail = None
    link.flagged_at = None
    link.requested_deal_id = None


def taken_detail(deal_id: str, holder: str | None) -> str:
    return (
        f"Accord asks for deal {deal_id}, which is already linked to Accord {holder or '(another)'}; a deal takes "
        "one Accord. Unlink the other Accord, or link this one to another deal (PUT /api/v1/accord/links/…)"
    )


def link_from_event(
    session: Session, workspace_id: uuid.UUID, accord_id: str, deal_id: str, *, event_ids: Sequence[int]
) -> AccordLink:
    """The link of an Accord seen for the first time, to the deal its event names, or flagged when that deal
    already has an Accord. Safe against a concurrent request doing the same (unique keys decide)."""
    links = AccordLinkRepo(session, workspace_id)
    holder = links.by_deal(deal_id)
    if holder is None:
        created = insert_link(
            session, AccordLink(workspace_id=workspace_id, accord_id=accord_id, deal_id=deal_id, linked_by="event")
        )
        if created is not None:
            ledger.record(
                session,
                workspace_id,
                [Entry("accord_linked", accord_id, deal_id, event_ids, reason="linked from the Accord's event")],
            )
            return created
        existing = links.by_accord(accord_id)
        if existing is not None:
            return existing
        holder = links.by_deal(deal_id)
    link = AccordLink(workspace_id=workspace_id, accord_id=accord_id, deal_id=None, linked_by="event")
    detail = taken_detail(deal_id, holder.accord_id if holder else None)
    flag(link, FLAG_DEAL_TAKEN, detail, requested_deal_id=deal_id)
    created = insert_link(session, link)
    if created is None:
        existing = links.by_accord(accord_id)
        if existing is None:  # pragma: no cover - the only other unique key is the deal, which is empty here
            raise Conflict(f"could not link Accord {accord_id}; try again")
        return existing
    ledger.record(session, workspace_id, [Entry("accord_flagged", accord_id, deal_id, event_ids, reason=detail)])
    return created


def get_link(session: Session, workspace_id: uuid.UUID, accord_id: str) -> AccordLink:
    link = AccordLinkRepo(session, workspace_id).by_accord(accord_id)
    if link is None:
        raise NotFound(f"Accord {accord_id} is not linked")
    return link


def list_links(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    flagged: bool | None,
    deal_id: str | None,
    after_accord_id: str | None,
    limit: int,
) -> Sequence[AccordLink]:
    return AccordLinkRepo(session, workspace_id).list(
        flagged=flagged, deal_id=deal_id, after_accord_id=after_accord_id, limit=limit
    )


def _check_accord_id(accord_id: str) -> None:
    if not ACCORD_ID_PATTERN.match(accord_id):
        message = "must be letters, digits and . _ : - (at most 60)"
        raise ValidationFailed(f"accord_id: {message}", details=[{"field": "accord_id", "message": message}])


def _live_deal_id(client: HubSpotClient, deal_id: str) -> str:
    """The deal's id as HubSpot has it now (a merged-away id answers with the deal it was merged into)."""
    try:
        deal = client.deals.get(deal_id, properties=["dealname"])
    except HubSpotNotFound:
        message = f"HubSpot has no deal {deal_id}"
        raise ValidationFailed(f"deal_id: {message}", details=[{"field": "deal_id", "message": message}]) from None
    except ConnectorError as exc:
        raise _unavailable(f"check deal {deal_id}", exc) from exc
    return deal.id


def link_to_deal(
    db: Database, session: Session, workspace_id: uuid.UUID, accord_id: str, deal_id: str
) -> tuple[AccordLink, bool]:
    """Link an Accord to a deal, or move it to another one: the explicit way to relink, and how a flagged
    link is resolved. The deal must exist in HubSpot and have no other Accord. Returns the link and whether
    a push of the Accord's latest data was queued."""
    _check_accord_id(accord_id)
    deal_id = _live_deal_id(hubspot_client(db, session, workspace_id), deal_id)
    links = AccordLinkRepo(session, workspace_id)
    holder = links.by_deal(deal_id)
    if holder is not None and holder.accord_id != accord_id:
        raise Conflict(
            f"deal {deal_id} is already linked to Accord {holder.accord_id}; unlink that Accord first",
            details={"field": "deal_id", "accord_id": holder.accord_id},
        )
    link = links.by_accord(accord_id)
    if link is None:
        link = insert_link(
            session, AccordLink(workspace_id=workspace_id, accord_id=accord_id, deal_id=deal_id, linked_by="api")
        )
        if link is None:
            raise Conflict(f"Accord {accord_id} or deal {deal_id} was linked by another request; try again")
        ledger.record(
            session, workspace_id, [Entry("accord_linked", accord_id, deal_id, reason="linked through the API")]
        )
        return link, False
    if link.deal_id == deal_id and not link.flagged:
        return link, False
    previous, was = link.deal_id, link.flag_detail
    if previous != deal_id:
        link.pushed = {}  # nothing of ours is on the new deal yet
    link.deal_id = deal_id
    link.linked_by = "api"
    unflag(link)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"deal {deal_id} was linked to another Accord meanwhile", details={"field": "deal_id"}) from None
    reason = (
        f"relinked through the API from deal {previous}"
        if previous and previous != deal_id
        else "linked through the API"
    )
    ledger.record(
        session,
        workspace_id,
        [
            Entry(
                "accord_relinked",
                accord_id,
                deal_id,
                old_value=previous,
                new_value=deal_id,
                reason=reason + (f"; resolves: {was}" if was else ""),
            )
        ],
    )
    return link, queue_push(session, workspace_id, link, force=False)


def unlink(session: Session, workspace_id: uuid.UUID, accord_id: str) -> AccordLink:
    """Stop pushing this Accord. The deal keeps its values. If Accord keeps naming a deal in its events, the
    next event links the Accord again (the event is Accord's word on which deal it belongs to)."""
    link = get_link(session, workspace_id, accord_id)
    ledger.record(
        session, workspace_id, [Entry("accord_unlinked", accord_id, link.deal_id, reason="unlinked through the API")]
    )
    AccordLinkRepo(session, workspace_id).delete(link)
    return link


def queue_push(session: Session, workspace_id: uuid.UUID, link: AccordLink, *, force: bool) -> bool:
    """Ask the worker to push the link's latest data (``force``: every property, changed or not)."""
    if not link.snapshot:
        return False
    accept_events(
        session,
        workspace_id,
        SOURCE,
        [
            NewEvent(
                kind=PUSH_KIND,
                dedupe_key=f"push:{uuid.uuid4().hex}",
                payload={"accord_id": link.accord_id, "force": force},
                object_type=EVENT_OBJECT_TYPE,
                object_id=link.accord_id,
            )
        ],
    )
    return True


def request_push(session: Session, workspace_id: uuid.UUID, accord_id: str, *, force: bool) -> tuple[AccordLink, bool]:
    link = get_link(session, workspace_id, accord_id)
    return link, queue_push(session, workspace_id, link, force=force)


# -- property names ------------------------------------------------------------------------------------------


def property_names(session: Session, workspace_id: uuid.UUID) -> dict[str, str]:
    settings = AccordSettingsRepo(session, workspace_id).get()
    return names_with_defaults(settings.property_names if settings else None)


def property_settings(session: Session, workspace_id: uuid.UUID) -> PropertySettingsRead:
    settings = AccordSettingsRepo(session, workspace_id).get()
    report = settings.provision_report if settings else None
    return PropertySettingsRead(
        names=names_with_defaults(settings.property_names if settings else None),
        defaults=dict(DEFAULT_NAMES),
        group=GROUP_NAME,
        provisioned_at=settings.provisioned_at if settings else None,
        last_provision=ProvisionReport.model_validate(report) if report else None,
    )


def _fits(key: AccordKey, definition: PropertyDefinition) -> str | None:
    """Why this deal property cannot hold the key's values, or None when it can."""
    if definition.read_only:
        return f"deal property {definition.name!r} is read-only in HubSpot"
    wanted = BY_KEY[key].type
    accepted = {"number", "string"} if wanted == "number" else {"string"}
    if definition.type not in accepted:
        return (
            f"deal property {definition.name!r} is a {definition.type} property ({definition.field_type}); "
            f"{key.value} needs a {'number or text' if wanted == 'number' else 'text'} property"
        )
    return None


def save_property_names(
    db: Database, session: Session, workspace_id: uuid.UUID, wanted: PropertyNamesInput
) -> PropertySettingsRead:
    """Set the internal names the seven values are pushed to. Each must be an existing, writable deal property
    of a fitting type in the live HubSpot schema, and no two keys may share one; otherwise 422 naming the key."""
    names = names_with_defaults(wanted.model_dump(exclude_none=True))
    problems: list[dict[str, str]] = []
    seen: dict[str, str] = {}
    for key, name in names.items():
        if name in seen:
            problems.append({"field": key, "message": f"{name!r} is already used for {seen[name]}"})
        seen.setdefault(name, key)
    if not problems:
        try:
            live = {
                item.name: item for item in hubspot_client(db, session, workspace_id).properties.get_all(OBJECT_TYPE)
            }
        except ConnectorError as exc:
            raise _unavailable("read HubSpot's deal properties", exc) from exc
        for key, name in names.items():
            definition = live.get(name)
            if definition is None:
                problems.append(
                    {
                        "field": key,
                        "message": f"deal property {name!r} does not exist in HubSpot (create it, run provisioning, "
                        "or name an existing one)",
                    }
                )
                continue
            why = _fits(AccordKey(key), definition)
            if why:
                problems.append({"field": key, "message": why})
    if problems:
        summary = "; ".join(f"{problem['field']}: {problem['message']}" for problem in problems)
        raise ValidationFailed(summary, details=problems)
    settings = AccordSettingsRepo(session, workspace_id).get_or_create()
    settings.property_names = {key: name for key, name in names.items() if name != DEFAULT_NAMES[key]}
    session.flush()
    return property_settings(session, workspace_id)


# -- provisioning --------------------------------------------------------------------------------------------


def _pairs(differences: Mapping[str, tuple[object, object]]) -> dict[str, list[object]]:
    return {name: [have, want] for name, (have, want) in differences.items()}


def provision(db: Database, session: Session, workspace_id: uuid.UUID) -> ProvisionReport:
    """Make sure the deal property group and the seven properties exist, under the workspace's names.

    Idempotent: what exists is left alone (a different label or group is reported as cosmetic). A property of
    the same name that cannot hold the values (another type, read-only) is reported as a clash, never changed.
    """
    client = hubspot_client(db, session, workspace_id)
    names = property_names(session, workspace_id)
    try:
        try:
            ensured = client.properties.ensure_property_group(OBJECT_TYPE, GROUP_NAME, GROUP_LABEL)
            group = GroupCheck(
                name=GROUP_NAME,
                label=GROUP_LABEL,
                status="created" if ensured.created else "exists",
                cosmetic=_pairs(ensured.cosmetic),
            )
        except HubSpotPropertyMismatch as exc:
            group = GroupCheck(name=GROUP_NAME, label=GROUP_LABEL, status="clash", message=str(exc))
        checks = [
            _ensure_property(client, prop.key, names[prop.key.value], index) for index, prop in enumerate(PROPERTIES)
        ]
    except ConnectorError as exc:
        raise _unavailable("provision the Accord deal properties", exc) from exc
    report = ProvisionReport(group=group, properties=checks, provisioned_at=utc_now())
    settings = AccordSettingsRepo(session, workspace_id).get_or_create()
    settings.provision_report = report.model_dump(mode="json")
    settings.provisioned_at = report.provisioned_at
    session.flush()
    created = [check.name for check in checks if check.status == "created"]
    ledger.record(
        session,
        workspace_id,
        [
            Entry(
                "accord_provisioned",
                None,
                None,
                reason=(
                    f"group {group.status}; {len(created)} propert{'y' if len(created) == 1 else 'ies'} created; "
                    f"{len(report.problems)} problem(s)"
                ),
                details={"created": created, "problems": [check.name for check in report.problems]},
            )
        ],
    )
    return report


def _ensure_property(client: HubSpotClient, key: AccordKey, name: str, display_order: int) -> PropertyCheck:
    prop = BY_KEY[key]
    spec = prop.spec(name, display_order)
    base = {"key": key.value, "name": name, "label": prop.label, "type": prop.type, "field_type": prop.field_type}
    try:
        ensured = client.properties.ensure_property(OBJECT_TYPE, spec)
    except HubSpotPropertyMismatch as exc:
        return PropertyCheck(**base, status="clash", message=str(exc), differences=_pairs(exc.differences))
    except HubSpotInvalidRequest as exc:
        return PropertyCheck(**base, status="error", message=f"HubSpot refused to create it: {exc}")
    return PropertyCheck(**base, status="created" if ensured.created else "exists", cosmetic=_pairs(ensured.cosmetic))
