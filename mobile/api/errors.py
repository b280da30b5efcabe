"""What can go wrong talking to the server, in words a store owner can act on."""

from __future__ import annotations


class ApiError(Exception):
    """A request that did not do what was asked; `message` says why."""

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code


class Unreachable(ApiError):
    """Nothing answered at the address (off, wrong address, no network)."""


class TlsProblem(ApiError):
    """Something answered, but its HTTPS certificate or handshake was refused."""


class NotShopGuard(ApiError):
    """Something answered, but it is not a ShopGuard server."""


class SignedOut(ApiError):
    """The sign-in ended (expired, signed out elsewhere, or the password changed)."""


class NotAllowed(ApiError):
    """The user's role or stores do not allow this."""


class Rejected(ApiError):
    """The server refused the request as it was (invalid, conflicting, not found)."""


class ServerFailed(ApiError):
    """The server failed or is busy; trying again later may work."""
