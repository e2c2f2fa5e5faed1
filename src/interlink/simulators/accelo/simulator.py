"""The Accelo simulator's controller: the deployment's state and everything tests, demos and benchmarks do
to it from Python (the ``/_sim`` routes call the same methods).

"As a user would" methods (``user_*``) change records the way someone in Accelo's web app does: they may
touch fields the API cannot write, and they send exactly the webhooks Accelo would (creates and updates of
companies and contacts; nothing for affiliations, profile values or deletes).
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from interlink.simulators.accelo.oauth import Application, OAuthServer
from interlink.simulators.accelo.operations import PROFILE_TYPES, Operations
from interlink.simulators.accelo.query import ApiFault
from interlink.simulators.accelo.ratelimit import DeploymentRateLimit
from interlink.simulators.accelo.state import OBJECT_TYPES, STATUS_FIELD, AcceloState
from interlink.simulators.accelo.store import Clock, Row
from interlink.simulators.accelo.webhooks import EVENT_TYPES, FIRED_EVENTS, WebhookDispatch
from interlink.simulators.base import CallLog

log = logging.getLogger(__name__)

DEFAULT_DEPLOYMENT = "simulator"
DEFAULT_ACCESS_TOKEN = "accelo-simulator-token"  # noqa: S105 - a sandbox's well-known token
DEFAULT_WEBHOOK_SECRET = "accelo-simulator-webhook-secret"  # noqa: S105 - a sandbox's well-known secret
SERVICE_CLIENT_ID = "interlink-service@simulator.accelo.com"
SERVICE_CLIENT_SECRET = "accelo-simulator-service-secret"  # noqa: S105
WEB_CLIENT_ID = "interlink-web@simulator.accelo.com"
WEB_CLIENT_SECRET = "accelo-simulator-web-secret"  # noqa: S105
WEB_REDIRECT_URIS = ("http://127.0.0.1:8000/connections/accelo/callback",)


@dataclass
class Fault:
    """Answer matching requests with this instead of the real thing, ``times`` times."""

    path_pattern: str
    status: int = 500
    body: str = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    content_type: str = "text/html"
    method: str | None = None
    times: int = 1
    # Carry the request out, then answer with this: a write whose answer was lost on the way back.
    after_processing: bool = False


def _public(row: Row) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key not in ("password", "secret")}


class AcceloSimulator:
    def __init__(
        self,
        *,
        deployment: str = DEFAULT_DEPLOYMENT,
        state_file: Path | None = None,
        webhook_urls: Sequence[str] = (),
        webhook_secret: str = DEFAULT_WEBHOOK_SECRET,
        webhook_content_type: Literal["application/json", "application/x-www-form-urlencoded"] = (
            "application/x-www-form-urlencoded"
        ),
        webhook_retry_delays: Sequence[float] = (5.0, 30.0, 120.0),
        webhook_timeout: float = 10.0,
        webhook_signature: Literal["sha1", "sha256"] = "sha1",
        webhook_signature_prefixed: bool = False,
        max_consecutive_timeouts: int = 5,
        webhook_client_for: Callable[[str], httpx.Client] | None = None,
        rate_limit: int = 5000,
        rate_window_seconds: float = 3600.0,
        access_token: str | None = DEFAULT_ACCESS_TOKEN,
        token_lifetime: int = 2_592_000,
        public_url: str | None = None,
        latency_seconds: float = 0.0,
        autosave_seconds: float = 2.0,
    ) -> None:
        self.deployment = deployment
        self.state_file = state_file
        self.public_url = public_url
        self.latency_seconds = latency_seconds
        self.lock = threading.RLock()
        self.clock = Clock()
        self.state = AcceloState(self.clock)
        self.operations = Operations(self.state, self._emit)
        self.calls = CallLog()
        self.rate_limit = DeploymentRateLimit(rate_limit, rate_window_seconds)
        self.oauth = OAuthServer(deployment=deployment, clock=self._oauth_now, lifetime=token_lifetime)
        self.oauth.register(Application(SERVICE_CLIENT_ID, SERVICE_CLIENT_SECRET, "service"))
        self.oauth.register(Application(WEB_CLIENT_ID, WEB_CLIENT_SECRET, "web", list(WEB_REDIRECT_URIS)))
        if access_token:
            self.oauth.add_static_token(access_token)
        self._own_http: httpx.Client | None = None
        self.webhooks = WebhookDispatch(
            self.state,
            self.lock,
            resource_base_url=self.resource_base_url,
            client_for=webhook_client_for or self._default_client,
            retry_delays=webhook_retry_delays,
            timeout=webhook_timeout,
            signature=webhook_signature,
            signature_prefixed=webhook_signature_prefixed,
            max_consecutive_timeouts=max_consecutive_timeouts,
        )
        self.faults: list[Fault] = []
        self._dirty = False
        if state_file is not None and state_file.exists():
            self.load(state_file)
        else:
            self.state.install_defaults()
        for url in webhook_urls:
            self.subscribe_everything(url, secret=webhook_secret, content_type=webhook_content_type)
        self._stop_autosave = threading.Event()
        self._autosave: threading.Thread | None = None
        if state_file is not None and autosave_seconds > 0:
            self._autosave = threading.Thread(
                target=self._autosave_loop, args=(autosave_seconds,), name="accelo-simulator-autosave", daemon=True
            )
            self._autosave.start()

    # -- plumbing -------------------------------------------------------------------------------------------
    def _oauth_now(self) -> float:
        return time.time() + self.clock.offset

    def _default_client(self, _url: str) -> httpx.Client:
        if self._own_http is None:
            self._own_http = httpx.Client()
        return self._own_http

    def resource_base_url(self) -> str:
        return (self.public_url or f"https://{self.deployment}.api.accelo.com").rstrip("/")

    def _emit(self, event_id: str, _kind: str, record_id: int) -> None:
        self.webhooks.emit(event_id, record_id)

    def touch(self) -> None:
        self._dirty = True

    def close(self) -> None:
        """Stop delivering webhooks and save the state file (if any)."""
        self._stop_autosave.set()
        if self._autosave is not None:
            self._autosave.join(5)
        if self.state_file is not None:
            self.save()
        self.webhooks.close()
        if self._own_http is not None:
            self._own_http.close()

    # -- persistence ----------------------------------------------------------------------------------------
    def save(self, path: Path | None = None) -> None:
        target = path or self.state_file
        if target is None:
            raise ValueError("no state file to save to")
        with self.lock:
            data = {**self.state.dump(), "oauth": self.oauth.dump()}
            self._dirty = False
        _write_json(target, data)

    def load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        with self.lock:
            self.state.load(data)
            self.oauth.load(data.get("oauth", {}))

    def _autosave_loop(self, interval: float) -> None:
        while not self._stop_autosave.wait(interval):
            if self._dirty:
                try:
                    self.save()
                except OSError:
                    log.exception("could not save the Accelo simulator's state")

    # -- control ------------------------------------------------------------------------------------------
    def reset(self, *, defaults: bool = True) -> None:
        """Forget every record, call, delivery and spent request; keep the configuration."""
        self.webhooks.flush(5)
        with self.lock:
            urls = [dict(row) for row in self.state.subscriptions.rows.values()]
            self.state.clear()
            if defaults:
                self.state.install_defaults()
            for row in urls:  # subscriptions made at start-up (``webhook_urls``) survive a reset
                if row.get("configured"):
                    self.state.subscriptions.insert(row)
            self.calls.reset()
            self.rate_limit.reset()
            self.faults.clear()
            self.clock.offset = 0.0
            self.clock.thaw()
        self.webhooks.clear()
        self.touch()

    def summary(self) -> dict[str, Any]:
        with self.lock:
            counts = {name: len(table) for name, table in self.state.tables().items()}
        return {
            "deployment": self.deployment,
            "counts": counts,
            "rate_limit": self.rate_limit.stats(),
            "webhooks": {
                "subscriptions": counts["subscriptions"],
                "pending": self.webhooks.deliverer.pending(),
                "sent": len(self.webhooks.sent),
            },
            "calls": self.calls.count(),
            "clock_offset": self.clock.offset,
        }

    def issue_token(self, *, expires_in: int | None = None) -> str:
        return self.oauth.issue_for(SERVICE_CLIENT_ID, expires_in=expires_in)

    def add_fault(self, fault: Fault) -> None:
        re.compile(fault.path_pattern)
        with self.lock:
            self.faults.append(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if (fault.method is None or fault.method.upper() == method) and re.search(fault.path_pattern, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- configuration ------------------------------------------------------------------------------------
    def status_id(self, object_type: str, title: str) -> int:
        for row in self.state.statuses[object_type].rows.values():
            if row["title"] == title:
                return int(row["id"])
        raise KeyError(f"no {object_type} status {title!r}")

    def add_status(
        self, object_type: str, title: str, standing: str, *, start: bool = False, color: str = "grey"
    ) -> int:
        with self.lock:
            table = self.state.statuses[object_type]
            row = table.insert(
                {
                    "title": title,
                    "standing": standing,
                    "color": color,
                    "start": "yes" if start else "no",
                    "ordering": len(table),
                }
            )
            self.touch()
            return int(row["id"])

    def set_transitions(self, object_type: str, transitions: Iterable[tuple[int | None, int, str]]) -> list[int]:
        """Replace the progressions of a record type: ``(from_status_id or None for any, to_status_id, title)``."""
        with self.lock:
            statuses = self.state.statuses[object_type]
            table = self.state.progressions[object_type]
            table.clear()
            ids = []
            for source, target, title in transitions:
                if target not in statuses or (source is not None and source not in statuses):
                    raise ValueError(f"unknown {object_type} status in {(source, target)}")
                ids.append(int(table.insert({"title": title, "from_status": source, "status": target})["id"]))
            self.touch()
            return ids

    def add_profile_field(
        self,
        object_type: str,
        field_name: str,
        field_type: str = "text",
        *,
        options: Sequence[str] = (),
        lookup_type: str | None = None,
        required: bool = False,
        description: str = "",
    ) -> int:
        if object_type not in OBJECT_TYPES:
            raise ValueError(f"profile fields here are for {', '.join(OBJECT_TYPES)}")
        if field_type not in PROFILE_TYPES:
            raise ValueError(f"unknown profile field type {field_type!r}")
        if field_type == "lookup" and not lookup_type:
            raise ValueError("a lookup field needs a lookup_type")
        with self.lock:
            row = self.state.profile_fields.insert(
                {
                    "field_name": field_name,
                    "field_type": field_type,
                    "parent_id": 0,
                    "link_type": object_type,
                    "required": "yes" if required else "no",
                    "restrictions": "all",
                    "exported": "no",
                    "lookup_type": lookup_type,
                    "options": list(options) if field_type in ("select", "multi_select") else None,
                    "confidential": "no",
                    "description": description,
                }
            )
            self.touch()
            return int(row["id"])

    def add_segmentation(self, title: str, link_type: str = "company", *, exclusive: bool = False) -> int:
        with self.lock:
            row = self.state.segmentations.insert(
                {
                    "title": title,
                    "link_type": link_type,
                    "standing": "active",
                    "required": "no",
                    "exclusive": "yes" if exclusive else "no",
                    "leaf": "no",
                }
            )
            self.touch()
            return int(row["id"])

    def set_segmentation_values(
        self, object_type: str, record_id: int, segmentation_id: int, values: Sequence[str]
    ) -> None:
        with self.lock:
            self.operations.record(object_type, record_id)
            table = self.state.segmentation_values
            for row_id in list(table.lookup("link_id", [record_id])):
                row = table.rows[row_id]
                if row["link_type"] == object_type and row["segmentation_id"] == segmentation_id:
                    table.delete(row_id)
            if values:
                table.insert(
                    {
                        "segmentation_id": segmentation_id,
                        "link_type": object_type,
                        "link_id": record_id,
                        "values": list(values),
                    }
                )
            self.touch()

    def subscribe_everything(
        self,
        url: str,
        *,
        secret: str = DEFAULT_WEBHOOK_SECRET,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> list[int]:
        """Subscribe ``url`` to every company and contact event (as an admin would in Accelo's settings)."""
        ids = []
        with self.lock:
            for event_id, _title, table, kind in EVENT_TYPES:
                if event_id not in FIRED_EVENTS:
                    continue
                existing = [
                    row
                    for row in self.state.subscriptions.rows.values()
                    if row["event_id"] == event_id and row["trigger_url"] == url
                ]
                if existing:
                    ids.append(int(existing[0]["id"]))
                    continue
                row = self.state.subscriptions.insert(
                    {
                        "event_id": event_id,
                        "trigger_url": url,
                        "content_type": content_type,
                        "secret": secret,
                        "trigger_table": table,
                        "trigger_type": kind,
                        "user_deployment": self.deployment,
                        "user_id": self.operations.user_id,
                        "configured": True,
                    }
                )
                ids.append(int(row["id"]))
            self.touch()
        return ids

    # -- seeding ------------------------------------------------------------------------------------------
    def seed(self, data: Mapping[str, Any]) -> dict[str, list[int]]:
        """Records through Accelo's own rules, without webhooks: ``{"companies": [{"name": …, "status":
        "Active", "contacts": [{"firstname": …, "surname": …, "email": …}], "profile": {field_id: value}}],
        "profile_fields": [{"object_type": "company", "field_name": …, "field_type": …, "options": […]}]}``."""
        created: dict[str, list[int]] = {"companies": [], "contacts": [], "profile_fields": []}
        with self.lock:
            for field in data.get("profile_fields", []):
                field = dict(field)
                created["profile_fields"].append(
                    self.add_profile_field(field.pop("object_type"), field.pop("field_name"), **field)
                )
            for company in data.get("companies", []):
                company = dict(company)
                contacts = company.pop("contacts", [])
                profile = company.pop("profile", {})
                status = company.pop("status", None)
                if isinstance(status, str):
                    company["status_id"] = self.status_id("company", status)
                elif status is not None:
                    company["status_id"] = status
                row = self.operations.create_company(company, webhook=False)
                created["companies"].append(row["id"])
                for field_id, value in profile.items():
                    self._set_profile("company", row["id"], int(field_id), value)
                for contact in contacts:
                    created["contacts"].append(self._seed_contact(row["id"], contact))
            for contact in data.get("contacts", []):
                contact = dict(contact)
                company_id = int(contact.pop("company_id"))
                created["contacts"].append(self._seed_contact(company_id, contact))
            self.touch()
        return created

    def _seed_contact(self, company_id: int, contact: Mapping[str, Any]) -> int:
        contact = dict(contact)
        mobile = contact.pop("mobile", None)
        profile = contact.pop("profile", {})
        status = contact.pop("status", None)
        if isinstance(status, str):
            contact["status"] = self.status_id("contact", status)
        elif status is not None:
            contact["status"] = status
        row = self.operations.create_contact({**contact, "company_id": company_id}, webhook=False)
        if mobile is not None:
            self.state.affiliations.update(row["default_affiliation"], {"mobile": mobile})
        for field_id, value in profile.items():
            self._set_profile("contact", row["id"], int(field_id), value)
        return int(row["id"])

    def generate(
        self,
        *,
        companies: int,
        contacts_per_company: int = 0,
        seed: int = 0,
        spread_seconds: int = 0,
    ) -> dict[str, int]:
        """Bulk data for benchmarks: written straight into the tables (no validation, no webhooks), fast
        enough for 100,000 records. ``spread_seconds`` spreads ``date_modified`` over the past."""
        rng = random.Random(seed)
        now = self.clock.now()
        with self.lock:
            active = self.status_id("company", "Active")
            contact_status = self.status_id("contact", "Active")
            affiliation_status = self.status_id("affiliation", "Active")
            first_company = self.state.companies.next_id
            for number in range(companies):
                stamp = now - (rng.randrange(spread_seconds) if spread_seconds else 0)
                company = self.state.companies.insert(
                    {
                        "name": f"Company {first_company + number}",
                        "custom_id": None,
                        "website": f"www.company{first_company + number}.example",
                        "phone": f"+61 2 {rng.randrange(10**8):08d}",
                        "fax": None,
                        "comments": None,
                        "parent_id": None,
                        "standing": "active",
                        "status": active,
                        "postal_address": None,
                        "default_affiliation": None,
                        "staff_bookmarked": "0",
                        "date_created": stamp,
                        "date_modified": stamp,
                        "date_last_interacted": None,
                    }
                )
                for _ in range(contacts_per_company):
                    contact_id = self.state.contacts.next_id
                    contact = self.state.contacts.insert(
                        {
                            "firstname": f"First{contact_id}",
                            "surname": f"Last{contact_id}",
                            "middlename": None,
                            "username": None,
                            "password": None,
                            "title": None,
                            "timezone": None,
                            "comments": None,
                            "standing": "active",
                            "status": contact_status,
                            "default_affiliation": None,
                            "date_created": stamp,
                            "date_modified": stamp,
                            "date_last_interacted": None,
                        }
                    )
                    affiliation = self.state.affiliations.insert(
                        {
                            "company": company["id"],
                            "contact": contact["id"],
                            "email": f"person{contact_id}@company{company['id']}.example",
                            "phone": f"+61 2 {rng.randrange(10**8):08d}",
                            "mobile": None,
                            "fax": None,
                            "position": rng.choice(["CEO", "CTO", "Buyer", "Engineer", "Accountant"]),
                            "postal_address": None,
                            "physical_address": None,
                            "country_id": None,
                            "standing": "active",
                            "affiliation_status": affiliation_status,
                            "portal_access": "0",
                            "communication": "0",
                            "invoice_method": None,
                            "staff_bookmarked": "0",
                            "date_created": stamp,
                            "date_modified": stamp,
                            "date_last_interacted": None,
                        }
                    )
                    contact["default_affiliation"] = affiliation["id"]
                    if company["default_affiliation"] is None:
                        company["default_affiliation"] = affiliation["id"]
            self.touch()
        return {"companies": companies, "contacts": companies * contacts_per_company}

    # -- as a user would ------------------------------------------------------------------------------------
    def user_create_company(self, name: str, **fields: Any) -> int:
        with self.lock:
            row = self.operations.create_company({"name": name, **fields})
            self.touch()
            return int(row["id"])

    def user_update_company(self, company_id: int, **fields: Any) -> None:
        """Edit plain fields (name, website, phone, fax, comments, custom_id): ``update_company`` fires."""
        with self.lock:
            allowed = frozenset({"name", "website", "phone", "fax", "comments", "custom_id"})
            self.operations.update_company(company_id, fields, allowed=allowed)
            self.touch()

    def user_create_contact(self, company_id: int, firstname: str, surname: str, **fields: Any) -> int:
        with self.lock:
            mobile = fields.pop("mobile", None)
            row = self.operations.create_contact(
                {"firstname": firstname, "surname": surname, "company_id": company_id, **fields}
            )
            if mobile is not None:
                self.operations.update_affiliation(row["default_affiliation"], {"mobile": mobile})
            self.touch()
            return int(row["id"])

    def user_update_contact(self, contact_id: int, **fields: Any) -> None:
        """Edit the person's own fields: ``update_contact`` fires."""
        with self.lock:
            self.operations.update_contact(contact_id, fields)
            self.touch()

    def user_update_affiliation(self, affiliation_id: int, **fields: Any) -> None:
        """Edit email, phones, position…: Accelo sends no webhook for this."""
        with self.lock:
            self.operations.update_affiliation(affiliation_id, fields)
            self.touch()

    def user_set_profile_value(self, object_type: str, record_id: int, field_id: int, value: Any) -> int:
        """Set a custom field: no webhook."""
        with self.lock:
            row = self._set_profile(object_type, record_id, field_id, value)
            self.touch()
            return int(row["id"])

    def _set_profile(self, object_type: str, record_id: int, field_id: int, value: Any) -> Row:
        field = self.operations.profile_field(object_type, field_id)
        kind = field["field_type"]
        if kind == "integer":
            params: dict[str, Any] = {"value_int": value}
        elif kind in ("date", "date_time"):
            params = {"value_date": value.isoformat() if hasattr(value, "isoformat") else value}
        elif kind == "lookup":
            params = {"value_id": value, "value_type": field.get("lookup_type")}
        elif isinstance(value, list | tuple):
            params = {"value": ", ".join(str(item) for item in value)}
        else:
            params = {"value": value}
        return self.operations.set_profile_value(object_type, record_id, field_id, params)

    def user_change_status(self, object_type: str, record_id: int, status_id: int) -> None:
        """Run the progression that leads to ``status_id`` (``update_company``/``update_contact`` fires)."""
        with self.lock:
            for progression in self.operations.allowed_progressions(object_type, record_id):
                if progression["status"] == status_id:
                    self.operations.apply_progression(object_type, record_id, progression["id"])
                    self.touch()
                    return
        raise ValueError(f"no progression leads {object_type} {record_id} to status {status_id}")

    def user_delete_company(self, company_id: int) -> None:
        """Delete in the web app: no webhook (Accelo has no delete events)."""
        with self.lock:
            self.operations.delete_company(company_id)
            self.touch()

    def user_delete_contact(self, contact_id: int) -> None:
        """Delete in the web app (the API can only deactivate): no webhook."""
        with self.lock:
            self.operations.remove_contact(contact_id)
            self.touch()

    def user_delete_affiliation(self, affiliation_id: int) -> None:
        with self.lock:
            self.operations.delete_affiliation(affiliation_id)
            self.touch()

    # -- reading back (tests) -----------------------------------------------------------------------------
    def record(self, object_type: str, record_id: int) -> dict[str, Any] | None:
        with self.lock:
            row = self.state.records[object_type].get(record_id)
            return _public(row) if row is not None else None

    def status_of(self, object_type: str, record_id: int) -> int | None:
        row = self.record(object_type, record_id)
        return None if row is None else row.get(STATUS_FIELD[object_type])

    def profile_values_of(self, object_type: str, record_id: int) -> dict[int, str]:
        with self.lock:
            table = self.state.profile_values
            return {
                table.rows[i]["field_id"]: table.rows[i]["value"]
                for i in table.lookup("link_id", [record_id])
                if table.rows[i]["link_type"] == object_type
            }

    def subscriptions(self) -> list[dict[str, Any]]:
        with self.lock:
            return [_public(row) for row in self.state.subscriptions.rows.values()]


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write atomically: a temporary file renamed over the old one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            json.dump(data, file, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = ["AcceloSimulator", "ApiFault", "Fault"]
