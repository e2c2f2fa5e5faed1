"""What the simulated deployment does on a write, with Accelo's rules.

- A ``PUT`` accepts only the fields Accelo documents as writable; anything else is refused with
  ``invalid_request`` naming the field (real Accelo may silently ignore some; refusing catches client bugs).
- Statuses change only through progressions allowed from the current status (``set_transitions``). Accelo's
  docs list ``status``/``standing`` on a contact ``PUT``; the simulator refuses them so that Interlink is
  proven to go through progressions, as its design requires.
- ``POST /contacts`` makes the contact and its affiliation to ``company_id``.
- Profile values are validated by field type and set with the parameter the type takes.
- ``date_modified`` moves on every change of a record, profile value or affiliation, and only on that
  record: editing an affiliation or a profile value does not touch the contact's or company's
  ``date_modified`` (Accelo's behaviour there is unconfirmed; this is the case that needs polling).
- Webhooks: ``create_company``/``update_company``/``create_contact``/``update_contact`` on creates, updates
  and progressions of companies and contacts; nothing for deletes, affiliations, profile values or addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from interlink.simulators.accelo.query import ApiFault, invalid, missing
from interlink.simulators.accelo.state import COLLECTIONS, STATUS_FIELD, AcceloState
from interlink.simulators.accelo.store import Row

Emit = Callable[[str, str, int], None]

COMPANY_CREATE = frozenset(
    {"name", "parent_id", "status_id", "standing", "website", "phone", "fax", "comments", "custom_id"}
)
COMPANY_UPDATE = frozenset({"name", "website", "phone", "fax", "comments"})
CONTACT_UPDATE = frozenset({"firstname", "middlename", "surname", "username", "password", "title", "comments"})
AFFILIATION_UPDATE = frozenset(
    {
        "country_id",
        "physical_address_id",
        "postal_address_id",
        "phone",
        "fax",
        "mobile",
        "email",
        "position",
        "communication",
        "invoice_method",
    }
)
CONTACT_CREATE = CONTACT_UPDATE | {"status", "standing", "company_id"} | (AFFILIATION_UPDATE - {"mobile"})
AFFILIATION_CREATE = AFFILIATION_UPDATE | {"company_id", "contact_id", "status_id", "standing"}
ADDRESS_FIELDS = frozenset(
    {
        "title",
        "street1",
        "street2",
        "city",
        "zipcode",
        "postcode",
        "state",
        "state_id",
        "country",
        "country_id",
        "postal",
        "physical",
    }
)
PROFILE_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "date",
        "date_time",
        "currency",
        "lookup",
        "structure",
        "select",
        "multi_select",
        "hyperlink",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _fields_of(params: Mapping[str, Any], allowed: frozenset[str], what: str) -> dict[str, Any]:
    """The writable fields in ``params`` (control parameters start with ``_``); others are refused."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name.startswith("_") or name.startswith("profile."):
            continue
        if name not in allowed:
            hint = "; statuses change through progressions" if name in ("status", "status_id", "standing") else ""
            raise invalid(f"{name!r} cannot be written on {what}{hint}")
        values[name] = value
    return values


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _id(value: Any, what: str) -> int:
    text = _text(value)
    if text is None or not text.strip().isdigit():
        raise invalid(f"{what} must be an id, got {value!r}")
    return int(text)


def _flag(value: Any) -> str:
    return "1" if str(value).strip().lower() in ("1", "yes", "true", "y") else "0"


def _email(value: Any) -> str | None:
    text = _text(value)
    if text and not _EMAIL.match(text):
        raise invalid(f"{text!r} is not a valid email address")
    return text


class Operations:
    def __init__(self, state: AcceloState, emit: Emit, *, user_id: int = 1) -> None:
        self.state = state
        self.emit = emit
        self.user_id = user_id

    # -- helpers ----------------------------------------------------------------------------------------
    def now(self) -> int:
        return self.state.clock.now()

    def record(self, kind: str, record_id: int) -> Row:
        row = self.state.records[kind].get(record_id)
        if row is None:
            raise missing()
        return row

    def _start_status(self, kind: str, status_id: Any, standing: Any) -> Row:
        statuses = self.state.statuses[kind]
        if status_id not in (None, ""):
            status = statuses.get(_id(status_id, "status_id"))
            if status is None:
                raise invalid(f"status {status_id} does not exist")
            if status.get("start") != "yes":
                raise invalid(f"status {status['title']!r} cannot start a {kind}")
            return status
        candidates = sorted(
            (row for row in statuses.rows.values() if row.get("start") == "yes"), key=lambda row: row["ordering"]
        )
        if standing not in (None, ""):
            candidates = [row for row in candidates if row.get("standing") == str(standing)]
            if not candidates:
                raise invalid(f"no {kind} status with standing {standing!r} can start a {kind}")
        if not candidates:
            raise invalid(f"no {kind} status may start a {kind}")
        return candidates[0]

    def _touch(self, kind: str, record_id: int, changes: Mapping[str, Any]) -> Row:
        return self.state.records[kind].update(record_id, {**changes, "date_modified": self.now()})

    # -- companies --------------------------------------------------------------------------------------
    def create_company(self, params: Mapping[str, Any], *, webhook: bool = True) -> Row:
        fields = _fields_of(params, COMPANY_CREATE, "a new company")
        name = _text(fields.get("name"))
        if not name or not name.strip():
            raise invalid("name is required")
        status = self._start_status("company", fields.get("status_id"), fields.get("standing"))
        now = self.now()
        row = self.state.companies.insert(
            {
                "name": name,
                "custom_id": _text(fields.get("custom_id")),
                "website": _text(fields.get("website")),
                "phone": _text(fields.get("phone")),
                "fax": _text(fields.get("fax")),
                "comments": _text(fields.get("comments")),
                "parent_id": _id(fields["parent_id"], "parent_id") if fields.get("parent_id") else None,
                "standing": status["standing"],
                "status": status["id"],
                "postal_address": None,
                "default_affiliation": None,
                "staff_bookmarked": "0",
                "date_created": now,
                "date_modified": now,
                "date_last_interacted": None,
            }
        )
        profile = {name[len("profile.") :]: value for name, value in params.items() if name.startswith("profile.")}
        for field_id, value in profile.items():
            self.set_profile_value("company", row["id"], _id(field_id, "profile field id"), {"value": value})
        if webhook:
            self.emit("create_company", "company", row["id"])
        return row

    def update_company(
        self,
        company_id: int,
        params: Mapping[str, Any],
        *,
        allowed: frozenset[str] = COMPANY_UPDATE,
        webhook: bool = True,
    ) -> Row:
        self.record("company", company_id)
        fields = _fields_of(params, allowed, "a company")
        if "name" in fields and not (_text(fields["name"]) or "").strip():
            raise invalid("name cannot be empty")
        row = self._touch("company", company_id, {name: _text(value) for name, value in fields.items()})
        if webhook:
            self.emit("update_company", "company", company_id)
        return row

    def delete_company(self, company_id: int) -> None:
        """Remove the company with its affiliations, addresses and profile values (no webhook)."""
        self.record("company", company_id)
        for affiliation_id in sorted(self.state.affiliations.lookup("company", [company_id])):
            self.delete_affiliation(affiliation_id)
        self._remove_attachments("company", company_id)
        self.state.companies.delete(company_id)

    def _remove_attachments(self, kind: str, record_id: int) -> None:
        for table in (self.state.profile_values, self.state.segmentation_values):
            for row_id in sorted(table.lookup("link_id", [record_id])):
                if table.rows[row_id].get("link_type") == kind:
                    table.delete(row_id)
        for address_id in sorted(self.state.addresses.lookup("against_id", [record_id])):
            if self.state.addresses.rows[address_id].get("against_type") == kind:
                self.state.addresses.delete(address_id)

    # -- contacts ---------------------------------------------------------------------------------------
    def _check_username(self, username: str | None, contact_id: int | None = None) -> None:
        if not username:
            return
        owners = self.state.contacts.lookup("username", [username]) - {contact_id}
        if owners:
            raise ApiFault("duplicate", f"username {username!r} is taken")

    def create_contact(self, params: Mapping[str, Any], *, webhook: bool = True) -> Row:
        fields = _fields_of(params, CONTACT_CREATE, "a new contact")
        firstname, surname = _text(fields.get("firstname")), _text(fields.get("surname"))
        if not firstname or not surname:
            raise invalid("firstname and surname are required")
        if fields.get("company_id") in (None, ""):
            raise invalid("company_id is required")
        company_id = _id(fields["company_id"], "company_id")
        self.record("company", company_id)
        username = _text(fields.get("username"))
        self._check_username(username)
        affiliation_fields = {name: fields[name] for name in AFFILIATION_UPDATE if name in fields}
        _email(affiliation_fields.get("email"))
        status = self._start_status("contact", fields.get("status"), fields.get("standing"))
        now = self.now()
        contact = self.state.contacts.insert(
            {
                "firstname": firstname,
                "surname": surname,
                "middlename": _text(fields.get("middlename")),
                "username": username,
                "password": _text(fields.get("password")),
                "title": _text(fields.get("title")),
                "timezone": None,
                "comments": _text(fields.get("comments")),
                "standing": status["standing"],
                "status": status["id"],
                "default_affiliation": None,
                "date_created": now,
                "date_modified": now,
                "date_last_interacted": None,
            }
        )
        self.create_affiliation({**affiliation_fields, "company_id": company_id, "contact_id": contact["id"]})
        if webhook:
            self.emit("create_contact", "contact", contact["id"])
        return contact

    def update_contact(self, contact_id: int, params: Mapping[str, Any], *, webhook: bool = True) -> Row:
        self.record("contact", contact_id)
        fields = _fields_of(params, CONTACT_UPDATE, "a contact")
        for required in ("firstname", "surname"):
            if required in fields and not (_text(fields[required]) or "").strip():
                raise invalid(f"{required} cannot be empty")
        if "username" in fields:
            self._check_username(_text(fields["username"]), contact_id)
        row = self._touch("contact", contact_id, {name: _text(value) for name, value in fields.items()})
        if webhook:
            self.emit("update_contact", "contact", contact_id)
        return row

    def deactivate_contact(self, contact_id: int) -> None:
        """``DELETE /contacts/{id}``: the standing becomes inactive; the contact stays (no webhook)."""
        self.record("contact", contact_id)
        self._touch("contact", contact_id, {"standing": "inactive"})

    def remove_contact(self, contact_id: int) -> None:
        """A delete in Accelo's web app (the API cannot): the contact and its affiliations go."""
        self.record("contact", contact_id)
        for affiliation_id in sorted(self.state.affiliations.lookup("contact", [contact_id])):
            self.delete_affiliation(affiliation_id)
        self._remove_attachments("contact", contact_id)
        self.state.contacts.delete(contact_id)

    # -- affiliations -----------------------------------------------------------------------------------
    def _affiliation_values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name == "email":
                values["email"] = _email(value)
            elif name == "communication":
                values["communication"] = _flag(value)
            elif name in ("physical_address_id", "postal_address_id"):
                address_id = _id(value, name) if value not in (None, "") else None
                if address_id is not None and address_id not in self.state.addresses:
                    raise invalid(f"address {address_id} does not exist")
                values[name[: -len("_id")]] = address_id
            elif name == "country_id":
                values["country_id"] = _id(value, name) if value not in (None, "") else None
            elif name in AFFILIATION_UPDATE:
                values[name] = _text(value)
        return values

    def create_affiliation(self, params: Mapping[str, Any]) -> Row:
        fields = _fields_of(params, AFFILIATION_CREATE, "a new affiliation")
        for required in ("company_id", "contact_id"):
            if fields.get(required) in (None, ""):
                raise invalid(f"{required} is required")
        company_id = _id(fields["company_id"], "company_id")
        contact_id = _id(fields["contact_id"], "contact_id")
        company = self.record("company", company_id)
        contact = self.record("contact", contact_id)
        status = self._start_status("affiliation", fields.get("status_id"), fields.get("standing"))
        now = self.now()
        row = self.state.affiliations.insert(
            {
                "company": company_id,
                "contact": contact_id,
                "email": None,
                "phone": None,
                "mobile": None,
                "fax": None,
                "position": None,
                "postal_address": None,
                "physical_address": None,
                "country_id": None,
                "standing": status["standing"],
                "affiliation_status": status["id"],
                "portal_access": "0",
                "communication": "0",
                "invoice_method": None,
                "staff_bookmarked": "0",
                "date_created": now,
                "date_modified": now,
                "date_last_interacted": None,
                **self._affiliation_values({n: v for n, v in fields.items() if n in AFFILIATION_UPDATE}),
            }
        )
        if contact.get("default_affiliation") is None:
            self.state.contacts.update(contact_id, {"default_affiliation": row["id"]})
        if company.get("default_affiliation") is None:
            self.state.companies.update(company_id, {"default_affiliation": row["id"]})
        return row

    def update_affiliation(self, affiliation_id: int, params: Mapping[str, Any]) -> Row:
        self.record("affiliation", affiliation_id)
        fields = _fields_of(params, AFFILIATION_UPDATE, "an affiliation")
        return self._touch("affiliation", affiliation_id, self._affiliation_values(fields))

    def delete_affiliation(self, affiliation_id: int) -> None:
        row = self.record("affiliation", affiliation_id)
        self._remove_attachments("affiliation", affiliation_id)
        self.state.affiliations.delete(affiliation_id)
        for kind, owner_id in (("contact", row["contact"]), ("company", row["company"])):
            owner = self.state.records[kind].get(owner_id)
            if owner is not None and owner.get("default_affiliation") == affiliation_id:
                remaining = sorted(self.state.affiliations.lookup(kind, [owner_id]))
                self.state.records[kind].update(owner_id, {"default_affiliation": remaining[0] if remaining else None})

    # -- statuses and progressions ----------------------------------------------------------------------
    def allowed_progressions(self, kind: str, record_id: int) -> list[Row]:
        current = self.record(kind, record_id).get(STATUS_FIELD[kind])
        return sorted(
            (
                row
                for row in self.state.progressions[kind].rows.values()
                if row.get("from_status") in (None, current) and row["status"] != current
            ),
            key=lambda row: row["id"],
        )

    def apply_progression(self, kind: str, record_id: int, progression_id: int, *, webhook: bool = True) -> Row:
        allowed = {row["id"]: row for row in self.allowed_progressions(kind, record_id)}
        progression = allowed.get(progression_id)
        if progression is None:
            raise invalid(f"progression {progression_id} is not available for {kind} {record_id}")
        status = self.state.statuses[kind].rows[progression["status"]]
        row = self._touch(kind, record_id, {STATUS_FIELD[kind]: status["id"], "standing": status["standing"]})
        self.state.history.insert(
            {
                "to_id": status["id"],
                "to_title": status["title"],
                "against_type": kind,
                "against_id": record_id,
                "modified_by": self.user_id,
                "date_modified": row["date_modified"],
            }
        )
        if webhook and kind in ("company", "contact"):
            self.emit(f"update_{kind}", kind, record_id)
        return row

    # -- profile values ---------------------------------------------------------------------------------
    def _profile_value(self, field: Row, params: Mapping[str, Any]) -> dict[str, Any]:
        kind = field["field_type"]
        given = {name for name in ("value", "value_int", "value_date", "value_id") if name in params}

        def need(name: str) -> Any:
            if name not in params:
                raise invalid(f"a {kind} profile field takes {name} (got {', '.join(sorted(given)) or 'nothing'})")
            return params[name]

        values: list[str] | None = None
        value_type = None
        if kind == "integer":
            raw = _text(need("value_int")) or ""
            if raw and not raw.lstrip("-").isdigit():
                raise invalid(f"value_int must be a whole number, got {raw!r}")
            value = raw
        elif kind in ("date", "date_time"):
            value = self._profile_date(_text(need("value_date")) or "")
        elif kind == "lookup":
            raw = _text(need("value_id")) or ""
            if raw and not raw.isdigit():
                raise invalid(f"value_id must be an id, got {raw!r}")
            value_type = _text(params.get("value_type")) or field.get("lookup_type")
            if raw and value_type != field.get("lookup_type"):
                raise invalid(f"value_type must be {field.get('lookup_type')!r}")
            value = raw
        else:
            value = _text(need("value")) or ""
            options = field.get("options") or []
            if kind == "select" and value and value not in options:
                raise invalid(f"{value!r} is not an option of {field['field_name']!r}")
            if kind == "multi_select":
                values = [part.strip() for part in value.split(",") if part.strip()]
                unknown = [part for part in values if part not in options]
                if unknown:
                    raise invalid(f"{', '.join(unknown)} not options of {field['field_name']!r}")
                value = ", ".join(values)
            if kind in ("decimal", "currency") and value:
                try:
                    Decimal(value)
                except InvalidOperation:
                    raise invalid(f"{value!r} is not a number") from None
        return {"value": value, "values": values, "value_type": value_type}

    @staticmethod
    def _profile_date(raw: str) -> str:
        text = raw.strip()
        if not text or text.lstrip("-").isdigit():
            return text
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise invalid(f"value_date must be a unix timestamp or ISO 8601, got {raw!r}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return str(int(moment.timestamp()))

    def profile_field(self, kind: str, field_id: int) -> Row:
        field = self.state.profile_fields.get(field_id)
        if field is None or field.get("link_type") != kind:
            raise invalid(f"profile field {field_id} does not exist for {COLLECTIONS[kind]}")
        return field

    def set_profile_value(self, kind: str, record_id: int, field_id: int, params: Mapping[str, Any]) -> Row:
        """Create the record's value of this field, or replace it if it has one (one value per field)."""
        self.record(kind, record_id)
        field = self.profile_field(kind, field_id)
        data = self._profile_value(field, params)
        values = self.state.profile_values
        existing = next(
            (
                row_id
                for row_id in values.lookup("link_id", [record_id])
                if values.rows[row_id]["link_type"] == kind and values.rows[row_id]["field_id"] == field_id
            ),
            None,
        )
        changes = {**data, "date_modified": self.now(), "modified_by": self.user_id}
        if existing is not None:
            return values.update(existing, changes)
        return values.insert(
            {
                "field_id": field_id,
                "field_name": field["field_name"],
                "field_type": field["field_type"],
                "link_type": kind,
                "link_id": record_id,
                **changes,
            }
        )

    def update_profile_value(self, kind: str, record_id: int, value_id: int, params: Mapping[str, Any]) -> Row:
        self.record(kind, record_id)
        row = self.state.profile_values.get(value_id)
        if row is None or row["link_type"] != kind or row["link_id"] != record_id:
            raise missing()
        field = self.profile_field(kind, row["field_id"])
        data = self._profile_value(field, params)
        return self.state.profile_values.update(
            value_id, {**data, "date_modified": self.now(), "modified_by": self.user_id}
        )

    # -- addresses ----------------------------------------------------------------------------------------
    def _address_values(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name in ("country", "country_id"):
                values["country"] = self._lookup_place(self.state.countries, value, "country")
            elif name in ("state", "state_id"):
                values["state"] = self._lookup_place(self.state.states, value, "state")
            elif name in ("postal", "physical"):
                values[name] = "yes" if _flag(value) == "1" else "no"
            elif name in ("zipcode", "postcode"):
                values["zipcode"] = _text(value)
            else:
                values[name] = _text(value)
        return values

    @staticmethod
    def _lookup_place(table: Any, value: Any, what: str) -> int | None:
        text = _text(value)
        if not text:
            return None
        if text.isdigit():
            if int(text) not in table:
                raise invalid(f"{what} {text} does not exist")
            return int(text)
        for row in table.rows.values():
            if text.lower() in (str(row.get("title", "")).lower(), str(row.get("abbreviation", "")).lower()):
                return int(row["id"])
        raise invalid(f"unknown {what} {text!r}")

    def create_address(self, kind: str, record_id: int, params: Mapping[str, Any]) -> Row:
        if kind not in ("company", "contact"):
            raise invalid("against_type must be company or contact")
        record = self.record(kind, record_id)
        fields = _fields_of(params, ADDRESS_FIELDS | {"against_type", "against_id", "overwrite"}, "an address")
        fields.pop("against_type", None)
        fields.pop("against_id", None)
        fields.pop("overwrite", None)
        values = {"postal": "no", "physical": "no", **self._address_values(fields)}
        row = self.state.addresses.insert(
            {
                "title": None,
                "street1": None,
                "street2": None,
                "city": None,
                "zipcode": None,
                "state": None,
                "country": None,
                **values,
                "against_type": kind,
                "against_id": record_id,
            }
        )
        if kind == "company" and record.get("postal_address") is None and row["postal"] == "yes":
            self.state.companies.update(record_id, {"postal_address": row["id"]})
        return row

    def update_address(self, address_id: int, params: Mapping[str, Any]) -> Row:
        if address_id not in self.state.addresses:
            raise missing()
        fields = _fields_of(params, ADDRESS_FIELDS, "an address")
        return self.state.addresses.update(address_id, self._address_values(fields))
