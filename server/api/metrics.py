"""`GET /metrics`: Prometheus metrics, for whom `metrics.*` allows (any one way is enough):

- a reader on this machine (`allow_loopback`), spoken to directly: a request relayed by a
  proxy carries X-Forwarded-For or Forwarded and is not local, whatever address it comes from;
- a scraper sending `Authorization: Bearer <metrics.token>`;
- a signed-in admin's access token (`allow_admins`).

Anyone else gets 401 (403 for a signed-in user who is not an admin), so the default answers
nobody else on the store's network.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from server.api.deps import RuntimeDep, bearer, get_principal
from server.errors import AuthError, Forbidden
from server.metrics.app_metrics import AppMetrics
from server.metrics.requests import RequestMetrics
from shared.schemas.auth import Role

METRICS_PATH = "/metrics"
FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip")

router = APIRouter(tags=["metrics"])


def is_local(request: Request) -> bool:
    """The caller is on this machine and spoke to the server directly."""
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback and not any(h in request.headers for h in FORWARDING_HEADERS)


async def check_reader(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Let the caller read the metrics, or raise AuthError (401) or Forbidden (403)."""
    access = runtime.settings.metrics
    if access.allow_loopback and is_local(request):
        return
    if credentials is None:
        raise AuthError("send Authorization: Bearer <the metrics token or an admin's token>")
    token = credentials.credentials.encode()
    if access.token is not None and hmac.compare_digest(
        token, access.token.get_secret_value().encode()
    ):
        return
    if not access.allow_admins:
        raise AuthError("the metrics token is wrong")
    async with runtime.sessionmaker() as session:
        principal = await get_principal(
            await runtime.auth.authenticate(session=session, token=credentials.credentials)
        )
    if principal.role is not Role.admin:
        raise Forbidden(f"metrics are for admins; you are {principal.role.value}")


ReaderDep = Annotated[None, Depends(check_reader)]


@router.get(METRICS_PATH, response_class=Response)
async def read_metrics(request: Request, _reader: ReaderDep) -> Response:
    """Prometheus metrics: cameras, pose workers, alerts, live clients, pushes, HTTP routes."""
    metrics: AppMetrics = request.app.state.metrics
    body, content_type = metrics.render(request.headers.get("accept", ""))
    return Response(body, media_type=content_type)


def install_metrics(app: FastAPI) -> None:
    """Serve /metrics and time requests, when `metrics.enabled`; call after the other
    middleware, so the timing includes them."""
    if not app.state.settings.metrics.enabled:
        return
    metrics = AppMetrics.create(lambda: getattr(app.state, "runtime", None))
    app.state.metrics = metrics
    app.include_router(router)
    app.add_middleware(RequestMetrics, metrics=metrics, routes=app.router.routes)
