"""Deal pipelines and their stages, and owners (reference/hubspot-api.md §4.4)."""

from __future__ import annotations

from collections.abc import Iterator

from interlink.connectors.hubspot.errors import HubSpotNotFound
from interlink.connectors.hubspot.schemas import Owner, Pipeline, PipelineStage, object_type_name, parse_model
from interlink.connectors.hubspot.transport import HubSpotTransport, next_after, results_of

OWNERS_PAGE_MAX = 500


class PipelinesApi:
    def __init__(self, transport: HubSpotTransport) -> None:
        self.transport = transport

    def get_all(self, object_type: str = "deals") -> list[Pipeline]:
        """Every pipeline with its stages (no paging: HubSpot returns them all)."""
        path = f"/crm/v3/pipelines/{object_type_name(object_type)}"
        body = self.transport.json_object("GET", path, route=path)
        return [parse_model(Pipeline, item, what="pipeline") for item in results_of(body, what="pipelines")]

    def get(self, pipeline_id: str, object_type: str = "deals") -> Pipeline:
        path = f"/crm/v3/pipelines/{object_type_name(object_type)}"
        body = self.transport.json_object("GET", f"{path}/{pipeline_id}", route=f"{path}/{{pipelineId}}")
        return parse_model(Pipeline, body, what="pipeline")

    def stages(self, pipeline_id: str, object_type: str = "deals") -> list[PipelineStage]:
        path = f"/crm/v3/pipelines/{object_type_name(object_type)}"
        body = self.transport.json_object("GET", f"{path}/{pipeline_id}/stages", route=f"{path}/{{pipelineId}}/stages")
        return [parse_model(PipelineStage, item, what="pipeline stage") for item in results_of(body, what="stages")]


class OwnersApi:
    def __init__(self, transport: HubSpotTransport) -> None:
        self.transport = transport

    def iterate(self, *, email: str | None = None, archived: bool = False) -> Iterator[Owner]:
        """Every owner (users and queues), page by page; ``email`` narrows to one person."""
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": OWNERS_PAGE_MAX, "archived": "true" if archived else "false"}
            if email:
                params["email"] = email
            if after is not None:
                params["after"] = after
            # The trailing slash is HubSpot's own path (the official SDK calls it so).
            body = self.transport.json_object("GET", "/crm/v3/owners/", route="/crm/v3/owners/", params=params)
            for item in results_of(body, what="an owners page"):
                yield parse_model(Owner, item, what="owner")
            following = next_after(body)
            if following is None or following == after:
                return
            after = following

    def get(self, owner_id: str) -> Owner:
        body = self.transport.json_object("GET", f"/crm/v3/owners/{owner_id}", route="/crm/v3/owners/{ownerId}")
        return parse_model(Owner, body, what="owner")

    def find_by_email(self, email: str) -> Owner | None:
        for owner in self.iterate(email=email):
            if (owner.email or "").lower() == email.lower():
                return owner
        return None

    def exists(self, owner_id: str) -> bool:
        try:
            self.get(owner_id)
        except HubSpotNotFound:
            return False
        return True
