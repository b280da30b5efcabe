"""The audit log: who changed what, and when."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEntryPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str
    action: str
    target_type: str
    target_id: str
    details: dict[str, Any]
    client: str


class AuditLogPublic(BaseModel):
    data: list[AuditEntryPublic]
    count: int
