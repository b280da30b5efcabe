"""Dependencies that hand the runtime, a database session and the caller to routes.

All are `async def`, the trivial ones too: FastAPI runs a plain `def` dependency on its
thread pool, a thread hop per request for a getter.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from server.config import Settings
from server.errors import AuthError, Forbidden
from server.runtime import Runtime
from server.services.auth import Principal
from server.storage import audit
from shared.schemas.auth import Role


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_client(request: Request) -> str:
    """Address and user agent of the caller, for throttling and the audit log."""
    host = request.client.host if request.client else "unknown"
    return f"{host} {request.headers.get('user-agent', '')[:200]}".strip()


ClientDep = Annotated[str, Depends(get_client)]


async def get_client_address(request: Request) -> str:
    """The caller's IP address (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


ClientAddressDep = Annotated[str, Depends(get_client_address)]

bearer = HTTPBearer(auto_error=False, description="Access token from /api/v1/auth/login")


async def get_principal_pending_password(
    runtime: RuntimeDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The signed-in caller, even one who still has to replace a one-time password."""
    if credentials is None:
        raise AuthError("sign in first: send Authorization: Bearer <access token>")
    return await runtime.auth.authenticate(session=session, token=credentials.credentials)


PendingUser = Annotated[Principal, Depends(get_principal_pending_password)]


async def get_principal(principal: PendingUser) -> Principal:
    if principal.user.must_change_password:
        raise Forbidden("change your one-time password first (POST /api/v1/auth/password)")
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_role(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            allowed = " or ".join(role.value for role in roles)
            raise Forbidden(f"this needs the {allowed} role; you are {principal.role.value}")
        return principal

    return check


AdminUser = Annotated[Principal, Depends(require_role(Role.admin))]
ReviewerUser = Annotated[Principal, Depends(require_role(Role.admin, Role.supervisor))]


@dataclass(slots=True)
class Auditor:
    """Writes audit rows for the current caller into the request's session."""

    session: AsyncSession
    principal: Principal
    client: str

    async def record(
        self,
        action: str,
        target_type: str,
        target_id: str | int,
        details: dict[str, Any] | None = None,
    ) -> None:
        await audit.record(
            session=self.session,
            user_id=self.principal.user.id,
            username=self.principal.user.username,
            action=action,
            target_type=target_type,
            target_id=target_id,
            details=details,
            client=self.client,
        )


async def get_auditor(session: SessionDep, principal: CurrentUser, client: ClientDep) -> Auditor:
    return Auditor(session=session, principal=principal, client=client)


AuditDep = Annotated[Auditor, Depends(get_auditor)]
