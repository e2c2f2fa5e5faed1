"""``AcceloPort`` over the Accelo client.

Reads are batched (contacts and their default affiliations, 100 per call, profile values and categories only
when a mapping uses them). A write makes exactly one call per Accelo resource that changes: the contact, its
affiliation, each profile value, a status progression, a company's postal address; never one per field.
Records are flattened into the field keys field mappings use: ``firstname``, ``affiliation.email``,
``postal_address.city``, ``profile:<id>``, ``segmentation:<id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from interlink.connectors.accelo.client import AcceloClient
from interlink.connectors.accelo.errors import NoProgressionToStatus
from interlink.connectors.accelo.query import Filter, filter_term, greater_than, order_by_asc
from interlink.connectors.accelo.schemas import Address, AffiliatedContact, Company, ProfileField, ProfileValue
from interlink.sync.matching import MatchKey, accelo_keys, domain_of, normalise_email, normalise_name
from interlink.sync.plan import GONE, AcceloRecord, AcceloWrite, _Gone
from interlink.sync.ports import RecordPage, WriteResult

ObjectType = Literal["company", "contact"]

CONTACT_OWN = ("firstname", "surname", "middlename", "title", "comments")
AFFILIATION_OWN = ("email", "phone", "mobile", "fax", "position")
COMPANY_OWN = ("name", "website", "phone", "fax", "comments")
ADDRESS_PARTS = ("street1", "street2", "city", "zipcode", "state", "country")
COMPANY_FIELDS = (*COMPANY_OWN, "standing", "status", "date_created", "date_modified", "postal_address(_ALL)")
PROFILE, SEGMENTATION, AFFILIATION, ADDRESS = "profile:", "segmentation:", "affiliation.", "postal_address."


@dataclass
class _Known:
    """What a read learnt about a record that its writes need (ids of the resources behind the fields)."""

    affiliation_id: int | None = None
    postal_address_id: int | None = None
    profile_value_ids: dict[int, int] = field(default_factory=dict)  # field id -> value id


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _latest(*moments: datetime | None) -> datetime | None:
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


class AcceloAdapter:
    def __init__(self, client: AcceloClient) -> None:
        self.client = client
        self._statuses: dict[str, dict[int, str]] = {}
        self._profile_fields: dict[str, dict[int, ProfileField]] = {}
        self._known: dict[tuple[str, str], _Known] = {}

    # -- reference data (once per adapter, i.e. per batch) -------------------------------------------------

    def statuses(self, object_type: ObjectType) -> dict[int, str]:
        if object_type not in self._statuses:
            self._statuses[object_type] = {
                status.id: status.title or str(status.id) for status in self.client.statuses.all(object_type)
            }
        return self._statuses[object_type]

    def status_id(self, object_type: ObjectType, title: str) -> int | None:
        return next((sid for sid, name in self.statuses(object_type).items() if name == title), None)

    def profile_fields(self, object_type: ObjectType) -> dict[int, ProfileField]:
        if object_type not in self._profile_fields:
            self._profile_fields[object_type] = {f.id: f for f in self.client.profiles.fields(object_type)}
        return self._profile_fields[object_type]

    # -- reading -------------------------------------------------------------------------------------------

    def read(self, object_type: str, ids: Sequence[str], fields: Sequence[str]) -> Mapping[str, AcceloRecord | _Gone]:
        kind = cast(ObjectType, object_type)
        wanted = [int(record_id) for record_id in ids if str(record_id).isdigit()]
        records: dict[str, AcceloRecord | _Gone] = dict.fromkeys((str(i) for i in ids), GONE)
        if not wanted:
            return records
        if kind == "contact":
            flat = {
                str(contact_id): self._flat_contact(kind, pair)
                for contact_id, pair in self.client.affiliated_contacts.get_many(wanted).items()
            }
        else:
            flat = {
                str(company_id): self._flat_company(kind, company)
                for company_id, company in self.client.companies.get_many(wanted, fields=COMPANY_FIELDS).items()
            }
        self._add_custom_fields(kind, flat, fields)
        records.update(flat)
        return records

    def _flat_contact(self, kind: ObjectType, pair: AffiliatedContact) -> AcceloRecord:
        contact, affiliation = pair.contact, pair.affiliation
        values: dict[str, Any] = {name: getattr(contact, name) for name in CONTACT_OWN}
        values["email"] = contact.email  # deprecated on the contact, but matching may use it
        values["date_created"], values["date_modified"] = contact.date_created, contact.date_modified
        if affiliation is not None:
            values.update({AFFILIATION + name: getattr(affiliation, name) for name in AFFILIATION_OWN})
        self._known[(kind, str(contact.id))] = _Known(affiliation_id=affiliation.id if affiliation else None)
        return AcceloRecord(
            id=str(contact.id),
            fields=values,
            status=self._status_title(kind, contact.status_id, contact.status),
            updated_at=_latest(contact.date_modified, affiliation.date_modified if affiliation else None),
            company_id=_text(affiliation.company_id) if affiliation else None,
        )

    def _flat_company(self, kind: ObjectType, company: Company) -> AcceloRecord:
        values: dict[str, Any] = {name: getattr(company, name) for name in COMPANY_OWN}
        values["date_created"], values["date_modified"] = company.date_created, company.date_modified
        address = company.postal_address
        if address is not None:
            values.update(self._address_values(address))
        self._known[(kind, str(company.id))] = _Known(postal_address_id=company.postal_address_id)
        return AcceloRecord(
            id=str(company.id),
            fields=values,
            status=self._status_title(kind, company.status_id, company.status),
            updated_at=company.date_modified,
        )

    @staticmethod
    def _address_values(address: Address) -> dict[str, Any]:
        state = address.state.title if address.state is not None else _text(address.state_id)
        country = address.country.title if address.country is not None else _text(address.country_id)
        return {
            ADDRESS + "street1": address.street1,
            ADDRESS + "street2": address.street2,
            ADDRESS + "city": address.city,
            ADDRESS + "zipcode": address.zipcode,
            ADDRESS + "state": state,
            ADDRESS + "country": country,
        }

    def _status_title(self, kind: ObjectType, status_id: int | None, status: Any) -> str | None:
        if status is not None and getattr(status, "title", None):
            return str(status.title)
        return self.statuses(kind).get(status_id) if status_id is not None else None

    def _add_custom_fields(self, kind: ObjectType, flat: dict[str, AcceloRecord], fields: Iterable[str]) -> None:
        names = set(fields)
        if not flat:
            return
        ids = [int(record_id) for record_id in flat]
        profile_fields = sorted({int(name.removeprefix(PROFILE)) for name in names if name.startswith(PROFILE)})
        if profile_fields:
            values = self.client.profiles.iterate_values(
                kind,
                filter_term("link_id", *ids),
                filter_term("field_id", *profile_fields),
                most=len(ids) * len(profile_fields),
            )
            for value in values:
                self._put_profile_value(kind, flat, value)
        if any(name.startswith(SEGMENTATION) for name in names):
            for record_id, segments in self.client.segmentations.of_records(kind, ids).items():
                record = flat.get(str(record_id))
                if record is not None:
                    for segment in segments:
                        cast(dict[str, Any], record.fields)[f"{SEGMENTATION}{segment.id}"] = list(segment.values)

    def _put_profile_value(self, kind: ObjectType, flat: dict[str, AcceloRecord], value: ProfileValue) -> None:
        record = flat.get(str(value.link_id)) if value.link_id is not None else None
        if record is None or value.field_id is None:
            return
        raw: Any = (
            list(value.values) if value.values is not None and value.field_type == "multi_select" else value.value
        )
        cast(dict[str, Any], record.fields)[f"{PROFILE}{value.field_id}"] = raw
        self._known.setdefault((kind, record.id), _Known()).profile_value_ids[value.field_id] = value.id
        if value.date_modified is not None and (record.updated_at is None or value.date_modified > record.updated_at):
            flat[record.id] = AcceloRecord(
                record.id, record.fields, record.status, value.date_modified, record.company_id
            )

    # -- listing (bulk jobs) -------------------------------------------------------------------------------

    @staticmethod
    def _after(after: str | None) -> tuple[Filter, ...]:
        """Keyset paging: the records after ``after`` in id order (offsets would skip or repeat records when
        others are added or deleted while a job walks the list)."""
        start = (greater_than("id", int(after)),) if after else ()
        return (*start, order_by_asc("id"))

    def list_page(
        self, object_type: str, fields: Sequence[str], *, after: str | None, limit: int = 100
    ) -> RecordPage[AcceloRecord]:
        """One page of every record of the type, flattened as ``read`` flattens them; the cursor is the last id."""
        kind = cast(ObjectType, object_type)
        flat: dict[str, AcceloRecord] = {}
        if kind == "contact":
            contacts = self.client.contacts.page(*self._after(after), limit=limit)
            affiliation_ids = [c.default_affiliation_id for c in contacts if c.default_affiliation_id is not None]
            affiliations = self.client.affiliations.get_many(affiliation_ids) if affiliation_ids else {}
            for contact in contacts:
                affiliation = (
                    affiliations.get(contact.default_affiliation_id) if contact.default_affiliation_id else None
                )
                flat[str(contact.id)] = self._flat_contact(kind, AffiliatedContact(contact, affiliation))
            count, last = len(contacts), (contacts[-1].id if contacts else None)
        else:
            companies = self.client.companies.page(*self._after(after), limit=limit, fields=COMPANY_FIELDS)
            flat = {str(company.id): self._flat_company(kind, company) for company in companies}
            count, last = len(companies), (companies[-1].id if companies else None)
        self._add_custom_fields(kind, flat, fields)
        return RecordPage(list(flat.values()), str(last) if count == limit and last is not None else None)

    def match_keys_page(
        self, object_type: str, *, after: str | None, limit: int = 100
    ) -> RecordPage[tuple[str, list[MatchKey]]]:
        """One page of records with the keys ``find`` looks them up by (a bulk job's match index): companies by
        website domain and name; contacts by the email of each of their affiliations (the cursor then walks
        affiliations)."""
        if object_type == "contact":
            affiliations = self.client.affiliations.page(*self._after(after), limit=limit, fields=("email", "contact"))
            items = []
            for affiliation in affiliations:
                email = normalise_email(affiliation.email)
                if affiliation.contact_id is not None and email:
                    items.append((str(affiliation.contact_id), [MatchKey("email", email)]))
            last = affiliations[-1].id if affiliations else None
            return RecordPage(items, str(last) if len(affiliations) == limit and last is not None else None)
        companies = self.client.companies.page(*self._after(after), limit=limit, fields=("name", "website"))
        keyed = [
            (
                str(company.id),
                accelo_keys(
                    "company", AcceloRecord(str(company.id), {"name": company.name, "website": company.website})
                ),
            )
            for company in companies
        ]
        last_id = companies[-1].id if companies else None
        return RecordPage(keyed, str(last_id) if len(companies) == limit and last_id is not None else None)

    def count(self, object_type: str) -> int:
        """How many records of the type there are (Accelo's ``/count``: one call)."""
        return self.client.records(cast(ObjectType, object_type)).count()

    # -- matching ------------------------------------------------------------------------------------------

    def find(self, object_type: str, key: MatchKey, fields: Sequence[str]) -> list[AcceloRecord]:
        kind = cast(ObjectType, object_type)
        if kind == "contact":
            contact_ids = {
                affiliation.contact_id
                for affiliation in self.client.affiliations.iterate(filter_term("email", key.value))
                if affiliation.contact_id is not None and normalise_email(affiliation.email) == key.value
            }
            found = self.read(kind, [str(i) for i in sorted(contact_ids)], fields)
            return [record for record in found.values() if isinstance(record, AcceloRecord)]

        def same(company: Company) -> bool:
            if key.kind == "domain":
                return domain_of(company.website) == key.value
            return normalise_name(company.name) == key.value

        matches = [
            company
            for company in self.client.companies.iterate(search=key.value, fields=COMPANY_FIELDS)
            if same(company)
        ]
        flat = {str(company.id): self._flat_company(kind, company) for company in matches}
        self._add_custom_fields(kind, flat, fields)
        return list(flat.values())

    # -- writing -------------------------------------------------------------------------------------------

    def apply(self, object_type: str, write: AcceloWrite) -> WriteResult:
        kind = cast(ObjectType, object_type)
        own, affiliation, address, profile = self._split(write.fields)
        status_id = None
        warnings: list[str] = []
        if write.status is not None:
            status_id = self.status_id(kind, write.status)
            if status_id is None:
                warnings.append(f"Accelo has no {kind} status {write.status!r}; not set (check the status map)")
        try:
            if write.record_id is None:
                record_id = self._create(kind, write, own, affiliation, address, status_id)
                status_id = None  # set on creation
            else:
                record_id = write.record_id
                self._update(kind, record_id, own, affiliation, address)
            known = self._known.setdefault((kind, record_id), _Known())
            for field_id, value in profile.items():
                definition = self.profile_fields(kind).get(field_id)
                if definition is None:
                    continue
                saved = self.client.profiles.set_value(
                    kind, int(record_id), definition, value, value_id=known.profile_value_ids.get(field_id)
                )
                known.profile_value_ids[field_id] = saved.id
            if status_id is not None:
                try:
                    self.client.progressions.move_to_status(kind, int(record_id), status_id)
                except NoProgressionToStatus as exc:
                    warnings.append(f"status not changed to {write.status!r}: {exc.message}")
        except Exception as exc:  # a ConnectorError (or the client's NotWritable/NoProgression) fails this record
            from interlink.connectors.errors import ConnectorError

            if not isinstance(exc, ConnectorError | ValueError):
                raise
            return WriteResult(write.record_id, exc)
        return WriteResult(record_id, warnings=tuple(warnings))

    @staticmethod
    def _split(
        fields: Mapping[str, Any],
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[int, Any]]:
        own: dict[str, Any] = {}
        affiliation: dict[str, Any] = {}
        address: dict[str, Any] = {}
        profile: dict[int, Any] = {}
        for name, value in fields.items():
            if name.startswith(AFFILIATION):
                affiliation[name.removeprefix(AFFILIATION)] = "" if value is None else value
            elif name.startswith(ADDRESS):
                address[name.removeprefix(ADDRESS)] = "" if value is None else value
            elif name.startswith(PROFILE):
                profile[int(name.removeprefix(PROFILE))] = value
            elif not name.startswith(SEGMENTATION):  # categories are read-only in Accelo's API
                own[name] = "" if value is None else value
        return own, affiliation, address, profile

    def _create(
        self,
        kind: ObjectType,
        write: AcceloWrite,
        own: dict[str, Any],
        affiliation: dict[str, Any],
        address: dict[str, Any],
        status_id: int | None,
    ) -> str:
        if kind == "company":
            name = str(own.pop("name", "") or "")
            company = self.client.companies.create(name, status_id=status_id, fields=own)
            record_id = str(company.id)
            known = self._known.setdefault((kind, record_id), _Known())
            if address:
                created = self.client.addresses.create("company", company.id, {**address, "postal": "yes"})
                known.postal_address_id = created.id
            return record_id
        if write.company_id is None:
            raise ValueError("an Accelo contact needs a company")
        mobile = affiliation.pop("mobile", None)
        extra = {**{k: v for k, v in own.items() if k not in {"firstname", "surname"}}, **affiliation}
        if status_id is not None:
            extra["status"] = status_id
        contact = self.client.contacts.create(
            int(write.company_id), str(own.get("firstname") or ""), str(own.get("surname") or ""), fields=extra
        )
        record_id = str(contact.id)
        self._known[(kind, record_id)] = _Known(affiliation_id=contact.default_affiliation_id)
        if mobile and contact.default_affiliation_id is not None:
            self.client.affiliations.update(contact.default_affiliation_id, {"mobile": mobile})
        return record_id

    def _update(
        self,
        kind: ObjectType,
        record_id: str,
        own: dict[str, Any],
        affiliation: dict[str, Any],
        address: dict[str, Any],
    ) -> None:
        known = self._known.setdefault((kind, record_id), _Known())
        if kind == "company":
            if own:
                self.client.companies.update(int(record_id), own)
            if address:
                if known.postal_address_id is not None:
                    self.client.addresses.update(known.postal_address_id, address)
                else:
                    created = self.client.addresses.create("company", int(record_id), {**address, "postal": "yes"})
                    known.postal_address_id = created.id
            return
        if own or affiliation:
            self.client.affiliated_contacts.update(
                int(record_id), {**own, **affiliation}, affiliation_id=known.affiliation_id
            )

    def delete(self, object_type: str, record_id: str) -> None:
        if object_type == "company":
            self.client.companies.delete(int(record_id))
        else:
            self.client.contacts.deactivate(int(record_id))
