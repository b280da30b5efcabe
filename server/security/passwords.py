"""Argon2id password hashing."""

import asyncio
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords; `memory_kib` trades hardness for speed."""

    def __init__(self, memory_kib: int = 65_536) -> None:
        self._hasher = PasswordHasher(memory_cost=memory_kib)
        # Verifying against this keeps unknown usernames as slow as known ones.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash or self._dummy_hash, password) and (
                password_hash is not None
            )
        except (VerificationError, InvalidHashError):
            return False

    async def hash_async(self, password: str) -> str:
        """`hash` off the event loop: Argon2 takes tens of milliseconds by design."""
        return await asyncio.to_thread(self.hash, password)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self.verify, password_hash, password)


def one_time_password() -> str:
    """A random password that a person can type: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
