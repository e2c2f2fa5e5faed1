from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AcceloCredentials(BaseModel):
    """An Accelo deployment as Interlink connects to it. ``SecretStr`` fields are stored encrypted."""

    model_config = ConfigDict(extra="forbid")

    system: Literal["accelo"] = "accelo"
    deployment: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9][a-z0-9-]*$")
    auth_type: Literal["service", "web"] = "service"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    access_token_expires_at: float | None = Field(default=None, description="Epoch seconds")
    webhook_secret: SecretStr | None = Field(default=None, description="Signs Accelo webhook deliveries")
    base_url: str | None = Field(default=None, description="Default https://{deployment}.api.accelo.com")
    scope: str | None = Field(
        default=None,
        description="OAuth scope to request; default write(all) (write implies read; Accelo's own default, "
        "read(all), cannot sync)",
    )

    @property
    def external_account_id(self) -> str:
        return self.deployment

    @property
    def api_base_url(self) -> str:
        return (self.base_url or f"https://{self.deployment}.api.accelo.com").rstrip("/")
