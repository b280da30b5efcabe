"""All routes under /api/v1."""

from fastapi import APIRouter

from server.api.routes import (
    alerts,
    analytics,
    audit,
    auth,
    cameras,
    devices,
    dvrs,
    episodes,
    health,
    invites,
    live,
    media,
    models,
    pipeline,
    settings,
    stats,
    stores,
    users,
    ws,
)

api_router = APIRouter()
for module in (
    health,
    auth,
    users,
    invites,
    stores,
    cameras,
    dvrs,
    alerts,
    episodes,
    stats,
    analytics,
    settings,
    devices,
    audit,
    pipeline,
    models,
    media,
    live,
    ws,
):
    api_router.include_router(module.router)
api_router.include_router(analytics.pictures)
