"""Webhook intake: verify, store in the inbox, answer. No vendor API is called inside a webhook request.

A 2xx means the events are durably stored (the transaction commits before the response); a redelivery is
acknowledged and dropped. A bad signature is a 401 and a malformed body a 400 with the reason; neither is
stored.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from interlink.connections.repository import AccountLookup, ConnectionRepo
from interlink.connections.service import credentials_of
from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.accelo.webhooks import AcceloWebhookRejected, read_webhook
from interlink.connectors.hubspot.credentials import HubSpotCredentials
from interlink.connectors.hubspot.webhooks import (
    MalformedWebhook,
    SignatureInvalid,
    WebhookEvent,
    parse_events,
    signed_uri,
    verify_signature,
)
from interlink.db import Database
from interlink.errors import BadRequest, NotFound, Unauthorized
from interlink.inbox.service import NewEvent, accept_events
from interlink.kit.crypto import CredentialCipher
from interlink.metrics import EVENTS_DUPLICATE, EVENTS_RECEIVED
from interlink.workspaces.repository import WorkspaceRepo

router = APIRouter()

SYNCED = {"contacts": "contact", "companies": "company"}
# Events that only say "this record changed": safe to coalesce while one is already waiting.
HINT_ACTIONS = {"propertyChange", "creation", "restore"}


class IntakeResult(BaseModel):
    accepted: int
    duplicates: int
    ignored: int


def _hubspot_new_event(event: WebhookEvent) -> NewEvent | None:
    object_type = SYNCED.get(event.object_type)
    if object_type is None:
        return None
    return NewEvent(
        kind=event.subscription_type,
        dedupe_key=event.dedupe_key,
        payload=event.raw,
        object_type=object_type,
        object_id=event.object_id,
        occurred_at=event.occurred_at,
        coalescible=event.action in HINT_ACTIONS,
    )


def accept_hubspot(
    db: Database,
    cipher: CredentialCipher,
    public_base_url: str,
    *,
    path: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
) -> IntakeResult:
    try:
        events = parse_events(body)
    except MalformedWebhook as exc:
        raise BadRequest(f"not a HubSpot webhook delivery: {exc.reason}") from None
    portals = sorted({event.portal_id for event in events})
    if not portals:  # HubSpot never sends an empty delivery, and without a portal no signature can be checked
        raise BadRequest("not a HubSpot webhook delivery: it holds no events")
    with db.transaction() as session:
        lookup = AccountLookup(session)
        connections = {portal: lookup.by_account("hubspot", str(portal)) for portal in portals}
        known = {portal: c for portal, c in connections.items() if c is not None}
        if not known:
            raise Unauthorized(f"no workspace is connected to HubSpot account {portals[0]}")
        # All portals of one delivery belong to one HubSpot app, which signs with its client secret.
        credentials = credentials_of(next(iter(known.values())), cipher, HubSpotCredentials)
        secret = credentials.client_secret.get_secret_value() if credentials.client_secret else ""
        try:
            verify_signature(
                client_secret=secret,
                method="POST",
                uri=signed_uri(public_base_url, path, query),
                body=body,
                headers=headers,
            )
        except SignatureInvalid as exc:
            raise Unauthorized(f"HubSpot signature rejected: {exc.reason}") from None
        by_workspace: dict[uuid.UUID, list[NewEvent]] = defaultdict(list)
        ignored = 0
        for event in events:
            connection = known.get(event.portal_id)
            new = _hubspot_new_event(event) if connection is not None else None
            if new is None or connection is None:
                ignored += 1
                continue
            by_workspace[connection.workspace_id].append(new)
        accepted = duplicates = 0
        for workspace_id, new_events in by_workspace.items():
            result = accept_events(session, workspace_id, "hubspot", new_events)
            accepted, duplicates = accepted + result.accepted, duplicates + result.duplicates
    EVENTS_RECEIVED.labels(source="hubspot").inc(accepted)
    EVENTS_DUPLICATE.labels(source="hubspot").inc(duplicates)
    return IntakeResult(accepted=accepted, duplicates=duplicates, ignored=ignored)


@router.post("/hubspot", summary="HubSpot webhook deliveries (the workspace is found by portalId)")
async def hubspot_webhook(request: Request) -> IntakeResult:
    body = await request.body()
    app = request.app
    return await run_in_threadpool(
        accept_hubspot,
        app.state.db,
        app.state.cipher,
        app.state.settings.public_base_url,
        path=request.url.path,
        query=request.url.query,
        body=body,
        headers=dict(request.headers),
    )


def accept_accelo(
    db: Database, cipher: CredentialCipher, workspace_slug: str, *, body: bytes, headers: dict[str, str]
) -> IntakeResult:
    with db.transaction() as session:
        workspace = WorkspaceRepo(session).get_by_slug(workspace_slug)
        connection = ConnectionRepo(session, workspace.id).get_by_system("accelo") if workspace else None
        if workspace is None or connection is None:
            raise NotFound(f"no workspace {workspace_slug!r} with an Accelo connection")
        credentials = credentials_of(connection, cipher, AcceloCredentials)
        secret = credentials.webhook_secret.get_secret_value() if credentials.webhook_secret else None
        try:
            event = read_webhook(body, headers, secret=secret)
        except AcceloWebhookRejected as exc:
            error = Unauthorized if exc.status_code == 401 else BadRequest
            raise error(f"Accelo webhook rejected: {exc.reason}") from None
        if event.object_type not in SYNCED.values():
            return IntakeResult(accepted=0, duplicates=0, ignored=1)
        new = NewEvent(
            kind=event.event_id,
            # Accelo's deliveries carry no id or time, so a redelivery cannot be told from a new edit of the
            # record: each stored delivery gets a key of its own, and the hint's pending key (the record) drops
            # this one while an event about the record is still waiting (its worker re-reads anyway). Once
            # that one is claimed, a delivery is stored again: it may be an edit the re-read will miss.
            dedupe_key=f"{event.event_id}:{event.object_id}:{uuid.uuid4().hex}",
            payload={"id": str(event.object_id), "resource_url": event.resource_url},
            object_type=event.object_type,
            object_id=str(event.object_id),
            coalescible=True,
        )
        result = accept_events(session, workspace.id, "accelo", [new])
    EVENTS_RECEIVED.labels(source="accelo").inc(result.accepted)
    EVENTS_DUPLICATE.labels(source="accelo").inc(result.duplicates)
    return IntakeResult(accepted=result.accepted, duplicates=result.duplicates, ignored=0)


@router.post("/accelo/{workspace}", summary="Accelo webhook deliveries for one workspace")
async def accelo_webhook(workspace: str, request: Request) -> IntakeResult:
    body = await request.body()
    app = request.app
    return await run_in_threadpool(
        accept_accelo, app.state.db, app.state.cipher, workspace, body=body, headers=dict(request.headers)
    )
