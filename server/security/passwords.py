"""Argon2id password hashing, on a few threads of its own: Argon2 takes tens of milliseconds
and tens of megabytes by design, and sign-in must not queue behind other blocking work
(pushes, snapshots, files) on asyncio's default executor, nor starve it."""

import asyncio
import os
import secrets
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hashes and checks passwords; `memory_kib` trades hardness for speed."""

    def __init__(self, memory_kib: int = 65_536, threads: int | None = None) -> None:
        """`threads`: hashes at once off the event loop (default: one per core, at most 4,
        which also bounds their memory)."""
        self._hasher = PasswordHasher(memory_cost=memory_kib)
        self._threads = ThreadPoolExecutor(
            threads or min(4, os.cpu_count() or 1), thread_name_prefix="argon2"
        )
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
        """`hash` off the event loop, on this object's threads."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self.hash, password)

    async def verify_async(self, password_hash: str | None, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self.verify, password_hash, password)

    def close(self) -> None:
        """Let the threads go (at shutdown)."""
        self._threads.shutdown(wait=False)


def one_time_password() -> str:
    """A random password that a person can type: 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
