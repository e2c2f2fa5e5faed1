"""Companies, contacts and affiliations: list, read (one or many by id), create, update, delete.

Writes are checked against the fields Accelo documents as writable before anything is sent (``NotWritable``):
a company's ``PUT`` takes only name, website, phone, fax and comments; statuses move only through
progressions (``client.progressions``).

A HubSpot contact is an Accelo contact *plus its default affiliation*: the name lives on the contact, the
email, phones and job title (``position``) on the affiliation. ``AffiliatedContacts`` reads and writes that
pair as one thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.errors import NotWritable
from interlink.connectors.accelo.query import Filter, Query
from interlink.connectors.accelo.schemas import AcceloModel, AffiliatedContact, Affiliation, Company, Contact

R = TypeVar("R", bound=AcceloModel)

# The status comes inline with its title, so naming a record's status needs no statuses call per read.
STATUS_INLINE = "status(id,title,standing)"
COMPANY_FIELDS = (
    "name",
    "custom_id",
    "website",
    "phone",
    "fax",
    "comments",
    "standing",
    STATUS_INLINE,
    "postal_address",
    "default_affiliation",
    "staff_bookmarked",
    "date_created",
    "date_modified",
    "date_last_interacted",
)
CONTACT_FIELDS = (
    "firstname",
    "surname",
    "middlename",
    "username",
    "title",
    "timezone",
    "comments",
    "standing",
    STATUS_INLINE,
    "default_affiliation",
    "email",
    "mobile",
    "date_created",
    "date_modified",
    "date_last_interacted",
)
AFFILIATION_FIELDS = (
    "company",
    "contact",
    "email",
    "phone",
    "mobile",
    "fax",
    "position",
    "standing",
    "affiliation_status",
    "postal_address",
    "physical_address",
    "portal_access",
    "communication",
    "invoice_method",
    "staff_bookmarked",
    "date_modified",
    "date_last_interacted",
)

# What the API lets a client write (Accelo's docs); anything else is refused before sending.
COMPANY_CREATE_FIELDS = frozenset(
    {"name", "parent_id", "status_id", "standing", "website", "phone", "fax", "comments", "custom_id"}
)
COMPANY_UPDATE_FIELDS = frozenset({"name", "website", "phone", "fax", "comments"})
CONTACT_UPDATE_FIELDS = frozenset({"firstname", "middlename", "surname", "username", "password", "title", "comments"})
AFFILIATION_UPDATE_FIELDS = frozenset(
    {
        "phone",
        "fax",
        "mobile",
        "email",
        "position",
        "communication",
        "invoice_method",
        "country_id",
        "physical_address_id",
        "postal_address_id",
    }
)
# POST /contacts makes the contact and its first affiliation; it takes no mobile (set it afterwards).
CONTACT_CREATE_FIELDS = (
    CONTACT_UPDATE_FIELDS | {"status", "standing", "company_id"} | (AFFILIATION_UPDATE_FIELDS - {"mobile"})
)
AFFILIATION_CREATE_FIELDS = AFFILIATION_UPDATE_FIELDS | {"company_id", "contact_id", "status_id", "standing"}


def check_writable(kind: str, changes: Mapping[str, object], allowed: frozenset[str]) -> None:
    refused = sorted(set(changes) - allowed)
    if not refused:
        return
    hints = []
    if {"status", "status_id", "standing"} & set(refused):
        hints.append("statuses change through progressions")
    if kind.endswith("contact") and AFFILIATION_UPDATE_FIELDS & set(refused):
        hints.append("email, phones and position live on the affiliation (use affiliated_contacts)")
    hint = f" ({'; '.join(hints)})" if hints else ""
    raise NotWritable(
        f"Accelo does not let the API write {', '.join(refused)} on {kind}{hint}; "
        f"writable: {', '.join(sorted(allowed))}"
    )


class RecordResource(Generic[R]):
    """Reads shared by every record type: ``/{path}``, ``/{path}/{id}``, ``/{path}/count``."""

    path: str
    model: type[R]
    fields: tuple[str, ...]

    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def _query(self, fields: Iterable[str] | None) -> Query:
        return Query(fields=tuple(fields) if fields is not None else self.fields)

    def get(self, record_id: int, *, fields: Iterable[str] | None = None) -> R:
        """One record; ``AcceloNotFound`` when it does not exist."""
        return self.api.one(
            self.model,
            f"/{self.path}/{record_id}",
            route=f"/{self.path}/{{id}}",
            query=self._query(fields),
            record=(self.path, record_id),
        )

    def get_many(self, record_ids: Iterable[int], *, fields: Iterable[str] | None = None) -> dict[int, R]:
        """Many records by id in one call per 100 ids; ids that do not resolve are left out."""
        return self.api.many(self.model, f"/{self.path}", record_ids, route=f"/{self.path}", query=self._query(fields))

    def find_missing(self, record_ids: Iterable[int]) -> set[int]:
        """Which of these ids no longer resolve: how deletions are found (Accelo sends no delete event)."""
        wanted = set(record_ids)
        return wanted - self.api.existing_ids(self.path, wanted)

    def iterate(
        self,
        *filters: Filter,
        search: str | None = None,
        fields: Iterable[str] | None = None,
        page_size: int = 100,
    ) -> Iterator[R]:
        """Every matching record, paging until a short page (sorted by id unless a filter orders them)."""
        query = self._query(fields).replace(filters=filters, search=search, limit=page_size)
        return self.api.iterate(self.model, f"/{self.path}", route=f"/{self.path}", query=query)

    def page(
        self,
        *filters: Filter,
        page: int = 0,
        limit: int = 100,
        search: str | None = None,
        fields: Iterable[str] | None = None,
    ) -> list[R]:
        query = self._query(fields).replace(filters=filters, search=search, limit=limit, page=page)
        return self.api.page(self.model, f"/{self.path}", route=f"/{self.path}", query=query)

    def count(self, *filters: Filter, search: str | None = None) -> int:
        query = Query(filters=filters, search=search) if filters or search else None
        return self.api.count(f"/{self.path}/count", route=f"/{self.path}/count", query=query)

    def _create(self, form: Mapping[str, object], fields: Iterable[str] | None) -> R:
        return self.api.one(
            self.model,
            f"/{self.path}",
            route=f"/{self.path}",
            method="POST",
            form=form,
            query=self._query(fields),
        )

    def _update(self, record_id: int, changes: Mapping[str, object], fields: Iterable[str] | None) -> R:
        return self.api.one(
            self.model,
            f"/{self.path}/{record_id}",
            route=f"/{self.path}/{{id}}",
            method="PUT",
            form=changes,
            query=self._query(fields),
            record=(self.path, record_id),
        )

    def _delete(self, record_id: int) -> None:
        self.api.call(
            "DELETE",
            f"/{self.path}/{record_id}",
            route=f"/{self.path}/{{id}}",
            record=(self.path, record_id),
            expect_response=False,
        )


class Companies(RecordResource[Company]):
    path = "companies"
    model = Company
    fields = COMPANY_FIELDS

    def create(
        self,
        name: str,
        *,
        status_id: int | None = None,
        fields: Mapping[str, object] | None = None,
        profile_values: Mapping[int, str] | None = None,
        returning: Iterable[str] | None = None,
    ) -> Company:
        """A new company. ``status_id`` must be a status that may start a record (``Status.start``);
        ``profile_values`` sets profile fields by field id in the same call (``profile.{id}=value``)."""
        form: dict[str, object] = {"name": name, **(fields or {})}
        if status_id is not None:
            form["status_id"] = status_id
        check_writable("a new company", form, COMPANY_CREATE_FIELDS)
        for field_id, value in (profile_values or {}).items():
            form[f"profile.{field_id}"] = value
        return self._create(form, returning)

    def update(
        self, company_id: int, changes: Mapping[str, object], *, returning: Iterable[str] | None = None
    ) -> Company:
        """Change writable fields (name, website, phone, fax, comments); ``""`` clears one."""
        check_writable("a company", changes, COMPANY_UPDATE_FIELDS)
        return self._update(company_id, changes, returning)

    def delete(self, company_id: int) -> None:
        """Delete the company (Accelo also removes its affiliations). No webhook tells anyone."""
        self._delete(company_id)

    def contacts(self, company_id: int, *, fields: Iterable[str] | None = None) -> Iterator[Contact]:
        """The contacts affiliated with a company."""
        query = Query(fields=tuple(fields) if fields is not None else CONTACT_FIELDS, limit=100)
        return self.api.iterate(
            Contact, f"/companies/{company_id}/contacts", route="/companies/{id}/contacts", query=query
        )


class Contacts(RecordResource[Contact]):
    path = "contacts"
    model = Contact
    fields = CONTACT_FIELDS

    def create(
        self,
        company_id: int,
        firstname: str,
        surname: str,
        *,
        fields: Mapping[str, object] | None = None,
        returning: Iterable[str] | None = None,
    ) -> Contact:
        """A new contact *and* its affiliation to ``company_id`` (one call). Affiliation fields (email,
        phone, position, fax) go in ``fields``; the answer's ``default_affiliation_id`` is the new
        affiliation. Mobile cannot be set here (Accelo's ``POST /contacts`` does not take it)."""
        form: dict[str, object] = {"firstname": firstname, "surname": surname, **(fields or {})}
        form["company_id"] = company_id
        check_writable("a new contact", form, CONTACT_CREATE_FIELDS)
        return self._create(form, returning)

    def update(
        self, contact_id: int, changes: Mapping[str, object], *, returning: Iterable[str] | None = None
    ) -> Contact:
        """Change the person's own fields (names, title, username, comments). Email, phones and position
        are on the affiliation (``AffiliatedContacts.update`` routes them there)."""
        check_writable("a contact", changes, CONTACT_UPDATE_FIELDS)
        return self._update(contact_id, changes, returning)

    def deactivate(self, contact_id: int) -> None:
        """``DELETE /contacts/{id}``: Accelo only deactivates (standing becomes inactive); a contact can be
        deleted only in Accelo's web app."""
        self._delete(contact_id)


class Affiliations(RecordResource[Affiliation]):
    path = "affiliations"
    model = Affiliation
    fields = AFFILIATION_FIELDS

    def create(
        self,
        company_id: int,
        contact_id: int,
        *,
        fields: Mapping[str, object] | None = None,
        returning: Iterable[str] | None = None,
    ) -> Affiliation:
        form: dict[str, object] = {"company_id": company_id, "contact_id": contact_id, **(fields or {})}
        check_writable("a new affiliation", form, AFFILIATION_CREATE_FIELDS)
        return self._create(form, returning)

    def update(
        self, affiliation_id: int, changes: Mapping[str, object], *, returning: Iterable[str] | None = None
    ) -> Affiliation:
        check_writable("an affiliation", changes, AFFILIATION_UPDATE_FIELDS)
        return self._update(affiliation_id, changes, returning)

    def delete(self, affiliation_id: int) -> None:
        self._delete(affiliation_id)

    def of_contact(self, contact_id: int) -> Iterator[Affiliation]:
        return self.iterate(Filter("contact", (contact_id,)))

    def of_company(self, company_id: int) -> Iterator[Affiliation]:
        return self.iterate(Filter("company", (company_id,)))


# Which side of the pair each writable field of an affiliated contact lives on.
PERSON_CONTACT_FIELDS = CONTACT_UPDATE_FIELDS
PERSON_AFFILIATION_FIELDS = AFFILIATION_UPDATE_FIELDS


class AffiliatedContacts:
    """Contacts together with their default affiliation (two bulk reads per 100 contacts)."""

    def __init__(self, contacts: Contacts, affiliations: Affiliations) -> None:
        self.contacts = contacts
        self.affiliations = affiliations

    def get(self, contact_id: int) -> AffiliatedContact:
        contact = self.contacts.get(contact_id)
        affiliation = None
        if contact.default_affiliation_id is not None:
            affiliation = self.affiliations.get_many([contact.default_affiliation_id]).get(
                contact.default_affiliation_id
            )
        return AffiliatedContact(contact, affiliation)

    def get_many(self, contact_ids: Iterable[int]) -> dict[int, AffiliatedContact]:
        contacts = self.contacts.get_many(contact_ids)
        return self._with_affiliations(contacts.values())

    def iterate(self, *filters: Filter, search: str | None = None) -> Iterator[AffiliatedContact]:
        """Every matching contact with its default affiliation, a page of each at a time."""
        query = Query(fields=CONTACT_FIELDS, filters=filters, search=search, limit=100)
        for page in self.contacts.api.pages(Contact, "/contacts", route="/contacts", query=query):
            yield from self._with_affiliations(page).values()

    def _with_affiliations(self, contacts: Iterable[Contact]) -> dict[int, AffiliatedContact]:
        contacts = list(contacts)
        affiliation_ids = [c.default_affiliation_id for c in contacts if c.default_affiliation_id is not None]
        affiliations = self.affiliations.get_many(affiliation_ids) if affiliation_ids else {}
        return {
            contact.id: AffiliatedContact(
                contact,
                affiliations.get(contact.default_affiliation_id) if contact.default_affiliation_id else None,
            )
            for contact in contacts
        }

    def create(self, company_id: int, changes: Mapping[str, object]) -> AffiliatedContact:
        """A new contact affiliated with ``company_id``; ``changes`` mixes contact and affiliation fields
        (``firstname``, ``surname``, ``email``, ``phone``, ``mobile``, ``position``, …). Two calls: the
        create, then a write (or a read) of the new affiliation so both halves come back."""
        contact_changes, affiliation_changes = split_person_changes(changes)
        firstname = str(contact_changes.pop("firstname", "") or "")
        surname = str(contact_changes.pop("surname", "") or "")
        mobile = affiliation_changes.pop("mobile", None)
        contact = self.contacts.create(
            company_id, firstname, surname, fields={**contact_changes, **affiliation_changes}
        )
        affiliation_id = contact.default_affiliation_id
        if affiliation_id is None:
            return AffiliatedContact(contact, None)
        if mobile is not None:
            affiliation = self.affiliations.update(affiliation_id, {"mobile": mobile})
        else:
            affiliation = self.affiliations.get(affiliation_id)
        return AffiliatedContact(contact, affiliation)

    def update(
        self, contact_id: int, changes: Mapping[str, object], *, affiliation_id: int | None = None
    ) -> tuple[Contact | None, Affiliation | None]:
        """Write each change to the side it lives on, one ``PUT`` per side that changes and nothing else
        (every call counts against the deployment's 5,000 an hour). Returns what each ``PUT`` answered
        (``None`` for a side not written). Pass ``affiliation_id`` when known; otherwise it is the contact's
        default affiliation, which costs a read when only affiliation fields change."""
        contact_changes, affiliation_changes = split_person_changes(changes)
        contact = self.contacts.update(contact_id, contact_changes) if contact_changes else None
        affiliation = None
        if affiliation_changes:
            if affiliation_id is None:
                known = contact or self.contacts.get(contact_id, fields=("default_affiliation",))
                affiliation_id = known.default_affiliation_id
            if affiliation_id is None:
                raise NotWritable(
                    f"contact {contact_id} has no affiliation to hold {', '.join(sorted(affiliation_changes))}"
                )
            affiliation = self.affiliations.update(affiliation_id, affiliation_changes)
        return contact, affiliation


def split_person_changes(changes: Mapping[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """``(contact_changes, affiliation_changes)``; a field on neither side raises ``NotWritable``."""
    contact_changes = {name: value for name, value in changes.items() if name in PERSON_CONTACT_FIELDS}
    affiliation_changes = {name: value for name, value in changes.items() if name in PERSON_AFFILIATION_FIELDS}
    unknown = set(changes) - set(contact_changes) - set(affiliation_changes)
    if unknown:
        check_writable("an affiliated contact", changes, PERSON_CONTACT_FIELDS | PERSON_AFFILIATION_FIELDS)
    return contact_changes, affiliation_changes
