"""Signing in and out: passwords, lockout, sessions with rotating refresh tokens."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from server.config import AuthConfig
from server.errors import AuthError, TooManyAttempts
from server.security.passwords import Passwords
from server.security.throttle import LoginThrottle
from server.security.tokens import TokenSigner, hash_token, new_refresh_token
from server.storage import audit, sessions, users
from server.storage.models import AuthSession, User
from shared.schemas.auth import Role, TokenPair

logger = logging.getLogger(__name__)


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
    def __init__(self, *, config: AuthConfig, signer: TokenSigner, passwords: Passwords) -> None:
        self.config = config
        self.signer = signer
        self.passwords = passwords
        self.throttle = LoginThrottle(
            max_failures=config.client_max_failures, window_s=config.client_window_s
        )

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
        """Sign in; `address` is the caller's IP (throttled), `client` labels the session."""
        self.throttle.check(address)
        user = await users.find_user(session=session, username=username)
        if user is not None and user.locked_until is not None and user.locked_until > now:
            retry = int((user.locked_until - now).total_seconds()) + 1
            raise TooManyAttempts("account locked after repeated failed sign-ins", retry)
        if not self.passwords.verify(user.password_hash if user else None, password):
            await self._failed(session, user, username, address, client, now)
            raise AuthError("wrong username or password")
        assert user is not None
        if not user.is_active:
            raise AuthError("this account is disabled")
        self.throttle.succeeded(address)
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
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

    async def _failed(
        self,
        session: AsyncSession,
        user: User | None,
        username: str,
        address: str,
        client: str,
        now: datetime,
    ) -> None:
        self.throttle.failed(address)
        details: dict[str, object] = {"username": username[:64]}
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= self.config.lockout_threshold:
                user.locked_until = now + timedelta(seconds=self.config.lockout_s)
                user.failed_logins = 0
                details["locked_until"] = user.locked_until.isoformat()
                logger.warning("account %s locked after failed sign-ins", user.username)
        await audit.record(
            session=session,
            user_id=user.id if user else None,
            username=username[:64],
            action="auth.login_failed",
            target_type="user",
            target_id=user.id if user else "",
            details=details,
            client=client,
        )
        await session.commit()

    async def refresh(
        self, *, session: AsyncSession, refresh_token: str, client: str, now: datetime
    ) -> TokenPair:
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
            raise AuthError("refresh token was already used; the session has been ended")
        auth_session.last_used_at = now
        pair = await self._issue(session, user, auth_session, now)
        await session.commit()
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
        if not self.passwords.verify(user.password_hash, current):
            raise AuthError("current password is wrong")
        user.password_hash = self.passwords.hash(new)
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

    async def authenticate(self, *, session: AsyncSession, token: str) -> Principal:
        """The principal behind an access token, checking that its session still lives."""
        claims = self.signer.verify(token)
        auth_session = await sessions.get_session(session=session, session_id=claims.session_id)
        if auth_session is None or auth_session.revoked_at is not None:
            raise AuthError("this session has ended; sign in again")
        user = await session.get(User, claims.user_id)
        if user is None or not user.is_active:
            raise AuthError("this account is disabled")
        return Principal(user=user, session_id=auth_session.id)

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
