"""What can go wrong talking to the server, in words a store owner can act on."""

from __future__ import annotations

import ssl

import httpx


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


def transport_error(exc: httpx.HTTPError, address: str) -> ApiError:
    """What a request that got no answer from `address` means for the user."""
    if isinstance(exc, httpx.TimeoutException):
        return Unreachable(f"{address} did not answer in time")
    if isinstance(exc, httpx.ConnectError) and _is_tls(exc):
        return TlsProblem(f"{address} refused a secure connection: {_reason(exc)}")
    if isinstance(exc, httpx.ConnectError):
        return Unreachable(f"nothing answers at {address}: {_reason(exc)}")
    return Unreachable(f"{address}: {_reason(exc)}")


def _is_tls(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ssl.SSLError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1]  # drop "[Errno 111] " and "[SSL: …] " prefixes
