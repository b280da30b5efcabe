"""What can go wrong talking to the server, in words a store owner can act on, in the app's
language. The server says what went wrong with a stable `code` (and English words); the app
words each code itself (`server_error`), and each kind of field problem (`field_problem`)."""

from __future__ import annotations

import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from mobile.i18n import N_, _, formats


class ApiError(Exception):
    """A request that did not do what was asked; `message` says why, in the app's language
    (`detail`: the server's own English words, when it answered)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        detail: str = "",
        fields: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.message, self.status, self.code = message, status, code
        self.detail, self.fields = detail or message, list(fields)


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


# Every code the server sends (server/errors.py, server/api/errors.py and the classes with
# their own `code`): tests/mobile/test_i18n.py finds them in server/ and fails on one missing.
CODES = {
    "error": N_("The server could not do this."),
    "bad_request": N_("The server could not read the request."),
    "malformed_json": N_("The server could not read the request."),
    "validation_error": N_("Some of the values are not valid: check the form."),
    "invalid_request": N_("The server refused a value in the request: check the form."),
    "unauthorized": N_("Your sign-in has ended: sign in again."),
    "forbidden": N_("Your account is not allowed to do this."),
    "not_found": N_("This was not found: it may have been deleted. Reload and try again."),
    "method_not_allowed": N_(
        "The server does not offer this: the app and the server may be different versions."
    ),
    "conflict": N_(
        "This clashes with something that exists or changed meanwhile. Reload and try again."
    ),
    "body_too_large": N_("That is too large for the server to take."),
    "unsupported_media_type": N_("The server does not take this kind of file."),
    "too_many_attempts": N_("Too many attempts: wait a while, then try again."),
    "range_not_satisfiable": N_("That part of the file does not exist."),
    "unavailable": N_("A service the server needs is not available now. Try again soon."),
    "database_unavailable": N_("The server's database is not available now. Try again soon."),
    "server_busy": N_("The server is busy. Try again in a moment."),
    "bus_unavailable": N_("The server is busy. Try again in a moment."),
    "internal_error": N_(
        "The server failed. Try again; if it keeps failing, tell your administrator."
    ),
    "config_error": N_("The server is not set up correctly: tell your administrator."),
    "model_error": N_(
        "The server's detection model is missing or broken: tell your administrator."
    ),
    "camera_unavailable": N_("The camera cannot be reached now."),
    "poses_gone": N_("The people's movements of this alert are no longer kept."),
    "backup_error": N_("The backup could not be made or read."),
    "corrupt_archive": N_("The backup file is damaged or not a ShopGuard backup."),
    "invite_not_found": N_("There is no invite with this code: check it, or ask for a new one."),
    "invite_expired": N_("This invite has expired: ask for a new one."),
    "invite_used": N_("This invite has been used already: ask for a new one."),
    "invite_revoked": N_("This invite was cancelled: ask for a new one."),
    "share_link_invalid": N_("This link is not valid: ask for a new one."),
    "share_link_expired": N_("This link has expired: ask for a new one."),
    "no_clip": N_("This alert has no clip to share yet."),
    "no_annotated_clip": N_("This alert has no clip with the people marked: share the original."),
}
SIGN_IN_REFUSED = N_(
    "Wrong user name or password (after several failures the account is "
    "locked for a while), or the account is disabled."
)

# Each kind of problem with a field (pydantic's error types): with its limit where the app
# knows it (checked here, before sending), in general words where not (the server's answer).
FIELD_PROBLEMS: dict[str, tuple[str, str | None]] = {
    "missing": (N_("{field}: required"), None),
    "string_too_short": (
        N_("{field}: too short"),
        N_("{field}: must be at least {min_length} characters"),
    ),
    "string_too_long": (
        N_("{field}: too long"),
        N_("{field}: must be at most {max_length} characters"),
    ),
    "too_short": (N_("{field}: too few items"), N_("{field}: must have at least {min_length}")),
    "too_long": (N_("{field}: too many items"), N_("{field}: must have at most {max_length}")),
    "greater_than": (N_("{field}: too small"), N_("{field}: must be more than {gt}")),
    "greater_than_equal": (N_("{field}: too small"), N_("{field}: must be {ge} or more")),
    "less_than": (N_("{field}: too large"), N_("{field}: must be less than {lt}")),
    "less_than_equal": (N_("{field}: too large"), N_("{field}: must be {le} or less")),
    "int_parsing": (N_("{field}: must be a whole number"), None),
    "int_type": (N_("{field}: must be a whole number"), None),
    "int_from_float": (N_("{field}: must be a whole number"), None),
    "float_parsing": (N_("{field}: must be a number"), None),
    "float_type": (N_("{field}: must be a number"), None),
    "bool_parsing": (N_("{field}: must be yes or no"), None),
    "string_type": (N_("{field}: must be text"), None),
    "string_pattern_mismatch": (N_("{field}: not in the expected form"), None),
    "enum": (N_("{field}: not one of the choices"), N_("{field}: must be one of {expected}")),
    "literal_error": (
        N_("{field}: not one of the choices"),
        N_("{field}: must be one of {expected}"),
    ),
    "url_parsing": (N_("{field}: not a valid address"), None),
    "datetime_parsing": (N_("{field}: not a date and time"), None),
    "date_parsing": (N_("{field}: not a date"), None),
    "time_parsing": (N_("{field}: not a time of day"), None),
    "extra_forbidden": (N_("{field}: not a field the server knows"), None),
}
LIMITS = ("min_length", "max_length", "gt", "ge", "lt", "le", "expected")


def server_error(
    status: int, code: str, detail: str, fields: Sequence[Mapping[str, Any]]
) -> ApiError:
    """The error a server's answer means, worded in the app's language."""
    kind: type[ApiError]
    if status == 401:
        kind = SignedOut
    elif status == 403:
        kind = NotAllowed
    elif status >= 500:
        kind = ServerFailed
    else:
        kind = Rejected
    message = server_message(code, detail, fields)
    return kind(message, status=status, code=code, detail=detail, fields=fields)


def server_message(code: str, detail: str, fields: Sequence[Mapping[str, Any]] = ()) -> str:
    """The app's words for `code`, or the server's own (English) `detail` where the app has
    none in its language: English itself keeps the server's more precise words."""
    if code == "validation_error" and fields:
        first = fields[0]
        where = [str(part) for part in first.get("loc", ()) if part != "body"]
        return field_problem(
            where[-1] if where else "", str(first.get("type", "")), {}, str(first.get("msg", ""))
        )
    wording = CODES.get(code)
    if wording is None or _(wording) == wording:
        return detail
    return _(wording)


def sign_in_refused(exc: ApiError) -> Rejected:
    """A 401 answer to signing in: the name or password is wrong (or the account is off)."""
    message = _(SIGN_IN_REFUSED)
    if message == SIGN_IN_REFUSED:
        message = exc.detail
    return Rejected(message, status=exc.status, code=exc.code, detail=exc.detail)


def field_problem(field: str, kind: str, limits: Mapping[str, Any], detail: str) -> str:
    """`field` (its label on screen) and what is wrong with it (`kind`: pydantic's error
    type, `limits`: its context), in the app's language. English, and a rule the app has no
    words for, keep the schema's own `detail` (pydantic's English sentence)."""
    general, exact = FIELD_PROBLEMS.get(kind, (None, None))
    known = {k: _limit(limits[k]) for k in LIMITS if k in limits}
    if kind == "string_too_short" and limits.get("min_length") == 1:
        general, exact = FIELD_PROBLEMS["missing"]  # an empty field
    wording: str | None = None
    if exact is not None and known and _(exact) != exact:
        try:
            wording = _(exact).format(field=field, **known)
        except KeyError:  # the wording needs a limit the error did not give
            wording = None
    if wording is None and general is not None and _(general) != general:
        wording = _(general).format(field=field)
    if wording is None:
        problem = detail.removeprefix("Value error, ")
        wording = _("{field}: {problem}").format(field=field, problem=problem)
    return wording if field else wording.removeprefix(": ")


def _limit(value: Any) -> str:
    return formats.number(value) if isinstance(value, int | float) else str(value)


def transport_error(exc: httpx.HTTPError, address: str) -> ApiError:
    """What a request that got no answer from `address` means for the user."""
    reason = _reason(exc)
    if isinstance(exc, httpx.TimeoutException):
        return Unreachable(_("{address} did not answer in time").format(address=address))
    if isinstance(exc, httpx.ConnectError) and _is_tls(exc):
        return TlsProblem(
            _("{address} refused a secure connection: {reason}").format(
                address=address, reason=reason
            )
        )
    if isinstance(exc, httpx.ConnectError):
        return Unreachable(
            _("nothing answers at {address}: {reason}").format(address=address, reason=reason)
        )
    return Unreachable(_("{address}: {reason}").format(address=address, reason=reason))


def _is_tls(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, ssl.SSLError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1]  # drop "[Errno 111] " and "[SSL: …] " prefixes
