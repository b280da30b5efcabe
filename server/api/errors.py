"""Every error leaves as `{"error": {"code", "message", "fields"}}` with the right status."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

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


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "loc": [str(part) for part in err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]
    if any(field["type"] == "json_invalid" for field in fields):
        return error_response(400, "malformed_json", "the request body is not valid JSON", fields)
    summary = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in fields[:5])
    return error_response(422, "validation_error", f"invalid request: {summary}", fields)


async def _invalid_value(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    fields = [
        {"loc": [str(part) for part in err["loc"]], "msg": err["msg"], "type": err["type"]}
        for err in exc.errors()
    ]
    return error_response(422, "validation_error", f"invalid value: {exc.title}", fields)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


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
    app.add_exception_handler(Exception, _unexpected)
