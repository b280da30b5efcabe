"""Invites on the server: admins create, list and revoke them; a new phone redeems one's
code and is signed in (the token pair is kept by the client, as after `login`)."""

from __future__ import annotations

from mobile.api.client import ApiClient
from shared.schemas.auth import TokenPair
from shared.schemas.invites import (
    InviteCreate,
    InviteCreated,
    InviteRedeem,
    InvitesPublic,
    InviteStatus,
)

# The client's plumbing (`_call`, `_send`, `_keep`) is this package's own: these calls are
# the client's, kept in a module of their own.


async def create_invite(client: ApiClient, invite: InviteCreate) -> InviteCreated:
    return await client._call("POST", "/invites", InviteCreated, body=invite)


async def list_invites(client: ApiClient, status: InviteStatus | None = None) -> InvitesPublic:
    params = {"status": status.value} if status is not None else None
    return await client._call("GET", "/invites", InvitesPublic, params=params)


async def revoke_invite(client: ApiClient, invite_id: int) -> None:
    await client._send("DELETE", f"/invites/{invite_id}")


async def redeem_invite(client: ApiClient, redeem: InviteRedeem) -> TokenPair:
    """Join with an invite's code; the client is signed in as the new user afterwards."""
    tokens = await client._call("POST", "/invites/redeem", TokenPair, body=redeem, signed=False)
    await client._keep(tokens)
    return tokens
