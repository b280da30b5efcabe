"""An evidence file as an HTTP response, from whichever store holds it, with byte ranges
(players seek in clips by asking for ranges)."""

from __future__ import annotations

import asyncio
import re

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from server.errors import NotFound, RangeNotSatisfiable, Unavailable
from server.evidence.store import EvidenceStore, EvidenceStoreError
from server.services.evidence import REMOVED, EvidenceFile

SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


async def evidence_response(
    store: EvidenceStore, wanted: EvidenceFile, request: Request, *, download: bool
) -> Response:
    """The file, whole or the one byte range asked for; 404 when retention removed it,
    503 when the store cannot be reached."""
    filename = f"alert-{wanted.alert_id}-{wanted.name}" if download else None
    path = store.local_path(wanted.key)
    if path is not None:
        return FileResponse(path, media_type=wanted.media_type, filename=filename)
    try:
        stored = await asyncio.to_thread(store.stat, wanted.key)
    except EvidenceStoreError as exc:
        raise Unavailable(f"the evidence store cannot be reached: {exc}") from exc
    if stored is None:
        raise NotFound(f"alert {wanted.alert_id}'s {wanted.name} {REMOVED}")
    headers = {"Accept-Ranges": "bytes"}
    if filename is not None:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    span = byte_range(request.headers.get("range"), stored.size)
    start, end = span if span is not None else (0, stored.size - 1)
    headers["Content-Length"] = str(end - start + 1)
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{stored.size}"
    return StreamingResponse(
        store.read(wanted.key, start, end - start + 1),
        status_code=206 if span is not None else 200,
        media_type=wanted.media_type,
        headers=headers,
    )


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte of a single-range `Range` header; None: the whole file
    (no header, or one we answer whole: several ranges, other units)."""
    if header is None:
        return None
    found = SINGLE_RANGE.match(header.strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(size - 1, int(last)) if last else size - 1
    if start >= size or start > end:
        raise RangeNotSatisfiable(f"bytes {header!r} are outside the file ({size} bytes)", size)
    return start, end
