"""What a new workspace starts with: the built-in field mappings, default status maps, and no sync rules
(so nothing is created automatically until an admin says which records may be)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from interlink.models import FieldMapping, StatusMapping, Workspace
from interlink.workspaces.hooks import on_workspace_created

BUILTIN_FIELD_MAPPINGS: dict[str, list[tuple[str, str]]] = {
    # (HubSpot property, Accelo field); a contact's email, phone and title live on its default affiliation
    "contact": [
        ("firstname", "firstname"),
        ("lastname", "surname"),
        ("email", "affiliation.email"),
        ("phone", "affiliation.phone"),
        ("mobilephone", "affiliation.mobile"),
        ("jobtitle", "affiliation.position"),
    ],
    "company": [
        ("name", "name"),
        ("website", "website"),
        ("phone", "phone"),
        ("address", "postal_address.street1"),
        ("address2", "postal_address.street2"),
        ("city", "postal_address.city"),
        ("state", "postal_address.state"),
        ("zip", "postal_address.zipcode"),
        ("country", "postal_address.country"),
    ],
}

# Marketing's fine-grained funnel collapses into Accelo's few statuses, and back. Accelo's statuses are named by
# each deployment; these are its defaults (a contact starts at 'Potential', a company at 'Prospect'). The status
# summary warns about any arrow whose value a deployment does not have.
_FUNNEL = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity")
_FIRST_STATUS = {"contact": "Potential", "company": "Prospect"}
DEFAULT_STATUS_MAPS: dict[str, dict[str, dict[str, str]]] = {
    object_type: {
        "h2a": {
            **dict.fromkeys(_FUNNEL, first),
            "customer": "Active",
            "evangelist": "Active",
            "other": "Inactive",
        },
        "a2h": {first: "lead", "Active": "customer", "Inactive": "other"},
    }
    for object_type, first in _FIRST_STATUS.items()
}


@on_workspace_created
def install_defaults(session: Session, workspace: Workspace) -> None:
    for object_type, pairs in BUILTIN_FIELD_MAPPINGS.items():
        for hubspot_property, accelo_field in pairs:
            session.add(
                FieldMapping(
                    workspace_id=workspace.id,
                    object_type=object_type,
                    hubspot_property=hubspot_property,
                    accelo_field=accelo_field,
                    direction="both",
                    conflict_policy="latest",
                    builtin=True,
                )
            )
    for object_type, maps in DEFAULT_STATUS_MAPS.items():
        for direction, arrows in maps.items():
            for source_value, target_value in arrows.items():
                session.add(
                    StatusMapping(
                        workspace_id=workspace.id,
                        object_type=object_type,
                        direction=direction,
                        source_value=source_value,
                        target_value=target_value,
                    )
                )
    session.flush()
