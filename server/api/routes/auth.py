"""Sign in, refresh, sign out, who am I, change password."""

from typing import Any

from fastapi import APIRouter, status

from server.api.deps import ClientAddressDep, ClientDep, PendingUser, RuntimeDep, SessionDep
from server.runtime import ADMIN_PASSWORD_FILE
from server.storage.models import utcnow
from shared.schemas.auth import LoginRequest, Me, PasswordChange, RefreshRequest, Role, TokenPair
from shared.schemas.errors import ErrorResponse

router = APIRouter(prefix="/auth", tags=["auth"])
TOO_MANY_TRIES: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorResponse, "description": "Too many failed tries: wait `Retry-After` s."}
}


@router.post("/login", responses=TOO_MANY_TRIES)
async def login(
    body: LoginRequest,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    address: ClientAddressDep,
) -> TokenPair:
    """Exchange username and password for an access and a refresh token."""
    return await runtime.auth.login(
        session=session,
        username=body.username,
        password=body.password,
        address=address,
        client=client,
        now=utcnow(),
    )


@router.post("/refresh")
async def refresh(
    body: RefreshRequest,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    address: ClientAddressDep,
) -> TokenPair:
    """Trade a refresh token (once) for a new pair; reusing one ends the session."""
    return await runtime.auth.refresh(
        session=session,
        refresh_token=body.refresh_token,
        address=address,
        client=client,
        now=utcnow(),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    principal: PendingUser, runtime: RuntimeDep, session: SessionDep, client: ClientDep
) -> None:
    """End this session: its refresh token, access tokens and live views stop working."""
    await runtime.auth.logout(session=session, principal=principal, client=client, now=utcnow())
    await runtime.live.close_session(principal.session_id)


@router.get("/me")
async def me(principal: PendingUser) -> Me:
    """The signed-in user."""
    user = principal.user
    return Me(
        id=user.id,
        username=user.username,
        role=Role(user.role),
        store_ids=user.store_ids,
        must_change_password=user.must_change_password,
        last_login_at=user.last_login_at,
    )


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT, responses=TOO_MANY_TRIES)
async def change_password(
    body: PasswordChange,
    principal: PendingUser,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
) -> None:
    """Change your password; your other sessions end."""
    await runtime.auth.change_password(
        session=session,
        principal=principal,
        current=body.current_password,
        new=body.new_password,
        client=client,
        now=utcnow(),
    )
    if principal.user.username == runtime.settings.auth.initial_admin_username:
        (runtime.settings.data_dir / ADMIN_PASSWORD_FILE).unlink(missing_ok=True)
