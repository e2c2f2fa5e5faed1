from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from interlink.connectors.accelo.credentials import AcceloCredentials
from interlink.connectors.accord.credentials import AccordCredentials
from interlink.connectors.hubspot.credentials import HubSpotCredentials

SystemCredentials: TypeAlias = HubSpotCredentials | AcceloCredentials | AccordCredentials
ConnectionInput = Annotated[SystemCredentials, Field(discriminator="system")]

CREDENTIAL_MODELS: dict[str, type[SystemCredentials]] = {
    "hubspot": HubSpotCredentials,
    "accelo": AcceloCredentials,
    "accord": AccordCredentials,
}


class ConnectionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    system: str
    external_account_id: str | None
    status: str
    status_detail: str | None
    settings: dict[str, Any] = Field(description="Everything that is not a secret")
    secrets: dict[str, str] = Field(description="Which secrets are stored, masked; they are never returned")
    webhook_url: str | None = Field(description="Paste this into the vendor's webhook settings")
    created_at: datetime
    updated_at: datetime
    last_checked_at: datetime | None
