"""Invites: an admin invites a person with a role and stores; the person's phone redeems the
short code with a name and a password of its own, and is signed in. No password travels in
an invite."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.schemas.auth import Role
from shared.schemas.users import USERNAME_PATTERN

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud, typed by hand
CODE_LENGTH = 8
MAX_EXPIRY_HOURS = 30 * 24


def normalise_code(code: str) -> str:
    """`k7pm-q2xd`, `K7PM Q2XD` → `K7PMQ2XD`: case, spaces and dashes do not matter."""
    return "".join(char for char in code.upper() if char.isalnum())


def group_code(code: str) -> str:
    """`K7PMQ2XD` → `K7PM-Q2XD`, as people read it."""
    plain = normalise_code(code)
    return "-".join(plain[i : i + 4] for i in range(0, len(plain), 4))


class InviteStatus(StrEnum):
    pending = "pending"
    used = "used"
    expired = "expired"
    revoked = "revoked"


class InviteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = Role.viewer
    store_ids: list[int] = Field(
        default_factory=list, max_length=1000, description="Stores the new user will see."
    )
    note: str = Field("", max_length=200, description="Who it is for, for the admins' list.")
    expires_in_hours: int = Field(
        72, ge=1, le=MAX_EXPIRY_HOURS, description="Hours the code can be used."
    )
    app_url: str | None = Field(
        None,
        max_length=300,
        pattern=r"^https?://[^\s?#]+$",
        description="Where the app opens (the web app's address); unset: this server's.",
    )


class InvitePublic(BaseModel):
    id: int
    role: Role
    store_ids: list[int]
    note: str
    status: InviteStatus
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None = Field(description="The user name the invite became.")
    revoked_at: datetime | None


class InviteCreated(InvitePublic):
    """The new invite with its code: shown once, the server keeps only a hash of it."""

    code: str = Field(description="What people type, e.g. `K7PM-Q2XD`.")
    server: str = Field(description="This server's address, as the phone reaches it.")
    link: str = Field(description="Opens the app's pairing form with the server and the code.")
    qr_png: str = Field(description="A QR code of `link`: a PNG image, base64.")


class InvitesPublic(BaseModel):
    data: list[InvitePublic]
    count: int


class InviteRedeem(BaseModel):
    """The code, and the name and password the person chooses (the rules of user accounts)."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=10, max_length=256)
