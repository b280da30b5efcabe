"""The Web Push page, `/push/#token=…&app=…`, and its service worker `/push/sw.js` (scope
`/push/`): plain HTML and JavaScript on the server's own origin, where a browser (the web
app's, or any other) subscribes with the server's VAPID key and registers the subscription
through the device API (`POST /api/v1/devices`). The app opens it signed in (a short-lived
access token in the fragment, which no server sees); otherwise one signs in on the page.
The service worker shows each pushed alert and opens it in the web app when tapped."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.api_paths import WEB_PUSH_PAGE

STATIC = Path(__file__).resolve().parents[1] / "notify" / "static"
SCOPE = f"{WEB_PUSH_PAGE}/"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
WORKER_HEADERS = {**HEADERS, "Service-Worker-Allowed": SCOPE}

router = APIRouter(prefix=WEB_PUSH_PAGE, tags=["push"], include_in_schema=False)


@router.get("/")
async def push_page() -> FileResponse:
    return FileResponse(STATIC / "push.html", media_type="text/html", headers=HEADERS)


@router.get("/push.js")
async def push_script() -> FileResponse:
    return FileResponse(STATIC / "push.js", media_type="text/javascript", headers=HEADERS)


@router.get("/sw.js")
async def service_worker() -> FileResponse:
    return FileResponse(STATIC / "sw.js", media_type="text/javascript", headers=WORKER_HEADERS)
