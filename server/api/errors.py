"""Every error leaves as `{"error": {"code", "message", "fields"}}` with the right status."""

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

from server.errors import (
    AuthError,
    ConfigError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    RangeNotSatisfiable,
    ShopGuardError,
    TooManyAttempts,
    Unavailable,
)
from shared.schemas.errors import ErrorDetail, ErrorResponse

logger = logging.getLogger(__name__)

METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")
MAX_FIELDS = 20  # validation errors listed in one answer
MAX_LOC = 8  # parts of one error's location
MAX_PART = 64  # characters of one location part (a key), or of a type
MAX_MESSAGE = 200  # characters of one error message

STATUS = {
    AuthError: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidRequest: 422,
    RangeNotSatisfiable: 416,
    TooManyAttempts: 429,
    ConfigError: 500,
    Unavailable: 503,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_attempts",
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorDetail(code=code, message=message, fields=fields or []))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ShopGuardError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, RangeNotSatisfiable):
        headers = {"Content-Range": f"bytes */{exc.size}"}
    return error_response(status, exc.code, exc.message, headers=headers)


def _fields(errors: Sequence[Any]) -> tuple[list[dict[str, Any]], int]:
    """The first MAX_FIELDS errors, each part cut short (a key may be a megabyte long), and
    how many were left out: a body of many bad keys gets a small answer, quickly."""
    fields = [
        {
            "loc": [_short(part, MAX_PART) for part in err.get("loc", ())][:MAX_LOC],
            "msg": _short(err.get("msg", ""), MAX_MESSAGE),
            "type": _short(err.get("type", ""), MAX_PART),
        }
        for err in errors[:MAX_FIELDS]
    ]
    return fields, max(len(errors) - MAX_FIELDS, 0)


def _short(value: object, limit: int) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(fields: list[dict[str, Any]], left_out: int) -> str:
    summary = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in fields[:5])
    more = len(fields) - 5 + left_out
    return summary + (f"; and {more} more" if more > 0 else "")


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    fields, left_out = _fields(errors)
    if any(err.get("type") == "json_invalid" for err in errors[:1]):
        return error_response(400, "malformed_json", "the request body is not valid JSON", fields)
    message = f"invalid request: {_summary(fields, left_out)}"
    return error_response(422, "validation_error", message, fields)


async def _invalid_value(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    fields, left_out = _fields(exc.errors(include_input=False, include_url=False))
    message = f"invalid value: {exc.title}" + (f" (and {left_out} more)" if left_out else "")
    return error_response(422, "validation_error", message, fields)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # Starlette names the first matching route's methods only
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return error_response(exc.status_code, code, str(exc.detail), headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes (asked of the router, method by method)."""
    routes: list[BaseRoute] = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def _unstorable(exc: Exception) -> bool:
    """The database refused a value from the request rather than failing: a number beyond
    the column's range or a NUL character (SQLite's OverflowError, PostgreSQL's class 22)."""
    if isinstance(exc, OverflowError):
        return True
    return str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "").startswith("22")


async def _database(_: Request, exc: Exception) -> JSONResponse:
    if _unstorable(exc):
        logger.info("refused a value the database cannot hold: %s", exc)
        return error_response(
            422,
            "invalid_request",
            "a value in the request is out of range or holds characters (such as NUL) that "
            "cannot be stored or searched",
        )
    logger.error("database error: %s", exc)
    return error_response(
        503,
        "database_unavailable",
        "the database is unavailable; retry soon",
        headers={"Retry-After": "5"},
    )


async def _pool_exhausted(_: Request, exc: Exception) -> JSONResponse:
    """Every database connection stayed busy for `database_pool_wait_s`: an overload."""
    logger.warning("no free database connection: %s", exc)
    return error_response(
        503,
        "server_busy",
        "the server is busy; retry soon",
        headers={"Retry-After": "2"},
    )


async def _changed_meanwhile(_: Request, exc: Exception) -> JSONResponse:
    """Rows this request changes were changed or deleted by another one since it read them
    (an admin's user change while a store of the user's is deleted)."""
    logger.info("rows changed under a request: %s", exc)
    return error_response(
        409, "conflict", "another request changed or deleted this meanwhile; read it again"
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "internal server error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ShopGuardError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ValidationError, _invalid_value)  # rules checked past the schema
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(OverflowError, _database)  # SQLite: an integer over 64 bits
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(StaleDataError, _changed_meanwhile)
    app.add_exception_handler(Exception, _unexpected)
