"""Signing in and out: passwords, lockout, sessions with rotating refresh tokens."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.ext.asyncio import AsyncSession

from server.config import AuthConfig
from server.errors import AuthError, TooManyAttempts
from server.notify.bus import AccessChanged, EventBus
from server.security.passwords import Passwords
from server.security.sign_in_guard import LocalSignInGuard, SignInGuard, SignInRules, Ticket
from server.security.tokens import TokenSigner, hash_token, new_refresh_token
from server.storage import audit, sessions, users
from server.storage.models import AuthSession, Camera, User
from shared.schemas.auth import Role, TokenPair

logger = logging.getLogger(__name__)

SIGN_IN_REFUSED = (
    "wrong username or password (after repeated failures an account is locked for a while)"
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller of a request: a user in one signed-in session."""

    user: User
    session_id: str

    @property
    def role(self) -> Role:
        return Role(self.user.role)

    @property
    def store_scope(self) -> list[int] | None:
        """Stores the caller may see; None means all (admins)."""
        return None if self.role is Role.admin else self.user.store_ids


class AuthService:
    def __init__(
        self,
        *,
        config: AuthConfig,
        signer: TokenSigner,
        passwords: Passwords,
        bus: EventBus,
        guard: SignInGuard | None = None,
    ) -> None:
        """`bus` hears of every session this service ends, after the commit; `guard` (default:
        this process's own) throttles sign-ins."""
        self.config, self.bus = config, bus
        self.signer = signer
        self.passwords = passwords
        self.guard = guard if guard is not None else LocalSignInGuard(SignInRules.of(config))

    async def login(
        self,
        *,
        session: AsyncSession,
        username: str,
        password: str,
        address: str,
        client: str,
        now: datetime,
    ) -> TokenPair:
        """Sign in; `address` is the caller's IP (throttled), `client` labels the session.

        Every refusal of a password takes one password check and gives the same answer, for
        a real user, a made-up one or a disabled one; a try that must wait first (429) is
        decided from the name as typed and the address only, so it tells nothing either.
        """
        ticket = await self.guard.begin(username, address)
        if not isinstance(ticket, Ticket):
            raise TooManyAttempts("too many failed sign-ins; wait before trying again", int(ticket))
        user = await users.find_user(session=session, username=username)
        checked = await self.passwords.verify_async(user.password_hash if user else None, password)
        if user is None or not checked:
            await self._refuse_password(session, user, username, client, ticket, now)
        assert user is not None
        await users.clear_failed_attempts(session=session, user_id=user.id, last_login_at=now)
        if not user.is_active:
            await session.commit()
            raise AuthError("this account is disabled")
        await self.guard.succeeded(ticket)
        auth_session = await sessions.open_session(
            session=session, user_id=user.id, client=client, now=now
        )
        pair = await self._issue(session, user, auth_session, now)
        await audit.record(
            session=session,
            user_id=user.id,
            username=user.username,
            action="auth.login",
            target_type="session",
            target_id=auth_session.id,
            client=client,
        )
        await session.commit()
        return pair

    async def _refuse_password(
        self,
        session: AsyncSession,
        user: User | None,
        username: str,
        client: str,
        ticket: Ticket,
        now: datetime,
    ) -> NoReturn:
        details: dict[str, object] = {}
        wait_s = await self.guard.locked_for(ticket)
        if wait_s > 0:
            details["wait_s"] = wait_s
            logger.warning("sign-ins as %r delayed %.0f s after failures", username[:64], wait_s)
        if user is not None:
            until = now + timedelta(seconds=wait_s) if wait_s > 0 else None
            await users.count_failed_sign_in(session=session, user_id=user.id, locked_until=until)
        await self._refuse(session, user, username, client, "auth.login_failed", details)

    async def _refuse(
        self,
        session: AsyncSession,
        user: User | None,
        username: str,
        client: str,
        action: str,
        details: dict[str, object] | None = None,
    ) -> NoReturn:
        await audit.record(
            session=session,
            user_id=user.id if user else None,
            username=username[:64],
            action=action,
            target_type="user",
            target_id=user.id if user else "",
            details={"username": username[:64], **(details or {})},
            client=client,
        )
        await session.commit()
        raise AuthError(SIGN_IN_REFUSED)

    async def refresh(
        self,
        *,
        session: AsyncSession,
        refresh_token: str,
        address: str,
        client: str,
        now: datetime,
    ) -> TokenPair:
        """A new pair for a refresh token; `address` is remembered as one the user uses."""
        found = await sessions.find_refresh_token(
            session=session, token_hash=hash_token(refresh_token)
        )
        if found is None:
            raise AuthError("invalid refresh token")
        token, auth_session = found
        if auth_session.revoked_at is not None:
            raise AuthError("this session has ended; sign in again")
        if token.expires_at <= now:
            raise AuthError("refresh token expired; sign in again")
        user = await users.get_user(session=session, user_id=auth_session.user_id)
        if not user.is_active:
            raise AuthError("this account is disabled")
        if not await sessions.claim_refresh_token(session=session, token_id=token.id, now=now):
            await sessions.revoke_session(
                session=session, session_id=auth_session.id, reason="refresh_reuse", now=now
            )
            await audit.record(
                session=session,
                user_id=user.id,
                username=user.username,
                action="auth.refresh_reuse",
                target_type="session",
                target_id=auth_session.id,
                client=client,
            )
            await session.commit()
            self.bus.announce_access(AccessChanged(user.id))
            raise AuthError("refresh token was already used; the session has been ended")
        auth_session.last_used_at = now
        pair = await self._issue(session, user, auth_session, now)
        await session.commit()
        await self.guard.remember(user.username, address)
        return pair

    async def logout(
        self, *, session: AsyncSession, principal: Principal, client: str, now: datetime
    ) -> None:
        await sessions.revoke_session(
            session=session, session_id=principal.session_id, reason="logout", now=now
        )
        await audit.record(
            session=session,
            user_id=principal.user.id,
            username=principal.user.username,
            action="auth.logout",
            target_type="session",
            target_id=principal.session_id,
            client=client,
        )
        await session.commit()
        self.bus.announce_access(AccessChanged(principal.user.id))

    async def change_password(
        self,
        *,
        session: AsyncSession,
        principal: Principal,
        current: str,
        new: str,
        client: str,
        now: datetime,
    ) -> None:
        """Change one's own password and end every other session."""
        user = principal.user
        attempts = await users.count_failed_attempt(session=session, user_id=user.id, now=now)
        await session.commit()
        if attempts is None or attempts > self.config.lockout_threshold:
            raise TooManyAttempts(
                "too many wrong passwords; try again later", self.config.lockout_s
            )
        if not await self.passwords.verify_async(user.password_hash, current):
            if attempts >= self.config.lockout_threshold:
                until = now + timedelta(seconds=self.config.lockout_s)
                await users.lock_user(session=session, user_id=user.id, until=until)
                await session.commit()
            raise AuthError("current password is wrong")
        await users.clear_failed_attempts(session=session, user_id=user.id, last_login_at=None)
        user.password_hash = await self.passwords.hash_async(new)
        user.must_change_password = False
        await sessions.revoke_user_sessions(
            session=session,
            user_id=user.id,
            reason="password_changed",
            now=now,
            keep=principal.session_id,
        )
        await audit.record(
            session=session,
            user_id=user.id,
            username=user.username,
            action="auth.password_changed",
            target_type="user",
            target_id=user.id,
            client=client,
        )
        await session.commit()
        self.bus.announce_access(AccessChanged(user.id))

    async def authenticate(
        self, *, session: AsyncSession, token: str, camera_id: int | None = None
    ) -> Principal:
        """The principal behind an access token (with `camera_id`: a live-view token for
        that camera), checking that its session still lives."""
        claims = self.signer.verify(token, camera_id=camera_id)
        found = await sessions.get_session_and_user(
            session=session, session_id=claims.session_id, user_id=claims.user_id
        )
        if found is None or found[0].revoked_at is not None:
            raise AuthError("this session has ended; sign in again")
        auth_session, user = found
        if not user.is_active:
            raise AuthError("this account is disabled")
        return Principal(user=user, session_id=auth_session.id)

    async def may_watch(
        self, *, session: AsyncSession, session_id: str, user_id: int, camera_id: int
    ) -> bool:
        """Whether a live view opened in `session_id` may go on: the session lives, the user
        is active and still sees the camera's store."""
        auth_session = await sessions.get_session(session=session, session_id=session_id)
        if auth_session is None or auth_session.revoked_at is not None:
            return False
        user = await session.get(User, user_id)
        if user is None or not user.is_active:
            return False
        scope = Principal(user=user, session_id=session_id).store_scope
        camera = await session.get(Camera, camera_id)
        return camera is not None and (scope is None or camera.store_id in scope)

    async def _issue(
        self, session: AsyncSession, user: User, auth_session: AuthSession, now: datetime
    ) -> TokenPair:
        refresh_token = new_refresh_token()
        refresh_ttl = timedelta(seconds=self.config.refresh_token_ttl_s)
        await sessions.add_refresh_token(
            session=session,
            session_id=auth_session.id,
            token_hash=hash_token(refresh_token),
            expires_at=now + refresh_ttl,
        )
        access = self.signer.issue(
            user_id=user.id,
            session_id=auth_session.id,
            now=now,
            ttl=timedelta(seconds=self.config.access_token_ttl_s),
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh_token,
            expires_in=self.config.access_token_ttl_s,
            refresh_expires_in=self.config.refresh_token_ttl_s,
            must_change_password=user.must_change_password,
        )
