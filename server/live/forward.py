"""Live views of cameras that run on another process (an API instance has no frames): the
player's requests are relayed to the worker holding the camera, which checks the same
credentials again. WebRTC signalling goes through here and the media flows from the worker
to the viewer (ICE: the worker must be reachable, or a TURN server set in
`live.ice_servers`); MJPEG and snapshots are streamed through."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from server.errors import Unavailable

FORWARDED = ("authorization",)  # the viewer's own credentials, checked again there
SIGNAL_TIMEOUT_S = 15.0  # the worker gathers its ICE candidates before it answers


class WorkerRelay:
    """One HTTP client for every relayed live request of this API instance."""

    def __init__(self) -> None:
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(SIGNAL_TIMEOUT_S, read=None), follow_redirects=False
        )

    async def relay(self, worker_url: str, request: Request) -> Response:
        """The worker's answer to the same request (path, query, body, credentials)."""
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        outgoing = self._http.build_request(
            request.method,
            worker_url + request.url.path,
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        try:
            answer = await self._http.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            raise Unavailable(f"the worker running this camera does not answer ({exc})") from exc
        kept = {
            k: v
            for k, v in answer.headers.items()
            if k.lower() in ("content-type", "cache-control", "retry-after")
        }
        return StreamingResponse(
            _body(answer), status_code=answer.status_code, headers=kept, background=None
        )

    async def aclose(self) -> None:
        await self._http.aclose()


async def _body(answer: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    finally:
        await answer.aclose()
