from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

HUBSPOT_API_BASE_URL = "https://api.hubapi.com"


class HubSpotCredentials(BaseModel):
    """A HubSpot account as Interlink connects to it. ``SecretStr`` fields are stored encrypted."""

    model_config = ConfigDict(extra="forbid")

    system: Literal["hubspot"] = "hubspot"
    portal_id: int = Field(gt=0, description="The HubSpot account (hub) id; webhooks name it as portalId")
    auth_type: Literal["private_app", "oauth"] = "private_app"
    access_token: SecretStr | None = Field(default=None, description="Private-app token or current OAuth token")
    refresh_token: SecretStr | None = None
    access_token_expires_at: float | None = Field(default=None, description="Epoch seconds (OAuth)")
    client_id: str | None = Field(default=None, description="The app's client id (OAuth)")
    client_secret: SecretStr | None = Field(
        default=None,
        description="The app's client secret: refreshes OAuth tokens and verifies webhook signatures",
    )
    app_id: int | None = Field(default=None, description="The app id; webhooks from our own writes carry it")
    base_url: str = Field(default=HUBSPOT_API_BASE_URL, description="API base URL (the simulator's, for a sandbox)")
    rate_limit_tier: Literal["free", "starter", "professional", "enterprise"] = Field(
        default="starter", description="The account's subscription tier; private-app rate limits depend on it"
    )
    api_limit_increases: int = Field(default=0, ge=0, le=2, description="API Limit Increase packs bought")
    time_zone: str | None = Field(
        default=None, description="The account's time zone (IANA name); daily API limits reset at its midnight"
    )

    @property
    def external_account_id(self) -> str:
        return str(self.portal_id)
