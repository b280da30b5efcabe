"""The live player page, `/live/{camera_id}#token=…`: plain HTML and JavaScript that a
browser opens directly and the app embeds (a WebView; an iframe in the web app, whose host
page is cross-origin isolated, hence the headers). The page holds nothing secret: it reads
the token from its fragment (never sent to servers) and asks the API for the rest."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from shared.api_paths import LIVE_PAGE

STATIC = Path(__file__).resolve().parents[1] / "live" / "static"
HEADERS = {
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; "
        "media-src 'self' blob:; connect-src 'self'; frame-ancestors *"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(prefix=LIVE_PAGE, tags=["live"], include_in_schema=False)


@router.get("/player.js")
async def player_script() -> FileResponse:
    return FileResponse(STATIC / "player.js", media_type="text/javascript", headers=HEADERS)


@router.get("/{camera_id}")
async def player_page(camera_id: int) -> FileResponse:
    return FileResponse(STATIC / "player.html", media_type="text/html", headers=HEADERS)
