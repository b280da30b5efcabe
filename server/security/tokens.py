"""Short-lived JWT access tokens (python-jose), live-view tokens (one camera, for a player
page that cannot hold the app's tokens) and opaque refresh tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from jose import ExpiredSignatureError, JWTError, jwt

from server.errors import AuthError

ALGORITHM = "HS256"
ISSUER = "shopguard"
LIVE = "live"  # the type of a live-view token


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What an access token says: who, in which session, until when."""

    user_id: int
    session_id: str
    expires_at: datetime


class TokenSigner:
    def __init__(self, key: str) -> None:
        self._key = key

    def issue(
        self,
        *,
        user_id: int,
        session_id: str,
        now: datetime,
        ttl: timedelta,
        camera_id: int | None = None,
    ) -> str:
        """An access token; with `camera_id`, a live-view token for that camera only."""
        claims: dict[str, object] = {
            "sub": str(user_id),
            "sid": session_id,
            "iss": ISSUER,
            "typ": "access" if camera_id is None else LIVE,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
        }
        if camera_id is not None:
            claims["cam"] = camera_id
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str, *, camera_id: int | None = None) -> AccessClaims:
        """An access token's claims; with `camera_id`, a live-view token's for that camera."""
        what = "access token" if camera_id is None else "live link"
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], issuer=ISSUER)
        except ExpiredSignatureError as exc:
            again = (
                "refresh it or sign in again" if camera_id is None else "open the live view again"
            )
            raise AuthError(f"{what} expired; {again}") from exc
        except JWTError as exc:
            raise AuthError(f"invalid {what}") from exc
        try:
            if claims["typ"] != ("access" if camera_id is None else LIVE):
                raise AuthError(f"not an {what}" if camera_id is None else f"not a {what}")
            if camera_id is not None and int(claims["cam"]) != camera_id:
                raise AuthError("this live link is for another camera")
            return AccessClaims(
                user_id=int(claims["sub"]),
                session_id=str(claims["sid"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise AuthError(f"invalid {what}") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are stored only as SHA-256 digests."""
    return hashlib.sha256(token.encode()).hexdigest()
