"""The ASGI application: `create_app(settings)` and the lifespan that owns the runtime."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from server import __version__
from server.api import cluster, live_page, pair_page, web_push_page
from server.api.errors import install_error_handlers
from server.api.headers import SecurityHeaders
from server.api.limits import BodySizeLimit, JsonShapeLimit
from server.api.metrics import install_metrics
from server.api.router import api_router
from server.api.routes import analytics, health, live
from server.config import Settings
from server.runtime import Runtime
from shared.api_paths import API_V1
from shared.schemas.errors import ErrorResponse


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPIOffline(  # /docs and /redoc load their scripts from here, not from a CDN
        static_url="/docs-static",
        title="ShopGuard",
        version=__version__,
        description="Self-hosted shoplifting detection: cameras, alerts, review and stats.",
        lifespan=lifespan,
        responses={
            status: {"model": ErrorResponse, "description": description}
            for status, description in (
                (400, "The request body is not valid JSON."),
                (401, "Not signed in, or the token is invalid, expired or revoked."),
                (403, "Signed in, but the role may not do this."),
                (404, "Not found, or outside your stores."),
                (409, "Conflicts with the current state."),
                (413, "The request body is larger than `server.max_body_bytes`."),
                (422, "The request breaks a validation rule."),
            )
        },
    )
    app.state.settings = settings
    install_error_handlers(app)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(JsonShapeLimit)  # inside the size limit: bodies it reads are bounded
    app.add_middleware(BodySizeLimit, max_bytes=settings.server.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outside the limits: their refusals carry them too
    if settings.cluster.role == "worker":  # cameras: health for probes, pictures relayed
        app.include_router(health.router, prefix=API_V1)
        app.include_router(live.router, prefix=API_V1)
        app.include_router(analytics.pictures, prefix=API_V1)
    else:
        app.include_router(api_router, prefix=API_V1)
        app.include_router(cluster.router, prefix=API_V1)
        app.include_router(live_page.router)
        app.include_router(web_push_page.router)
        app.include_router(pair_page.router)  # where an invite's link lands
    install_metrics(app)  # last: its timing includes the other middleware
    return app
