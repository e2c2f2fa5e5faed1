"""The HubSpot simulator's controller: its state, and what tests, demos and benchmarks do to it from Python.

    simulator = HubSpotSimulator(webhook_urls=["http://127.0.0.1:8000/webhooks/hubspot"])
    ids = simulator.seed("contacts", [{"email": "ada@example.com", "firstname": "Ada"}])
    simulator.update_as_user("contacts", ids[0], {"lifecyclestage": "customer"})  # fires webhooks like a UI edit
    simulator.calls.count(route="/crm/v3/objects/{object_type}/batch/read")    # API calls made so far

The same operations are exposed over HTTP under ``/_sim`` (see ``control.py``). State lives in memory and,
with ``state_file``, is saved as JSON (on change, at most every ``autosave_seconds``, and on close) and
loaded on start.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from interlink.simulators.base import CallLog
from interlink.simulators.hubspot.crm import Change, Crm, Record, Source, object_type_of
from interlink.simulators.hubspot.faults import Fault, Faults
from interlink.simulators.hubspot.limits import (
    TEN_SECONDLY_MESSAGE,
    RateLimiter,
    RateLimitSettings,
    rate_limited,
)
from interlink.simulators.hubspot.oauth import (
    ALL_SCOPES,
    DEFAULT_APP_ID,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    Auth,
    OAuthClient,
)
from interlink.simulators.hubspot.schema import Owner, parse_datetime_ms
from interlink.simulators.hubspot.search import SearchEngine
from interlink.simulators.hubspot.webhooks import DEFAULT_RETRY_DELAYS, WebhookEmitter, WebhookSettings
from interlink.simulators.hubspot.wire import SimError, not_found, validation_error

log = logging.getLogger(__name__)

DEFAULT_PORTAL_ID = 1234567
DEFAULT_USER_ID = 9001  # the default owner "Ada Admin"


def _millis(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    parsed = parse_datetime_ms(str(value))
    if parsed is None:
        raise validation_error(f"{value!r} is not a timestamp (epoch ms or ISO-8601)")
    return parsed


class HubSpotSimulator:
    def __init__(
        self,
        *,
        state_file: Path | None = None,
        webhook_urls: Sequence[str] = (),
        portal_id: int = DEFAULT_PORTAL_ID,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        app_id: int = DEFAULT_APP_ID,
        private_app_tokens: Mapping[str, int] | None = None,
        rate_limits: RateLimitSettings | None = None,
        webhook_retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        webhook_timeout: float = 5.0,
        webhook_client_for: Callable[[str], httpx.Client] | None = None,
        access_token_ttl: int = 1800,
        clock: Callable[[], float] = time.time,
        autosave_seconds: float = 2.0,
    ) -> None:
        self.lock = threading.RLock()
        self.portal_id = portal_id
        self.clock = clock
        self.calls = CallLog()
        self.faults = Faults()
        self.limits = RateLimiter(rate_limits)
        self.auth = Auth(
            portal_id=portal_id,
            clock=clock,
            access_token_ttl=access_token_ttl,
            private_app_tokens=dict(private_app_tokens) if private_app_tokens is not None else None,
            clients=[OAuthClient(client_id, client_secret, app_id)],
        )
        self.webhooks = WebhookEmitter(
            WebhookSettings(
                urls=list(webhook_urls),
                client_secret=client_secret,
                app_id=app_id,
                portal_id=portal_id,
                retry_delays=list(webhook_retry_delays),
                timeout=webhook_timeout,
            ),
            client_for=webhook_client_for,
            clock=clock,
        )
        self.crm = Crm(clock)
        self.search = SearchEngine(self.crm)
        self.state_file = Path(state_file) if state_file else None
        self._dirty = False
        self._closed = threading.Event()
        self._autosave: threading.Thread | None = None
        if self.state_file is not None:
            if self.state_file.exists():
                self.load(self.state_file)
            self._autosave = threading.Thread(
                target=self._autosave_loop, args=(autosave_seconds,), name="hubspot-sim-autosave", daemon=True
            )
            self._autosave.start()

    # -- bookkeeping -----------------------------------------------------------------------------------------

    def commit(self, changes: list[Change]) -> None:
        """A write finished: send its webhooks and remember to save."""
        self._dirty = True
        self.webhooks.emit(changes)

    def mark_dirty(self) -> None:
        self._dirty = True

    def reset(self) -> None:
        """Back to a fresh account: no records, default properties, no calls counted, no pending webhooks."""
        with self.lock:
            self.crm.reset()
            self.auth.reset()
            self.faults.clear()
            self.limits.reset()
            self.calls.reset()
            self.webhooks.clear()
            self._dirty = True

    def close(self) -> None:
        """Stop delivering webhooks and save the state (if persisted)."""
        self._closed.set()
        self.webhooks.close()
        if self._autosave is not None:
            self._autosave.join(5)
        if self.state_file is not None:
            self.save()

    # -- persistence -----------------------------------------------------------------------------------------

    def save(self, path: Path | None = None) -> Path:
        target = Path(path or self.state_file or "hubspot-simulator.json")
        with self.lock:
            state = {"version": 1, "crm": self.crm.to_state(), "auth": self.auth.to_state()}
            self._dirty = False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w") as stream:
            json.dump(state, stream, separators=(",", ":"))
        os.replace(temporary, target)
        return target

    def load(self, path: Path) -> None:
        state = json.loads(Path(path).read_text())
        with self.lock:
            self.crm.load_state(state.get("crm", {}))
            self.auth.load_state(state.get("auth", {}))
            self._dirty = False

    def _autosave_loop(self, interval: float) -> None:
        while not self._closed.wait(interval):
            if self._dirty:
                try:
                    self.save()
                except OSError:
                    log.exception("could not save the HubSpot simulator's state to %s", self.state_file)

    # -- records ---------------------------------------------------------------------------------------------

    def seed(self, object_type: str, records: Iterable[Mapping[str, Any]], *, emit_webhooks: bool = False) -> list[str]:
        """Add records as an import would (``changeSource: IMPORT``); returns their ids.

        Each item is either a mapping of properties, or ``{"properties": {...}, "id": ..., "createdAt": ...,
        "updatedAt": ..., "archived": bool}`` (timestamps as epoch ms or ISO-8601). Values are checked like
        API writes, except that any ``lifecyclestage`` may be set.
        """
        kind = object_type_of(object_type)
        source = Source.imported()
        changes: list[Change] | None = [] if emit_webhooks else None
        ids: list[str] = []
        with self.lock:
            for item in records:
                if "properties" in item and isinstance(item["properties"], Mapping):
                    values = dict(item["properties"])
                    created = _millis(item.get("createdAt"))
                    updated = _millis(item.get("updatedAt"))
                    wanted_id = int(item["id"]) if item.get("id") is not None else None
                    archived = bool(item.get("archived", False))
                else:
                    values, created, updated, wanted_id, archived = dict(item), None, None, None, False
                record = self.crm.create(
                    kind,
                    values,
                    source,
                    created_ms=created,
                    updated_ms=updated if updated is not None else created,
                    record_id=wanted_id,
                    changes=changes,
                )
                if archived:
                    self.crm.archive(record, source, changes=changes)
                ids.append(str(record.id))
            self.commit(changes or [])
        return ids

    def record(
        self,
        object_type: str,
        object_id: str | int,
        *,
        properties: Sequence[str] | None = None,
        history: Sequence[str] | None = None,
        archived: bool = False,
    ) -> dict[str, Any] | None:
        """A record as the API would return it (merged-away ids resolve), or None."""
        with self.lock:
            record = self.crm.resolve(object_type_of(object_type), str(object_id), archived=archived)
            if record is None:
                return None
            names = list(properties) if properties is not None else self.crm.set_names(record)
            return self.crm.record_wire(record, properties=names or None, history=list(history or []) or None)

    def count(self, object_type: str, *, archived: bool = False) -> int:
        kind = object_type_of(object_type)
        with self.lock:
            return len(self.crm.archived_ids[kind] if archived else self.crm.live_ids[kind])

    def find_by_email(self, email: str) -> dict[str, Any] | None:
        with self.lock:
            record = self.crm.resolve("contacts", email, id_property="email")
            return None if record is None else self.crm.record_wire(record, properties=self.crm.set_names(record))

    def _require(self, object_type: str, object_id: str | int, *, archived: bool = False) -> Record:
        record = self.crm.resolve(object_type_of(object_type), str(object_id), archived=archived)
        if record is None:
            raise not_found(f"{object_type} {object_id} not found")
        return record

    # -- edits made by a person in HubSpot's UI (they fire webhooks with changeSource CRM_UI) ----------------

    def create_as_user(
        self, object_type: str, properties: Mapping[str, Any], *, user_id: int = DEFAULT_USER_ID
    ) -> dict[str, Any]:
        with self.lock:
            changes: list[Change] = []
            record = self.crm.create(object_type_of(object_type), dict(properties), Source.ui(user_id), changes=changes)
            self.commit(changes)
            return self.crm.record_wire(record, properties=self.crm.set_names(record))

    def update_as_user(
        self, object_type: str, object_id: str | int, properties: Mapping[str, Any], *, user_id: int = DEFAULT_USER_ID
    ) -> dict[str, Any]:
        with self.lock:
            record = self._require(object_type, object_id)
            changes: list[Change] = []
            self.crm.update(record, dict(properties), Source.ui(user_id), changes=changes)
            self.commit(changes)
            return self.crm.record_wire(record, properties=self.crm.set_names(record))

    def archive_as_user(self, object_type: str, object_id: str | int, *, user_id: int = DEFAULT_USER_ID) -> None:
        with self.lock:
            changes: list[Change] = []
            self.crm.archive(self._require(object_type, object_id), Source.ui(user_id), changes=changes)
            self.commit(changes)

    def restore_as_user(
        self, object_type: str, object_id: str | int, *, user_id: int = DEFAULT_USER_ID
    ) -> dict[str, Any]:
        with self.lock:
            record = self._require(object_type, object_id, archived=True)
            changes: list[Change] = []
            self.crm.restore(record, Source.ui(user_id), changes=changes)
            self.commit(changes)
            return self.crm.record_wire(record, properties=self.crm.set_names(record))

    def merge_as_user(
        self, object_type: str, primary_id: str | int, merged_id: str | int, *, user_id: int = DEFAULT_USER_ID
    ) -> dict[str, Any]:
        with self.lock:
            primary = self._require(object_type, primary_id)
            secondary = self._require(object_type, merged_id)
            changes: list[Change] = []
            record = self.crm.merge(primary, secondary, Source.ui(user_id), changes=changes)
            self.commit(changes)
            return self.crm.record_wire(record, properties=self.crm.set_names(record))

    def associate_as_user(
        self,
        from_type: str,
        from_id: str | int,
        to_type: str,
        to_id: str | int,
        *,
        type_ids: Iterable[int] = (),
        user_id: int = DEFAULT_USER_ID,
    ) -> None:
        with self.lock:
            origin = self._require(from_type, from_id)
            target = self._require(to_type, to_id)
            changes: list[Change] = []
            source = Source.ui(user_id)
            self.crm.associate(
                origin.object_type, origin.id, target.object_type, target.id, set(type_ids), source, changes=changes
            )
            self.commit(changes)

    def disassociate_as_user(
        self, from_type: str, from_id: str | int, to_type: str, to_id: str | int, *, user_id: int = DEFAULT_USER_ID
    ) -> None:
        with self.lock:
            origin = self._require(from_type, from_id)
            target = self._require(to_type, to_id)
            changes: list[Change] = []
            self.crm.disassociate(
                origin.object_type, origin.id, target.object_type, target.id, Source.ui(user_id), changes=changes
            )
            self.commit(changes)

    def associations_of(self, from_type: str, from_id: str | int, to_type: str) -> dict[str, list[int]]:
        """``{to_id: [type ids]}`` for one record (a quick look without an API call)."""
        with self.lock:
            origin = self._require(from_type, from_id)
            targets = self.crm.live_targets((origin.object_type, origin.id), object_type_of(to_type))
            return {str(to_id): sorted(kinds) for to_id, kinds in targets}

    # -- account data ----------------------------------------------------------------------------------------

    def add_owner(self, email: str, first_name: str, last_name: str, *, user_id: int | None = None) -> str:
        with self.lock:
            owner_id = str(max((int(owner) for owner in self.crm.owners), default=100) + 1)
            owner = Owner(owner_id, email, first_name, last_name, user_id or 9000 + int(owner_id), self.crm.now_ms())
            self.crm.owners[owner_id] = owner
            self.mark_dirty()
            return owner_id

    def add_private_app_token(
        self, token: str, *, app_id: int = DEFAULT_APP_ID, scopes: Iterable[str] = ALL_SCOPES
    ) -> None:
        self.auth.add_private_app_token(token, app_id=app_id, scopes=frozenset(scopes))

    def issue_authorization_code(
        self, redirect_uri: str, *, client_id: str = DEFAULT_CLIENT_ID, scopes: Iterable[str] = ALL_SCOPES
    ) -> str:
        """What an admin's consent on the authorize page would produce."""
        return self.auth.issue_code(client_id, redirect_uri, frozenset(scopes))

    def expire_access_token(self, token: str) -> None:
        self.auth.expire_access_token(token)

    def revoke_refresh_token(self, token: str) -> bool:
        """As uninstalling the app does: the refresh token and its access tokens stop working."""
        return self.auth.revoke_refresh_token(token)

    # -- behaviour switches ----------------------------------------------------------------------------------

    def configure_rate_limits(self, **settings: Any) -> RateLimitSettings:
        """``per_interval``, ``interval_ms``, ``daily``, ``search_per_second`` (None switches one off)."""
        return self.limits.configure(**settings)

    def configure_webhooks(self, **settings: Any) -> WebhookSettings:
        """``urls``, ``duplicate``, ``out_of_order``, ``retry_delays``, ``subscriptions``, ``properties``..."""
        return self.webhooks.configure(**settings)

    def inject_fault(
        self,
        route: str,
        *,
        status: int,
        body: bytes | str = b"",
        content_type: str = "application/json",
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        after_processing: bool = False,
    ) -> Fault:
        """Answer the next ``times`` calls to ``route`` (a route template or a literal path) with this; with
        ``after_processing``, carry each call out first (its answer is what gets lost)."""
        raw = body.encode() if isinstance(body, str) else body
        return self.faults.add(
            Fault(
                route=route,
                status=status,
                body=raw,
                content_type=content_type,
                method=method,
                times=times,
                headers=dict(headers or {}),
                delay=delay,
                after_processing=after_processing,
            )
        )

    def inject_rate_limit(
        self,
        route: str,
        *,
        method: str | None = None,
        times: int | None = 1,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Answer the next ``times`` calls to ``route`` with the 429 the ten-secondly limit gives (the same
        body the limiter sends), plus ``headers`` (a ``Retry-After``, or the rate-limit headers)."""
        error = rate_limited("TEN_SECONDLY_ROLLING", TEN_SECONDLY_MESSAGE, dict(headers or {}))
        return self.inject_fault(
            route, status=429, body=json.dumps(error.body()), method=method, times=times, headers=error.headers
        )

    def state_summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "portalId": self.portal_id,
                "records": {kind: len(ids) for kind, ids in self.crm.live_ids.items()},
                "archived": {kind: len(ids) for kind, ids in self.crm.archived_ids.items()},
                "merged": {kind: len(aliases) for kind, aliases in self.crm.aliases.items()},
                "calls": self.calls.count(),
                "webhooks": self.webhooks.report(),
                "rateLimits": self.limits.report(),
                "stateFile": str(self.state_file) if self.state_file else None,
            }


__all__ = ["HubSpotSimulator", "SimError"]
