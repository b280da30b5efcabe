"""Pairing by invite: codes, links and QR images, and redeeming a code for a new account.

An invite carries a role and stores, never a password: the person sets their own when the
phone redeems the code. Redeeming is throttled by the sign-in guard, under one name for all
invite codes, so guessing codes is as slow as guessing passwords.
"""

import io
import secrets
from datetime import datetime
from urllib.parse import urlencode

import segno
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import Conflict, NotFound, TooManyAttempts
from server.security.passwords import Passwords
from server.security.sign_in_guard import SignInGuard, Ticket
from server.security.tokens import hash_token
from server.storage import audit, invites, users
from server.storage.models import Invite
from shared.schemas.invites import (
    CODE_ALPHABET,
    CODE_LENGTH,
    InviteStatus,
    group_code,
    normalise_code,
)

GUARD_NAME = "#invite"  # the sign-in guard's name for invite codes: no user name has a '#'
QR_SCALE = 6  # pixels per QR module
QR_BORDER = 4  # modules of quiet zone, as scanners expect


class InviteNotFound(NotFound):
    code = "invite_not_found"


class InviteExpired(Conflict):
    code = "invite_expired"


class InviteUsed(Conflict):
    code = "invite_used"


class InviteRevoked(Conflict):
    code = "invite_revoked"


def new_code() -> str:
    """A fresh code, e.g. `K7PMQ2XD` (8 of 31 characters: about 40 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_hash(code: str) -> str:
    return hash_token(normalise_code(code))


def status_of(invite: Invite, now: datetime) -> InviteStatus:
    if invite.revoked_at is not None:
        return InviteStatus.revoked
    if invite.used_at is not None:
        return InviteStatus.used
    if invite.expires_at <= now:
        return InviteStatus.expired
    return InviteStatus.pending


def pairing_link(app_url: str, server: str, code: str) -> str:
    """`{app}/pair?code=K7PM-Q2XD&server=...`: the app opens its pairing form filled in."""
    query = urlencode({"code": group_code(code), "server": server})
    return f"{app_url.rstrip('/')}/pair?{query}"


def qr_png(text: str) -> bytes:
    """A QR code of `text` as a PNG (black on white, medium error correction)."""
    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(
        buffer, kind="png", scale=QR_SCALE, border=QR_BORDER
    )
    return buffer.getvalue()


def refusal(state: InviteStatus) -> Conflict:
    """Why a code that exists cannot be used, in words."""
    if state is InviteStatus.used:
        return InviteUsed("this invite has been used already: ask for a new one")
    if state is InviteStatus.revoked:
        return InviteRevoked("this invite was withdrawn: ask for a new one")
    return InviteExpired("this invite has expired: ask for a new one")


async def redeem(
    *,
    session: AsyncSession,
    guard: SignInGuard,
    passwords: Passwords,
    code: str,
    username: str,
    password: str,
    address: str,
    client: str,
    now: datetime,
) -> Invite:
    """Create the invite's user with `password` and mark the invite used, in one commit.

    Raises:
        TooManyAttempts: too many wrong codes from this address (or everywhere) lately.
        InviteNotFound, InviteExpired, InviteUsed, InviteRevoked: the code cannot be used.
        NotFound: a store of the invite is gone. Conflict: the user name is taken (the
            invite stays usable).
    """
    ticket = await guard.begin(GUARD_NAME, address)
    if not isinstance(ticket, Ticket):
        raise TooManyAttempts("too many wrong invite codes; wait before trying again", int(ticket))
    invite = await invites.find_invite(session=session, code_hash=code_hash(code))
    if invite is None:
        raise InviteNotFound("no invite has this code: check it with whoever invited you")
    state = status_of(invite, now)
    if state is not InviteStatus.pending:
        raise refusal(state)
    await guard.succeeded(ticket)  # the code was right: the name below may still be taken
    password_hash = await passwords.hash_async(password)
    if not await invites.claim_invite(
        session=session, invite_id=invite.id, username=username, now=now
    ):
        await session.refresh(invite)  # who won: used, or revoked or expired meanwhile
        raise refusal(status_of(invite, now))
    user = await users.create_user(
        session=session,
        username=username,
        password_hash=password_hash,
        role=invite.role,
        store_ids=invite.store_ids,
    )
    await audit.record(
        session=session,
        user_id=user.id,
        username=user.username,
        action="invite.redeem",
        target_type="invite",
        target_id=invite.id,
        details={"role": user.role, "store_ids": user.store_ids, "invited_by": invite.created_by},
        client=client,
    )
    await session.commit()
    return invite
