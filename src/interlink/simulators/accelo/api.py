"""Accelo's ``/api/v0`` routes: every endpoint Interlink's client uses, with Accelo's shapes.

Lists are sorted by id, paged by ``_limit``/``_page``, never totalled (``/count`` routes give counts). A record
that does not exist is ``400 invalid_request``, as in Accelo. An unknown path is ``invalid_request`` too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from interlink.simulators.accelo.http import (
    NO_RESPONSE,
    Call,
    endpoint,
    envelope_body,
    fault_response,
    json_response,
    read_params,
)
from interlink.simulators.accelo.query import ApiFault, FieldSpec, Resource, Selection, Term, invalid, missing
from interlink.simulators.accelo.state import COLLECTIONS, OBJECT_TYPES, STATUS_FIELD
from interlink.simulators.accelo.store import Row
from interlink.simulators.accelo.webhooks import EVENT_IDS, EVENT_TYPES

if TYPE_CHECKING:
    from interlink.simulators.accelo.simulator import AcceloSimulator

PREFIX = "/api/v0"
METHODS_ALL = ["GET", "POST", "PUT", "DELETE", "PATCH"]
_STATUS_OBJECT = FieldSpec(names={"id": None, "title": None, "standing": None, "color": None})
_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")


class ApiRoutes:
    def __init__(self, simulator: AcceloSimulator) -> None:
        self.sim = simulator
        self.state = simulator.state
        self.ops = simulator.operations

    def _route(self, path: str, handler: Callable[[Call], Any], methods: list[str]) -> Route:
        return Route(PREFIX + path, endpoint(self.sim, handler), methods=methods)

    def resource(self, name: str) -> Resource:
        return self.state.resources[name]

    # -- generic shapes -----------------------------------------------------------------------------------
    def render(self, resource: Resource, row: Row, call: Call, default: FieldSpec | None = None) -> dict[str, Any]:
        return self.state.renderer.render(resource, row, call.fields(default))

    def listing(
        self,
        resource_name: str,
        call: Call,
        *,
        extra: Iterable[Term] = (),
        scope: Callable[[Row], bool] | None = None,
        default_fields: FieldSpec | None = None,
    ) -> list[dict[str, Any]]:
        resource = self.resource(resource_name)
        selection = Selection(resource, [*extra, *call.terms()], call.search(), scope=scope)
        limit, page = call.paging()
        return [self.render(resource, row, call, default_fields) for row in selection.page(limit, page)]

    def counting(self, resource_name: str, call: Call, *, scope: Callable[[Row], bool] | None = None) -> dict[str, str]:
        selection = Selection(self.resource(resource_name), call.terms(), call.search(), scope=scope)
        return {"count": str(selection.count())}

    def one(self, resource_name: str, call: Call, row_id: int, *, default: FieldSpec | None = None) -> dict[str, Any]:
        resource = self.resource(resource_name)
        row = resource.table.get(row_id)
        if row is None or (resource.scope is not None and not resource.scope(row)):
            raise missing()
        return self.render(resource, row, call, default)

    def _list_routes(
        self, collection: str, resource_name: str, *, scope: Callable[[Row], bool] | None = None
    ) -> list[Route]:
        return [
            self._route(f"/{collection}", lambda call: self.listing(resource_name, call, scope=scope), ["GET"]),
            self._route(f"/{collection}/count", lambda call: self.counting(resource_name, call, scope=scope), ["GET"]),
            self._route(
                f"/{collection}/{{id:int}}",
                lambda call: self.one(resource_name, call, call.path_int("id")),
                ["GET"],
            ),
        ]

    # -- routes -------------------------------------------------------------------------------------------
    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for kind in OBJECT_TYPES:
            routes.extend(self._status_routes(kind))
            routes.extend(self._profile_routes(kind))
        routes.extend(self._company_routes())
        routes.extend(self._contact_routes())
        routes.extend(self._affiliation_routes())
        for kind in OBJECT_TYPES:
            routes.extend(self._progression_routes(kind))
        routes.extend(self._address_routes())
        routes.extend(self._segmentation_routes())
        routes.extend(self._history_routes())
        routes.extend(self._webhook_routes())
        routes.append(self._route("/tokeninfo", self.token_info, ["GET"]))
        routes.append(self._route("/{rest:path}", self.unknown, METHODS_ALL))
        return routes

    def unknown(self, call: Call) -> Any:
        raise invalid(f"unknown resource {call.request.url.path}")

    def token_info(self, call: Call) -> dict[str, Any]:
        token = call.request.scope.get("accelo.token", "")
        issued = self.sim.oauth.check(token)
        staff = self.state.staff.get(self.ops.user_id) or {}
        expiry = issued.expires_at if issued is not None else None
        return {
            "email": staff.get("email"),
            "firstname": staff.get("firstname"),
            "surname": staff.get("surname"),
            "deployment": self.sim.deployment,
            "locale": {"timezone": "Australia/Sydney", "currency_symbol": "$"},
            "staff_id": str(self.ops.user_id),
            "expiry_date": str(int(expiry)) if expiry is not None else None,
        }

    # -- companies ------------------------------------------------------------------------------------------
    def _company_routes(self) -> list[Route]:
        def create(call: Call) -> Any:
            row = self.ops.create_company(call.form())
            return self.render(self.resource("company"), row, call)

        def update(call: Call) -> Any:
            row = self.ops.update_company(call.path_int("id"), call.form())
            return self.render(self.resource("company"), row, call)

        def delete(call: Call) -> Any:
            self.ops.delete_company(call.path_int("id"))
            return NO_RESPONSE

        def company_contacts_scope(call: Call) -> Callable[[Row], bool]:
            company_id = call.path_int("id")
            self.ops.record("company", company_id)
            contact_ids = {
                self.state.affiliations.rows[i]["contact"]
                for i in self.state.affiliations.lookup("company", [company_id])
            }
            return lambda row: row["id"] in contact_ids

        def order(field: str) -> Callable[[Call], Any]:
            return lambda call: self.listing("company", call, extra=[Term("order_by_desc", (field,))])

        return [
            self._route("/companies", lambda call: self.listing("company", call), ["GET"]),
            self._route("/companies", create, ["POST"]),
            self._route("/companies/count", lambda call: self.counting("company", call), ["GET"]),
            self._route("/companies/recent", order("date_created"), ["GET"]),
            self._route("/companies/newest", order("date_modified"), ["GET"]),
            self._route("/companies/{id:int}", lambda call: self.one("company", call, call.path_int("id")), ["GET"]),
            self._route("/companies/{id:int}", update, ["PUT"]),
            self._route("/companies/{id:int}", delete, ["DELETE"]),
            self._route(
                "/companies/{id:int}/contacts",
                lambda call: self.listing("contact", call, scope=company_contacts_scope(call)),
                ["GET"],
            ),
            self._route(
                "/companies/{id:int}/contacts/count",
                lambda call: self.counting("contact", call, scope=company_contacts_scope(call)),
                ["GET"],
            ),
            self._route("/companies/{id:int}/addresses", lambda call: self._record_addresses("company", call), ["GET"]),
            self._route("/companies/{id:int}/addresses", lambda call: self._create_address("company", call), ["POST"]),
            self._route(
                "/companies/{id:int}/segmentations", lambda call: self._record_segmentations("company", call), ["GET"]
            ),
        ]

    # -- contacts -------------------------------------------------------------------------------------------
    def _contact_routes(self) -> list[Route]:
        def create(call: Call) -> Any:
            row = self.ops.create_contact(call.form())
            return self.render(self.resource("contact"), row, call)

        def update(call: Call) -> Any:
            row = self.ops.update_contact(call.path_int("id"), call.form())
            return self.render(self.resource("contact"), row, call)

        def deactivate(call: Call) -> Any:
            self.ops.deactivate_contact(call.path_int("id"))
            return NO_RESPONSE

        def order(field: str) -> Callable[[Call], Any]:
            return lambda call: self.listing("contact", call, extra=[Term("order_by_desc", (field,))])

        return [
            self._route("/contacts", lambda call: self.listing("contact", call), ["GET"]),
            self._route("/contacts", create, ["POST"]),
            self._route("/contacts/count", lambda call: self.counting("contact", call), ["GET"]),
            self._route("/contacts/recent", order("date_created"), ["GET"]),
            self._route("/contacts/newest", order("date_modified"), ["GET"]),
            self._route("/contacts/{id:int}", lambda call: self.one("contact", call, call.path_int("id")), ["GET"]),
            self._route("/contacts/{id:int}", update, ["PUT"]),
            self._route("/contacts/{id:int}", deactivate, ["DELETE"]),
            self._route("/contacts/{id:int}/addresses", lambda call: self._record_addresses("contact", call), ["GET"]),
            self._route("/contacts/{id:int}/addresses", lambda call: self._create_address("contact", call), ["POST"]),
            self._route(
                "/contacts/{id:int}/segmentations", lambda call: self._record_segmentations("contact", call), ["GET"]
            ),
        ]

    # -- affiliations ---------------------------------------------------------------------------------------
    def _affiliation_routes(self) -> list[Route]:
        def create(call: Call) -> Any:
            row = self.ops.create_affiliation(call.form())
            return self.render(self.resource("affiliation"), row, call)

        def update(call: Call) -> Any:
            row = self.ops.update_affiliation(call.path_int("id"), call.form())
            return self.render(self.resource("affiliation"), row, call)

        def delete(call: Call) -> Any:
            self.ops.delete_affiliation(call.path_int("id"))
            return NO_RESPONSE

        return [
            self._route("/affiliations", lambda call: self.listing("affiliation", call), ["GET"]),
            self._route("/affiliations", create, ["POST"]),
            self._route("/affiliations/count", lambda call: self.counting("affiliation", call), ["GET"]),
            self._route(
                "/affiliations/{id:int}", lambda call: self.one("affiliation", call, call.path_int("id")), ["GET"]
            ),
            self._route("/affiliations/{id:int}", update, ["PUT"]),
            self._route("/affiliations/{id:int}", delete, ["DELETE"]),
        ]

    # -- statuses and progressions --------------------------------------------------------------------------
    def _status_routes(self, kind: str) -> list[Route]:
        collection = COLLECTIONS[kind]

        def of_record(call: Call) -> Any:
            row = self.ops.record(kind, call.path_int("id"))
            status = self.state.statuses[kind].get(row.get(STATUS_FIELD[kind]) or 0)
            if status is None:
                raise invalid(f"{kind} {row['id']} has no status")
            return self.render(self.resource(f"{kind}_status"), status, call)

        return [
            *self._list_routes(f"{collection}/statuses", f"{kind}_status"),
            self._route(f"/{collection}/{{id:int}}/status", of_record, ["GET"]),
        ]

    def _progression_routes(self, kind: str) -> list[Route]:
        collection = COLLECTIONS[kind]

        def allowed(call: Call) -> Any:
            resource = self.resource(f"{kind}_progression")
            rows = self.ops.allowed_progressions(kind, call.path_int("id"))
            default = FieldSpec(names={"status": _STATUS_OBJECT})
            return [self.render(resource, row, call, default) for row in rows]

        def apply(call: Call) -> Any:
            row = self.ops.apply_progression(kind, call.path_int("id"), call.path_int("progression_id"))
            return self.render(self.resource(kind), row, call)

        return [
            self._route(f"/{collection}/{{id:int}}/progressions", allowed, ["GET"]),
            self._route(f"/{collection}/{{id:int}}/progressions/{{progression_id:int}}/auto", apply, ["POST", "PUT"]),
        ]

    def _history_routes(self) -> list[Route]:
        return self._list_routes("progressions/history", "history")

    # -- profile fields and values --------------------------------------------------------------------------
    def _profile_routes(self, kind: str) -> list[Route]:
        collection = COLLECTIONS[kind]

        def of_kind(row: Row) -> bool:
            return bool(row.get("link_type") == kind)

        def record_values(call: Call) -> Any:
            record_id = call.path_int("id")
            self.ops.record(kind, record_id)
            value_ids = self.state.profile_values.lookup("link_id", [record_id])
            return self.listing(
                "profile_value", call, scope=lambda row: row["id"] in value_ids and row["link_type"] == kind
            )

        def create(call: Call) -> Any:
            row = self.ops.set_profile_value(kind, call.path_int("id"), call.path_int("field_id"), call.form())
            return self.render(self.resource("profile_value"), row, call)

        def update(call: Call) -> Any:
            row = self.ops.update_profile_value(kind, call.path_int("id"), call.path_int("value_id"), call.form())
            return self.render(self.resource("profile_value"), row, call)

        return [
            self._route(
                f"/{collection}/profiles/fields",
                lambda call: self.listing("profile_field", call, scope=of_kind),
                ["GET"],
            ),
            self._route(
                f"/{collection}/profiles/values",
                lambda call: self.listing("profile_value", call, scope=of_kind),
                ["GET"],
            ),
            self._route(
                f"/{collection}/profiles/values/count",
                lambda call: self.counting("profile_value", call, scope=of_kind),
                ["GET"],
            ),
            self._route(f"/{collection}/{{id:int}}/profiles/values", record_values, ["GET"]),
            self._route(f"/{collection}/{{id:int}}/profiles/fields/{{field_id:int}}", create, ["POST"]),
            # The companies section of Accelo's docs writes this path without "fields/".
            self._route(f"/{collection}/{{id:int}}/profiles/{{field_id:int}}", create, ["POST"]),
            self._route(f"/{collection}/{{id:int}}/profiles/values/{{value_id:int}}", update, ["PUT"]),
        ]

    # -- segmentations ------------------------------------------------------------------------------------
    def _segmentation_routes(self) -> list[Route]:
        return self._list_routes("segmentations", "segmentation")

    def _record_segmentations(self, kind: str, call: Call) -> Any:
        record_id = call.path_int("id")
        self.ops.record(kind, record_id)
        table = self.state.segmentation_values
        rows = sorted(
            (table.rows[i] for i in table.lookup("link_id", [record_id]) if table.rows[i]["link_type"] == kind),
            key=lambda row: row["segmentation_id"],
        )
        return [self.render(self.resource("segmentation_value"), row, call) for row in rows]

    # -- addresses ----------------------------------------------------------------------------------------
    def _address_routes(self) -> list[Route]:
        def create(call: Call) -> Any:
            form = call.form()
            kind = str(form.get("against_type") or "")
            against = form.get("against_id")
            if not kind or against in (None, "") or not str(against).isdigit():
                raise invalid("against_type and against_id are required")
            row = self.ops.create_address(kind, int(str(against)), form)
            return self.render(self.resource("address"), row, call)

        def update(call: Call) -> Any:
            row = self.ops.update_address(call.path_int("id"), call.form())
            return self.render(self.resource("address"), row, call)

        return [
            *self._list_routes("addresses", "address"),
            self._route("/addresses", create, ["POST"]),
            self._route("/addresses/{id:int}", update, ["PUT"]),
        ]

    def _record_addresses(self, kind: str, call: Call) -> Any:
        record_id = call.path_int("id")
        self.ops.record(kind, record_id)
        return self.listing(
            "address", call, scope=lambda row: row["against_type"] == kind and row["against_id"] == record_id
        )

    def _create_address(self, kind: str, call: Call) -> Any:
        row = self.ops.create_address(kind, call.path_int("id"), call.form())
        return self.render(self.resource("address"), row, call)

    # -- webhook subscriptions ------------------------------------------------------------------------------
    def _webhook_routes(self) -> list[Route]:
        resource = self.resource("subscription")
        mine = self.ops.user_id

        def listing(call: Call) -> Any:
            rows = [row for row in self.state.subscriptions.rows.values() if row["user_id"] == mine]
            return {"subscriptions": [self.render(resource, row, call) for row in rows]}

        def types(call: Call) -> Any:
            return [
                {"event_id": event_id, "event_title": title, "trigger_table": table, "trigger_type": kind}
                for event_id, title, table, kind in EVENT_TYPES
            ]

        def create(call: Call) -> Any:
            form = call.form()
            event_id = str(form.get("event_id") or "")
            trigger_url = str(form.get("trigger_url") or "")
            content_type = str(form.get("content_type") or "application/x-www-form-urlencoded")
            if event_id not in EVENT_IDS:
                raise invalid(f"unknown event_id {event_id!r}")
            if not trigger_url.startswith(("http://", "https://")):
                raise invalid("trigger_url must be an http(s) URL")
            if content_type not in _CONTENT_TYPES:
                raise invalid(f"content_type must be one of {', '.join(_CONTENT_TYPES)}")
            table, kind = next((t, k) for e, _, t, k in EVENT_TYPES if e == event_id)
            row = self.state.subscriptions.insert(
                {
                    "event_id": event_id,
                    "trigger_url": trigger_url,
                    "content_type": content_type,
                    "secret": str(form.get("secret") or "") or None,
                    "trigger_table": table,
                    "trigger_type": kind,
                    "user_deployment": self.sim.deployment,
                    "user_id": mine,
                }
            )
            return {"subscription": self.render(resource, row, call)}

        def subscription(call: Call) -> Row:
            row = self.state.subscriptions.get(call.path_int("id"))
            if row is None:
                raise missing()
            return row

        def delete(call: Call) -> Any:
            self.state.subscriptions.delete(subscription(call)["id"])
            return NO_RESPONSE

        def object_id(call: Call) -> int:
            raw = call.form().get("object_id")
            if raw in (None, "") or not str(raw).isdigit():
                raise invalid("object_id is required")
            return int(str(raw))

        def trigger(call: Call) -> Any:
            row = subscription(call)
            self.sim.webhooks.emit(row["event_id"], object_id(call))
            return NO_RESPONSE

        async def dispatch(request: Request) -> Response:
            # Not under the state lock: it waits on the receiver, synchronously, like Accelo's /dispatch.
            params: dict[str, Any] = {}
            try:
                params = await read_params(request)
                with self.sim.lock:
                    call = Call(self.sim, request, params)
                    row, record = dict(subscription(call)), object_id(call)
            except ApiFault as fault:
                return fault_response(fault, params)
            status = await anyio.to_thread.run_sync(self.sim.webhooks.dispatch_now, row, record)
            code, body = envelope_body({"status": status}, params)
            return json_response(code, body)

        return [
            self._route("/webhooks/subscriptions", listing, ["GET"]),
            self._route("/webhooks/subscriptions", create, ["POST"]),
            self._route("/webhooks/subscriptions/types", types, ["GET"]),
            self._route("/webhooks/subscriptions/{id:int}", delete, ["DELETE"]),
            self._route("/webhooks/subscriptions/{id:int}/trigger", trigger, ["POST"]),
            Route(PREFIX + "/webhooks/subscriptions/{id:int}/dispatch", dispatch, methods=["POST"]),
        ]


__all__ = ["ApiFault", "ApiRoutes"]
