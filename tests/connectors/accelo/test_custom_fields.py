"""Profile fields and values (custom fields), segmentations (categories) and addresses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from interlink.connectors.accelo.custom_fields import profile_value_params
from interlink.connectors.accelo.errors import AcceloInvalidRequest, NotWritable
from interlink.connectors.accelo.query import filter_term
from tests.connectors.accelo.harness import Harness


class TestProfiles:
    def test_field_definitions(self, accelo: Harness) -> None:
        sim = accelo.sim
        sim.add_profile_field("company", "Opening Hours", description="HH-HH")
        sim.add_profile_field("company", "Tier", "select", options=["Gold", "Silver"])
        sim.add_profile_field("contact", "Shoe size", "integer")

        fields = accelo.client.profiles.fields("company")

        assert [(f.field_name, f.field_type) for f in fields] == [("Opening Hours", "text"), ("Tier", "select")]
        assert fields[1].options == ["Gold", "Silver"]
        assert fields[0].description == "HH-HH"
        assert fields[0].required is False
        assert [f.field_name for f in accelo.client.profiles.fields("contact")] == ["Shoe size"]

    def test_each_type_is_written_with_its_own_parameter(self, accelo: Harness) -> None:
        sim = accelo.sim
        company_id = sim.user_create_company("Planet Express")
        other_id = sim.user_create_company("MomCorp")
        ids = {
            name: sim.add_profile_field("company", name, kind, options=options, lookup_type=lookup)
            for name, kind, options, lookup in [
                ("Hours", "text", (), None),
                ("Staff", "integer", (), None),
                ("Founded", "date", (), None),
                ("Tier", "select", ("Gold", "Silver"), None),
                ("Markets", "multi_select", ("Earth", "Mars", "Moon"), None),
                ("Revenue", "currency", (), None),
                ("Rival", "lookup", (), "company"),
            ]
        }
        fields = {f.field_name: f for f in accelo.client.profiles.fields("company")}
        profiles = accelo.client.profiles
        values = {
            "Hours": "09-17",
            "Staff": 42,
            "Founded": date(2999, 1, 1),
            "Tier": "Gold",
            "Markets": ["Earth", "Moon"],
            "Revenue": Decimal("1250.50"),
            "Rival": other_id,
        }
        written = {
            name: profiles.set_value("company", company_id, fields[name], value) for name, value in values.items()
        }

        read = {v.field_name: v for v in profiles.values_of("company", company_id)}
        assert set(read) == set(values)
        assert read["Hours"].typed_value() == "09-17"
        assert read["Staff"].typed_value() == 42
        assert read["Founded"].typed_value() == datetime(2999, 1, 1, tzinfo=UTC)
        assert read["Markets"].typed_value() == ["Earth", "Moon"]
        assert read["Markets"].value == "Earth, Moon"
        assert read["Revenue"].typed_value() == Decimal("1250.50")
        assert read["Rival"].typed_value() == other_id
        assert read["Rival"].value_type == "company"
        assert read["Tier"].link_id == company_id
        assert read["Tier"].field_id == ids["Tier"]
        assert written["Staff"].id == read["Staff"].id

    def test_updating_a_value_by_its_id(self, accelo: Harness) -> None:
        sim = accelo.sim
        company_id = sim.user_create_company("Planet Express")
        sim.add_profile_field("company", "Staff", "integer")
        field = accelo.client.profiles.fields("company")[0]
        created = accelo.client.profiles.set_value("company", company_id, field, 3)

        updated = accelo.client.profiles.set_value("company", company_id, field, 4, value_id=created.id)

        assert updated.id == created.id
        assert updated.typed_value() == 4
        assert accelo.calls("/companies/{id:int}/profiles/values/{value_id:int}", method="PUT") == 1

    def test_values_outside_the_options_are_refused(self, accelo: Harness) -> None:
        sim = accelo.sim
        company_id = sim.user_create_company("Planet Express")
        sim.add_profile_field("company", "Tier", "select", options=["Gold", "Silver"])
        field = accelo.client.profiles.fields("company")[0]
        with pytest.raises(AcceloInvalidRequest, match="not an option"):
            accelo.client.profiles.set_value("company", company_id, field, "Bronze")

    def test_all_values_of_a_record_type(self, accelo: Harness) -> None:
        sim = accelo.sim
        first = sim.user_create_company("Planet Express")
        second = sim.user_create_company("MomCorp")
        field_id = sim.add_profile_field("company", "Hours")
        sim.user_set_profile_value("company", first, field_id, "9-5")
        sim.user_set_profile_value("company", second, field_id, "24/7")
        values = list(accelo.client.profiles.iterate_values("company"))
        assert sorted((v.link_id, v.value) for v in values) == [(first, "9-5"), (second, "24/7")]
        only_second = list(accelo.client.profiles.iterate_values("company", filter_term("link_id", second)))
        assert [v.value for v in only_second] == ["24/7"]

    def test_a_known_bound_saves_the_call_that_only_finds_the_end(self, accelo: Harness) -> None:
        sim = accelo.sim
        field_id = sim.add_profile_field("company", "Hours")
        companies = [sim.user_create_company(f"Company {i}") for i in range(4)]
        for company in companies:
            sim.user_set_profile_value("company", company, field_id, "9-5")
        route = "/companies/profiles/values"
        by_records = (filter_term("link_id", *companies), filter_term("field_id", field_id))

        unbounded = list(accelo.client.profiles.iterate_values("company", *by_records, page_size=2))
        assert len(unbounded) == 4
        assert accelo.calls(route) == 3  # two full pages, then an empty one to learn there is no more

        bounded = list(accelo.client.profiles.iterate_values("company", *by_records, page_size=2, most=4))
        assert [v.link_id for v in bounded] == [v.link_id for v in unbounded]
        assert accelo.calls(route) == 3 + 2

    def test_value_parameters_by_type(self) -> None:
        assert profile_value_params("integer", 7) == {"value_int": "7"}
        assert profile_value_params("date", date(2025, 3, 1)) == {"value_date": "2025-03-01"}
        assert profile_value_params("lookup", 12, lookup_type="company") == {"value_id": "12", "value_type": "company"}
        assert profile_value_params("multi_select", ["a", "b"]) == {"value": "a, b"}
        assert profile_value_params("decimal", Decimal("1.5")) == {"value": "1.5"}
        assert profile_value_params("text", None) == {"value": ""}
        with pytest.raises(ValueError, match="whole number"):
            profile_value_params("integer", "seven")
        with pytest.raises(ValueError, match="lookup_type"):
            profile_value_params("lookup", 3)


class TestSegmentations:
    def test_definitions_and_a_records_values(self, accelo: Harness) -> None:
        sim = accelo.sim
        industry = sim.add_segmentation("Industry", "company", exclusive=True)
        sim.add_segmentation("Region", "company")
        company_id = sim.user_create_company("Planet Express")
        sim.set_segmentation_values("company", company_id, industry, ["Transport"])

        definitions = accelo.client.segmentations.definitions()
        values = accelo.client.segmentations.of_record("company", company_id)

        assert [(s.title, s.exclusive) for s in definitions] == [("Industry", True), ("Region", False)]
        assert accelo.client.segmentations.count() == 2
        assert accelo.client.segmentations.get(industry).title == "Industry"
        assert [(v.id, v.title, v.value, v.values) for v in values] == [
            (industry, "Industry", "Transport", ["Transport"])
        ]


class TestAddresses:
    def test_create_update_and_list_a_companys_addresses(self, accelo: Harness) -> None:
        company_id = accelo.sim.user_create_company("Planet Express")
        addresses = accelo.client.addresses
        created = addresses.create(
            "company",
            company_id,
            {"street1": "57th Street", "city": "New New York", "state": "NY", "country": "United States", "postal": 1},
        )
        assert created.city == "New New York"
        assert created.postal is True
        assert created.country is not None
        assert created.country.title == "United States"
        assert created.state is not None
        assert created.state.abbreviation == "NY"

        updated = addresses.update(created.id, {"zipcode": "10001", "street2": "Floor 3"})

        assert updated.zipcode == "10001"
        assert [a.id for a in addresses.of_record("company", company_id)] == [created.id]
        assert accelo.client.companies.get(company_id).postal_address_id == created.id
        assert addresses.get_many([created.id])[created.id].street2 == "Floor 3"
        assert addresses.count() == 1

    def test_unknown_address_fields_are_refused_locally(self, local: Harness) -> None:
        with pytest.raises(NotWritable):
            local.client.addresses.update(1, {"planet": "Mars"})
