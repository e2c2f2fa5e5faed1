"""The simulated deployment's data: tables, how each resource renders, the default workflow, persistence."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interlink.simulators.accelo.query import Renderer, Resource
from interlink.simulators.accelo.store import Clock, Row, Table

OBJECT_TYPES = ("company", "contact", "affiliation")
COLLECTIONS = {"company": "companies", "contact": "contacts", "affiliation": "affiliations"}
OBJECT_OF_COLLECTION = {collection: kind for kind, collection in COLLECTIONS.items()}
STATUS_FIELD = {"company": "status", "contact": "status", "affiliation": "affiliation_status"}

# The default workflow: statuses (title, standing, may start a record) and progressions (from, to, title).
DEFAULT_STATUSES: dict[str, list[tuple[str, str, str, bool]]] = {
    "company": [
        ("Prospect", "prospect", "blue", True),
        ("Active", "active", "green", True),
        ("Paused", "paused", "orange", False),
        ("Inactive", "inactive", "grey", False),
    ],
    "contact": [
        ("Potential", "potential", "blue", True),
        ("Active", "active", "green", True),
        ("Inactive", "inactive", "grey", False),
    ],
    "affiliation": [("Active", "active", "green", True), ("Inactive", "inactive", "grey", False)],
}
DEFAULT_TRANSITIONS: dict[str, list[tuple[str | None, str, str]]] = {
    "company": [
        ("Prospect", "Active", "Win"),
        ("Prospect", "Inactive", "Disqualify"),
        ("Active", "Paused", "Pause"),
        ("Paused", "Active", "Resume"),
        ("Active", "Inactive", "Deactivate"),
        ("Paused", "Inactive", "Deactivate"),
        ("Inactive", "Active", "Reactivate"),
    ],
    "contact": [
        ("Potential", "Active", "Activate"),
        ("Potential", "Inactive", "Deactivate"),
        ("Active", "Inactive", "Deactivate"),
        ("Inactive", "Active", "Reactivate"),
    ],
    "affiliation": [("Active", "Inactive", "Deactivate"), ("Inactive", "Active", "Reactivate")],
}
DEFAULT_COUNTRIES = [
    ("Australia", "au", "Postcode", "State"),
    ("United States", "us", "Zip Code", "State"),
    ("United Kingdom", "gb", "Postcode", "County"),
    ("Canada", "ca", "Postal Code", "Province"),
    ("New Zealand", "nz", "Postcode", "Region"),
    ("Germany", "de", "Postleitzahl", "Land"),
]
DEFAULT_STATES = [
    ("New South Wales", "NSW", 1, "Australia/Sydney"),
    ("Victoria", "VIC", 1, "Australia/Melbourne"),
    ("California", "CA", 2, "America/Los_Angeles"),
    ("New York", "NY", 2, "America/New_York"),
    ("Texas", "TX", 2, "America/Chicago"),
]


def _full_name(row: Row) -> str:
    return " ".join(part for part in (row.get("firstname"), row.get("surname")) if part)


class AcceloState:
    """Every table of one deployment, plus the resource definitions the API renders them with."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.companies = Table("company", indexed=("status",))
        self.contacts = Table("contact", indexed=("username",))
        self.affiliations = Table("affiliation", indexed=("company", "contact", "email"))
        self.addresses = Table("address", indexed=("against_id",), tracks_modified=False)
        self.statuses = {kind: Table(f"{kind}_status", tracks_modified=False) for kind in OBJECT_TYPES}
        self.progressions = {kind: Table(f"{kind}_progression", tracks_modified=False) for kind in OBJECT_TYPES}
        self.history = Table("progression_history", indexed=("against_id",))
        self.profile_fields = Table("profile_field", tracks_modified=False)
        self.profile_values = Table("profile_value", indexed=("link_id",))
        self.segmentations = Table("segmentation", tracks_modified=False)
        self.segmentation_values = Table("segmentation_value", indexed=("link_id",), tracks_modified=False)
        self.subscriptions = Table("webhook_subscription", tracks_modified=False)
        self.countries = Table("country", tracks_modified=False)
        self.states = Table("state", tracks_modified=False)
        self.staff = Table("staff", tracks_modified=False)
        self.records = {"company": self.companies, "contact": self.contacts, "affiliation": self.affiliations}
        self.resources = self._resources()
        self.renderer = Renderer(self.resources)

    def tables(self) -> dict[str, Table]:
        tables = {
            "companies": self.companies,
            "contacts": self.contacts,
            "affiliations": self.affiliations,
            "addresses": self.addresses,
            "history": self.history,
            "profile_fields": self.profile_fields,
            "profile_values": self.profile_values,
            "segmentations": self.segmentations,
            "segmentation_values": self.segmentation_values,
            "subscriptions": self.subscriptions,
            "countries": self.countries,
            "states": self.states,
            "staff": self.staff,
        }
        for kind in OBJECT_TYPES:
            tables[f"{kind}_statuses"] = self.statuses[kind]
            tables[f"{kind}_progressions"] = self.progressions[kind]
        return tables

    def _resources(self) -> dict[str, Resource]:
        resources: dict[str, Resource] = {}
        resources["company"] = Resource(
            "company",
            self.companies,
            defaults=("id", "name"),
            optional=(
                "custom_id",
                "website",
                "phone",
                "fax",
                "date_created",
                "date_modified",
                "date_last_interacted",
                "comments",
                "standing",
                "status",
                "postal_address",
                "staff_bookmarked",
                "default_affiliation",
            ),
            links={"status": "company_status", "postal_address": "address", "default_affiliation": "affiliation"},
            aliases={"affiliation": "default_affiliation", "country": "country_id"},
            search_fields=("website", "name", "phone", "fax"),
        )
        resources["contact"] = Resource(
            "contact",
            self.contacts,
            defaults=("id", "firstname", "surname", "mobile", "email"),
            optional=(
                "username",
                "middlename",
                "title",
                "timezone",
                "date_created",
                "date_modified",
                "date_last_interacted",
                "comments",
                "default_affiliation",
                "status",
                "standing",
            ),
            links={"status": "contact_status", "default_affiliation": "affiliation"},
            aliases={"affiliation": "default_affiliation", "contact_status_id": "status"},
            search_fields=("firstname", "surname", "email", "mobile"),
            computed={"email": self._contact_email, "mobile": self._contact_mobile},
        )
        resources["affiliation"] = Resource(
            "affiliation",
            self.affiliations,
            defaults=("id", "mobile", "email"),
            optional=(
                "fax",
                "position",
                "phone",
                "postal_address",
                "physical_address",
                "company",
                "contact",
                "affiliation_status",
                "standing",
                "date_created",
                "date_modified",
                "date_last_interacted",
                "staff_bookmarked",
                "portal_access",
                "communication",
                "invoice_method",
            ),
            links={
                "company": "company",
                "contact": "contact",
                "affiliation_status": "affiliation_status",
                "postal_address": "address",
                "physical_address": "address",
            },
            aliases={"status": "affiliation_status"},
            search_fields=("phone", "fax", "mobile", "email", "firstname", "surname"),
            computed={
                "firstname": lambda row: self._contact_field(row, "firstname"),
                "surname": lambda row: self._contact_field(row, "surname"),
                "fullname": lambda row: self._contact_field(row, "fullname"),
            },
        )
        for kind in OBJECT_TYPES:
            resources[f"{kind}_status"] = Resource(
                f"{kind}_status",
                self.statuses[kind],
                defaults=("id", "title"),
                optional=("standing", "color", "start", "ordering"),
                search_fields=("title",),
            )
            resources[f"{kind}_progression"] = Resource(
                f"{kind}_progression",
                self.progressions[kind],
                defaults=("id", "title", "status"),
                optional=(),
                links={"status": f"{kind}_status"},
            )
        resources["address"] = Resource(
            "address",
            self.addresses,
            defaults=("id", "full"),
            optional=(
                "title",
                "street1",
                "street2",
                "city",
                "zipcode",
                "state",
                "country",
                "postal",
                "physical",
                "short",
                "against_type",
                "against_id",
            ),
            links={"state": "state", "country": "country"},
            aliases={"country_id": "country", "state_id": "state"},
            computed={
                "full": lambda row: self._address_line(row, street=True),
                "short": lambda row: self._address_line(row, street=False),
            },
        )
        resources["country"] = Resource(
            "country",
            self.countries,
            defaults=("id", "title"),
            optional=("prefix", "suffix", "postcode_name", "state_name", "state_required", "postcode_required"),
        )
        resources["state"] = Resource(
            "state",
            self.states,
            defaults=("id", "title"),
            optional=("abbreviation", "country_id", "ordering", "timezone"),
        )
        resources["staff"] = Resource("staff", self.staff, defaults=("id", "firstname", "surname"), optional=("email",))
        resources["history"] = Resource(
            "history",
            self.history,
            defaults=("id", "to_id", "to_title"),
            optional=("against_type", "against_id", "modified_by", "date_modified"),
            links={"modified_by": "staff"},
        )
        resources["profile_field"] = Resource(
            "profile_field",
            self.profile_fields,
            defaults=("id", "field_name", "field_type"),
            optional=(
                "parent_id",
                "link_type",
                "required",
                "restrictions",
                "exported",
                "lookup_type",
                "options",
                "confidential",
                "description",
            ),
        )
        resources["profile_value"] = Resource(
            "profile_value",
            self.profile_values,
            defaults=("id", "field_type", "field_name", "value_type", "value", "values"),
            optional=("date_modified", "modified_by", "field_id", "link_type", "link_id"),
            links={"modified_by": "staff"},
            computed={"values": lambda row: row.get("values") if row.get("field_type") == "multi_select" else None},
            omit_when_none=frozenset({"values"}),
        )
        resources["segmentation"] = Resource(
            "segmentation",
            self.segmentations,
            defaults=("id", "title"),
            optional=("link_type", "standing", "required", "exclusive", "leaf"),
            search_fields=("title",),
        )
        resources["segmentation_value"] = Resource(
            "segmentation_value",
            self.segmentation_values,
            defaults=("id", "title", "value", "values"),
            optional=(),
            computed={
                "id": lambda row: row["segmentation_id"],
                "title": lambda row: self._segmentation_title(row),
                "value": lambda row: ", ".join(row.get("values") or []),
            },
        )
        resources["subscription"] = Resource(
            "subscription",
            self.subscriptions,
            defaults=(
                "subscription_id",
                "event_id",
                "trigger_url",
                "content_type",
                "trigger_table",
                "trigger_type",
                "user_deployment",
                "user_id",
            ),
            optional=(),
            computed={"subscription_id": lambda row: row["id"]},
        )
        return resources

    # -- computed values ------------------------------------------------------------------------------------
    def _default_affiliation(self, row: Row) -> Row | None:
        affiliation_id = row.get("default_affiliation")
        return self.affiliations.get(affiliation_id) if affiliation_id else None

    def _contact_email(self, row: Row) -> Any:
        affiliation = self._default_affiliation(row)
        return affiliation.get("email") if affiliation else None

    def _contact_mobile(self, row: Row) -> Any:
        affiliation = self._default_affiliation(row)
        return affiliation.get("mobile") if affiliation else None

    def _contact_field(self, row: Row, name: str) -> Any:
        contact = self.contacts.get(row.get("contact") or 0)
        if contact is None:
            return None
        return _full_name(contact) if name == "fullname" else contact.get(name)

    def _address_line(self, row: Row, *, street: bool) -> str:
        """Accelo's one-line forms, as its docs show them: ``full`` "880 Harrison St., San Francisco, 94107, CA,
        United States" (the first street line only) and ``short`` "San Francisco, 94107, CA, United States"."""
        state = self.states.get(row.get("state") or 0)
        country = self.countries.get(row.get("country") or 0)
        parts = [
            row.get("street1") if street else None,
            row.get("city"),
            row.get("zipcode"),
            state.get("abbreviation") if state else None,
            country.get("title") if country else None,
        ]
        return ", ".join(str(part) for part in parts if part)

    def _segmentation_title(self, row: Row) -> Any:
        segmentation = self.segmentations.get(row["segmentation_id"])
        return segmentation.get("title") if segmentation else None

    # -- defaults -------------------------------------------------------------------------------------------
    def install_defaults(self) -> None:
        """The workflow, countries and the API user every fresh deployment starts with."""
        for kind in OBJECT_TYPES:
            for ordering, (title, standing, color, start) in enumerate(DEFAULT_STATUSES[kind]):
                self.statuses[kind].insert(
                    {
                        "title": title,
                        "standing": standing,
                        "color": color,
                        "start": "yes" if start else "no",
                        "ordering": ordering,
                    }
                )
            by_title = {row["title"]: row["id"] for row in self.statuses[kind].rows.values()}
            for source, target, title in DEFAULT_TRANSITIONS[kind]:
                self.progressions[kind].insert(
                    {
                        "title": title,
                        "from_status": by_title[source] if source else None,
                        "status": by_title[target],
                    }
                )
        for title, suffix, postcode_name, state_name in DEFAULT_COUNTRIES:
            self.countries.insert(
                {
                    "title": title,
                    "prefix": None,
                    "suffix": suffix,
                    "postcode_name": postcode_name,
                    "state_name": state_name,
                    "state_required": "no",
                    "postcode_required": "no",
                }
            )
        for ordering, (title, abbreviation, country_id, timezone) in enumerate(DEFAULT_STATES):
            self.states.insert(
                {
                    "title": title,
                    "abbreviation": abbreviation,
                    "country_id": country_id,
                    "ordering": ordering,
                    "timezone": timezone,
                }
            )
        self.staff.insert({"firstname": "Sim", "surname": "Admin", "email": "admin@simulator.accelo.test"})

    def clear(self) -> None:
        for table in self.tables().values():
            table.clear()

    # -- persistence ----------------------------------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        return {
            "version": 1,
            "clock_offset": self.clock.offset,
            "tables": {n: t.dump() for n, t in self.tables().items()},
        }

    def load(self, data: Mapping[str, Any]) -> None:
        tables = self.tables()
        for name, table_data in data.get("tables", {}).items():
            if name in tables:
                tables[name].load(table_data)
        self.clock.offset = float(data.get("clock_offset", 0.0))
