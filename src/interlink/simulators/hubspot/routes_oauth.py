"""OAuth endpoints (reference/hubspot-api.md §7): the authorize page (a sandbox consents at once), the
token endpoint, and token information. None of these count against the API rate limits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from interlink.simulators.hubspot.endpoint import Call, Handler, api
from interlink.simulators.hubspot.oauth import ALL_SCOPES
from interlink.simulators.hubspot.wire import json_response, not_found, validation_error

if TYPE_CHECKING:
    from interlink.simulators.hubspot.simulator import HubSpotSimulator


def token(call: Call) -> Response:
    form = dict(parse_qsl(call.body.decode("utf-8", "replace"), keep_blank_values=True))
    return json_response(call.sim.auth.token(form))


def authorize(call: Call) -> Response:
    client_id = call.query("client_id") or ""
    redirect_uri = call.query("redirect_uri") or ""
    if not redirect_uri:
        raise validation_error("redirect_uri is required")
    requested = {*(call.query("scope") or "").split(), *(call.query("optional_scope") or "").split()}
    scopes = frozenset(requested & ALL_SCOPES) | {"oauth"}
    code = call.sim.auth.issue_code(client_id, redirect_uri, scopes)
    params = {"code": code}
    if call.query("state") is not None:
        params["state"] = call.query("state") or ""
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", status_code=302)


def access_token_info(call: Call) -> Response:
    info = call.sim.auth.access_token_info(str(call.params["token"]))
    if info is None:
        raise not_found("access token not found")
    return json_response(info)


def refresh_token_info(call: Call) -> Response:
    info = call.sim.auth.refresh_token_info(str(call.params["token"]))
    if info is None:
        raise not_found("refresh token not found")
    return json_response(info)


def revoke_refresh_token(call: Call) -> Response:
    if not call.sim.auth.revoke_refresh_token(str(call.params["token"])):
        raise not_found("refresh token not found")
    return Response(status_code=204)


def routes(sim: HubSpotSimulator) -> list[BaseRoute]:
    def open_route(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return api(sim, handler, authenticated=False, limited=False)

    return [
        Route("/oauth/v1/token", open_route(token), methods=["POST"]),
        Route("/oauth/authorize", open_route(authorize), methods=["GET"]),
        Route("/oauth/v1/access-tokens/{token}", open_route(access_token_info), methods=["GET"]),
        Route("/oauth/v1/refresh-tokens/{token}", open_route(refresh_token_info), methods=["GET"]),
        Route("/oauth/v1/refresh-tokens/{token}", open_route(revoke_refresh_token), methods=["DELETE"]),
    ]
