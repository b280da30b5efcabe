"""Short-lived signed links to an alert's snapshot or clip, for players that cannot send an
Authorization header (a phone's video player, an <img> tag). A link names the alert, the
file and its expiry, and carries an HMAC of the three made with a key derived from the
server's signing key: it opens that one file until it expires, nothing else."""

from __future__ import annotations

import hashlib
import hmac
import time

from server.errors import AuthError

LINK_TTL_S = 300  # five minutes: long enough to start playing, short enough to leak little


class MediaLinks:
    def __init__(self, signing_key: str) -> None:
        self._key = hashlib.sha256(f"shopguard media links|{signing_key}".encode()).digest()

    def sign(self, alert_id: int, name: str, expires: int) -> str:
        message = f"{alert_id}|{name}|{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def link(self, alert_id: int, name: str, ttl_s: int = LINK_TTL_S) -> tuple[str, int]:
        """The query string (`exp=…&sig=…`) of a link, and its expiry (Unix seconds)."""
        expires = int(time.time()) + ttl_s
        return f"exp={expires}&sig={self.sign(alert_id, name, expires)}", expires

    def check(self, alert_id: int, name: str, expires: int, signature: str) -> None:
        """Raise `AuthError` unless the signature is this server's and not expired."""
        expected = self.sign(alert_id, name, expires).encode()
        if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
            raise AuthError("invalid media link")
        if expires < time.time():
            raise AuthError("media link expired; ask for a new one")
