"""What `GET /api/v1/health` answers: how the app knows it reached a ShopGuard server."""

from typing import Final, Literal

from pydantic import BaseModel

SERVICE: Final = "shopguard"


class Health(BaseModel):
    service: Literal["shopguard"] = SERVICE
    status: Literal["ok"] = "ok"
    version: str
