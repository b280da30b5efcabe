"""Short-lived JWT access tokens (python-jose) and opaque refresh tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jose import ExpiredSignatureError, JWTError, jwt

from server.errors import AuthError

ALGORITHM = "HS256"
ISSUER = "shopguard"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What an access token says: who, in which session, until when."""

    user_id: int
    session_id: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, key: str) -> None:
        self._key = key

    def issue(self, *, user_id: int, session_id: str, now: datetime, ttl: timedelta) -> str:
        claims = {
            "sub": str(user_id),
            "sid": session_id,
            "iss": ISSUER,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], issuer=ISSUER)
        except ExpiredSignatureError as exc:
            raise AuthError("access token expired; refresh it or sign in again") from exc
        except JWTError as exc:
            raise AuthError("invalid access token") from exc
        try:
            if claims["typ"] != "access":
                raise AuthError("not an access token")
            return AccessClaims(
                user_id=int(claims["sub"]),
                session_id=str(claims["sid"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise AuthError("invalid access token") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()
