"""How much of each vendor's rate limit this workspace's accounts are using right now.

Read from the shared rate budgets (Redis in production, so the figures are every process's together) and,
for HubSpot's daily allowance, from the rate-limit headers of this process's last call. Reading them makes no
vendor call.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from interlink.connections.registry import Connectors
from interlink.connections.repository import ConnectionRepo
from interlink.connectors.ratelimit import RateBudget


class LimitUsage(BaseModel):
    system: str
    name: str = Field(description="What the limit counts, in words")
    used: int
    limit: int
    window_seconds: int
    paused_seconds: float = Field(description="How long every call waits because the vendor said to (0: none)")


def _budget_usage(system: str, budget: RateBudget, names: dict[str, str]) -> list[LimitUsage]:
    usage = []
    paused = budget.paused_for()
    for key, limit in budget.limits.items():
        usage.append(
            LimitUsage(
                system=system,
                name=names.get(key, key),
                used=max(0, limit.amount - budget.remaining(key)),
                limit=limit.amount,
                window_seconds=limit.per_seconds,
                paused_seconds=round(paused, 1),
            )
        )
    return usage


def api_usage(session: Session, workspace_id: uuid.UUID, connectors: Connectors) -> list[LimitUsage]:
    repository = ConnectionRepo(session, workspace_id)
    usage: list[LimitUsage] = []
    hubspot = repository.get_by_system("hubspot")
    if hubspot is not None:
        client = connectors.hubspot(hubspot)
        transport = client.transport
        usage += _budget_usage("hubspot", transport.budget, {"ten_secondly": "API calls (burst window)"})
        usage += _budget_usage("hubspot", transport.search_budget, {"secondly": "Searches"})
        last = client.rate_limits
        if last is not None and last.daily is not None and last.daily_remaining is not None:
            usage.append(
                LimitUsage(
                    system="hubspot",
                    name="API calls today (as HubSpot last reported)",
                    used=max(0, last.daily - last.daily_remaining),
                    limit=last.daily,
                    window_seconds=86400,
                    paused_seconds=0.0,
                )
            )
    accelo = repository.get_by_system("accelo")
    if accelo is not None:
        usage += _budget_usage("accelo", connectors.accelo(accelo).budget, {"deployment": "API calls (hourly window)"})
    return usage
