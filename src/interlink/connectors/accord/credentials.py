from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class AccordCredentials(BaseModel):
    """Accord signs the events it sends to Interlink with this secret (HMAC-SHA256 over timestamp + body)."""

    model_config = ConfigDict(extra="forbid")

    system: Literal["accord"] = "accord"
    signing_secret: SecretStr | None = None
    account_id: str | None = Field(default=None, max_length=100, description="The Accord workspace, if known")

    @property
    def external_account_id(self) -> str | None:
        return self.account_id
