"""Webhook subscriptions through the API (``/webhooks/subscriptions``).

Subscriptions belong to the token's user, and Accelo fires only for records that user can see. The
envelopes of the list and create answers are not documented; community clients read
``response.subscriptions[]`` and ``response.subscription``, and this reads those or a bare list/object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from interlink.connectors.accelo.api import AcceloApi
from interlink.connectors.accelo.errors import AcceloMalformedResponse
from interlink.connectors.accelo.schemas import WebhookSubscription, WebhookType
from interlink.connectors.accelo.webhooks import SYNC_EVENTS

ContentType = Literal["application/json", "application/x-www-form-urlencoded"]


def _unwrap(payload: Any, key: str) -> Any:
    if isinstance(payload, dict) and key in payload:
        return payload[key]
    return payload


class WebhookSubscriptions:
    def __init__(self, api: AcceloApi) -> None:
        self.api = api

    def all(self) -> list[WebhookSubscription]:
        payload = self.api.call("GET", "/webhooks/subscriptions", route="/webhooks/subscriptions")
        return self.api.parse_list(WebhookSubscription, _unwrap(payload, "subscriptions"), "/webhooks/subscriptions")

    def types(self) -> list[WebhookType]:
        route = "/webhooks/subscriptions/types"
        payload = self.api.call("GET", route, route=route)
        return self.api.parse_list(WebhookType, _unwrap(payload, "types"), route)

    def subscribe(
        self,
        event_id: str,
        trigger_url: str,
        *,
        secret: str,
        content_type: ContentType = "application/json",
    ) -> WebhookSubscription:
        """Ask Accelo to POST ``event_id`` events to ``trigger_url``, signed with ``secret``."""
        payload = self.api.call(
            "POST",
            "/webhooks/subscriptions",
            route="/webhooks/subscriptions",
            form={"event_id": event_id, "trigger_url": trigger_url, "secret": secret, "content_type": content_type},
        )
        subscription = _unwrap(payload, "subscription")
        if not isinstance(subscription, dict):
            raise AcceloMalformedResponse("creating a webhook subscription answered no subscription")
        return self.api.parse(WebhookSubscription, subscription, "/webhooks/subscriptions")

    def unsubscribe(self, subscription_id: int) -> None:
        self.api.call(
            "DELETE",
            f"/webhooks/subscriptions/{subscription_id}",
            route="/webhooks/subscriptions/{id}",
            record=("webhooks/subscriptions", subscription_id),
            expect_response=False,
        )

    def ensure(
        self,
        trigger_url: str,
        *,
        secret: str,
        events: Iterable[str] = SYNC_EVENTS,
        content_type: ContentType = "application/json",
        replace: bool = False,
    ) -> list[WebhookSubscription]:
        """Make sure each event is subscribed at ``trigger_url`` (creating only what is missing). Accelo never
        shows a subscription's secret, so after rotating the secret pass ``replace=True``: the existing
        subscriptions to this URL are deleted and made again with the new one."""
        wanted = list(dict.fromkeys(events))
        existing = [s for s in self.all() if s.trigger_url == trigger_url]
        kept: dict[str, WebhookSubscription] = {}
        for subscription in existing:
            if subscription.event_id not in wanted:
                continue  # someone else's business
            if replace or subscription.event_id in kept:  # a stale secret, or a duplicate
                self.unsubscribe(subscription.subscription_id)
            else:
                kept[subscription.event_id] = subscription
        for event_id in wanted:
            if event_id not in kept:
                kept[event_id] = self.subscribe(event_id, trigger_url, secret=secret, content_type=content_type)
        return [kept[event_id] for event_id in wanted]

    def dispatch(self, subscription_id: int, object_id: int) -> int:
        """Deliver one event for ``object_id`` to this subscription now and return the HTTP status the
        receiver answered (a connection test)."""
        payload = self.api.call(
            "POST",
            f"/webhooks/subscriptions/{subscription_id}/dispatch",
            route="/webhooks/subscriptions/{id}/dispatch",
            form={"object_id": object_id},
        )
        status = payload.get("status") if isinstance(payload, dict) else None
        try:
            return int(status)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise AcceloMalformedResponse(f"dispatch answered no status: {payload!r}") from None
