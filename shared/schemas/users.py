"""User accounts, managed by admins."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.auth import Role

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{3,64}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=10, max_length=256)
    role: Role = Role.viewer
    store_ids: list[int] = Field(default_factory=list, max_length=1000)


class UserUpdate(BaseModel):
    """Fields to change; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    store_ids: list[int] | None = Field(default=None, max_length=1000)
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=256)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    is_active: bool
    store_ids: list[int]
    must_change_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int
