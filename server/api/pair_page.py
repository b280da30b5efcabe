"""`/pair?code=…&server=…`, where an invite's link lands when no web app is named: a page
that tells the phone's owner what to type into the app (the server and the code). The page
reads them from its own address; the server sees the code only as part of the request."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent / "static"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the code stays out of other sites' logs
    "Cache-Control": "no-store",
}

router = APIRouter(prefix="/pair", tags=["invites"], include_in_schema=False)


@router.get("")
async def pair_page() -> FileResponse:
    return FileResponse(STATIC / "pair.html", media_type="text/html", headers=HEADERS)


@router.get("/pair.js")
async def pair_script() -> FileResponse:
    return FileResponse(STATIC / "pair.js", media_type="text/javascript", headers=HEADERS)
