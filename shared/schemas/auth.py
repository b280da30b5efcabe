"""Login, tokens and the signed-in user."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    """What a user may do: admin everything, supervisor reviews, viewer reads."""

    admin = "admin"
    supervisor = "supervisor"
    viewer = "viewer"


class LoginRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=16, max_length=512)


class TokenPair(BaseModel):
    """An access token for requests and a one-use refresh token to get the next pair."""

    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the access token stays valid.")
    refresh_expires_in: int = Field(description="Seconds the refresh token stays valid.")
    must_change_password: bool = Field(
        default=False, description="True for a one-time password: change it before anything else."
    )


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class Me(BaseModel):
    """The signed-in user."""

    id: int
    username: str
    role: Role
    store_ids: list[int]
    must_change_password: bool
    last_login_at: datetime | None
