"""Invites (admins create, list and revoke them) and redeeming one (anyone with the code)."""

import base64
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from server.api.deps import (
    AdminUser,
    AuditDep,
    ClientAddressDep,
    ClientDep,
    RuntimeDep,
    SessionDep,
)
from server.api.routes.auth import TOO_MANY_TRIES
from server.services import invites as invite_service
from server.storage import invites
from server.storage.models import Invite, utcnow
from shared.schemas.auth import Role, TokenPair
from shared.schemas.invites import (
    InviteCreate,
    InviteCreated,
    InvitePublic,
    InviteRedeem,
    InvitesPublic,
    InviteStatus,
    group_code,
)

router = APIRouter(prefix="/invites", tags=["invites"])


def invite_public(invite: Invite) -> InvitePublic:
    return InvitePublic(
        id=invite.id,
        role=Role(invite.role),
        store_ids=invite.store_ids,
        note=invite.note,
        status=invite_service.status_of(invite, utcnow()),
        created_by=invite.created_by,
        created_at=invite.created_at,
        expires_at=invite.expires_at,
        used_at=invite.used_at,
        used_by=invite.used_by,
        revoked_at=invite.revoked_at,
    )


def server_address(request: Request) -> str:
    """This server as the caller reached it (behind a trusted proxy: as the proxy says)."""
    return str(request.base_url).rstrip("/")


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_invite(
    body: InviteCreate, request: Request, admin: AdminUser, session: SessionDep, audit: AuditDep
) -> InviteCreated:
    """A new invite: its code, a link that opens the app with it, and the link as a QR code.
    The code is shown this once; the server keeps only its hash."""
    code, now = invite_service.new_code(), utcnow()
    invite = await invites.create_invite(
        session=session,
        code_hash=invite_service.code_hash(code),
        role=body.role.value,
        store_ids=body.store_ids,
        note=body.note,
        created_by=admin.user.username,
        created_at=now,
        expires_at=now + timedelta(hours=body.expires_in_hours),
    )
    await audit.record(
        "invite.create",
        "invite",
        invite.id,
        {"role": invite.role, "store_ids": invite.store_ids, "note": invite.note},
    )
    await session.commit()
    server = server_address(request)
    link = invite_service.pairing_link(body.app_url or server, server, code)
    return InviteCreated(
        **invite_public(invite).model_dump(),
        code=group_code(code),
        server=server,
        link=link,
        qr_png=base64.b64encode(invite_service.qr_png(link)).decode(),
    )


@router.get("")
async def list_invites(
    _: AdminUser,
    session: SessionDep,
    status: InviteStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> InvitesPublic:
    """The newest invites, each pending, used, expired or revoked (`status`: only those)."""
    rows = await invites.list_invites(session=session, status=status, now=utcnow(), limit=limit)
    return InvitesPublic(data=[invite_public(i) for i in rows], count=len(rows))


@router.delete("/{invite_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invite(invite_id: int, _: AdminUser, session: SessionDep, audit: AuditDep) -> None:
    """Withdraw an invite: its code stops working. A used invite cannot be (disable the
    user instead); revoking twice changes nothing."""
    invite = await invites.get_invite(session=session, invite_id=invite_id)
    if invite.used_at is not None:
        raise invite_service.InviteUsed(
            "this invite has been used already: disable its user instead"
        )
    if await invites.revoke_invite(session=session, invite_id=invite.id, now=utcnow()):
        await audit.record("invite.revoke", "invite", invite.id, {"note": invite.note})
        await session.commit()


@router.post("/redeem", responses=TOO_MANY_TRIES)
async def redeem_invite(
    body: InviteRedeem,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    address: ClientAddressDep,
) -> TokenPair:
    """Join with an invite's code: the account is created with the invite's role and stores
    and the password given here, and signed in (the answer of `/auth/login`)."""
    now = utcnow()
    await invite_service.redeem(
        session=session,
        guard=runtime.auth.guard,
        passwords=runtime.passwords,
        code=body.code,
        username=body.username,
        password=body.password,
        address=address,
        client=client,
        now=now,
    )
    return await runtime.auth.login(
        session=session,
        username=body.username,
        password=body.password,
        address=address,
        client=client,
        now=now,
    )
