"""Liveness and readiness probes (no sign-in needed)."""

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from server import __version__
from server.api.deps import RuntimeDep
from shared.schemas.health import Health

logger = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> Health:
    """The process is up (and is ShopGuard: apps check `service`)."""
    return Health(version=__version__)


@router.get("/ready", responses={503: {"description": "The database is unreachable."}})
async def ready(runtime: RuntimeDep) -> JSONResponse:
    """The server can reach its database."""
    try:
        async with runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as exc:
        logger.warning("readiness check failed: %s", exc)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok"})
