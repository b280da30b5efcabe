"""Headers every answer carries: `X-Content-Type-Options: nosniff` (a browser never guesses
a type, so an uploaded or echoed body is not run as script or page), and `Cache-Control:
no-store` on sign-in answers, which hold tokens no cache or history may keep. Signed media
links (`/media/...`) answer any origin (`Access-Control-Allow-Origin: *`, and
`Cross-Origin-Resource-Policy: cross-origin` for the web app's cross-origin-isolated page):
the signature is the permission, no cookie or token rides along, and the web app, served
from another origin, fetches pictures and plays clips from them."""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.api_paths import API_V1

NO_STORE_PREFIX = f"{API_V1}/auth/"
SIGNED_MEDIA_PREFIX = f"{API_V1}/media/"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope["path"].startswith(NO_STORE_PREFIX)
        any_origin = scope["path"].startswith(SIGNED_MEDIA_PREFIX)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if no_store:
                    headers["Cache-Control"] = "no-store"
                if any_origin:
                    headers["Access-Control-Allow-Origin"] = "*"
                    headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # a <video> too
            await send(message)

        await self.app(scope, receive, with_headers)
