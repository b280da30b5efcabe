"""Refuse request bodies over the configured size (413) or of an unreasonable JSON shape
(422), before the app reads them."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.errors import error_response


class BodySizeLimit:
    """A declared Content-Length over the limit is refused at once; a streamed body is
    buffered up to the limit and refused as soon as it passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413, "body_too_large", f"request body is larger than {self.max_bytes} bytes"
        )
        await response(scope, receive, send)


class JsonShapeLimit:
    """A JSON body with more than `max_items` keys and elements in all, or nested deeper
    than `max_depth`, is refused (422) before validation: a megabyte of unknown keys would
    otherwise make a megabyte-sized error list and hold the event loop for seconds. A body
    that is not JSON passes on, for the app's own answer."""

    def __init__(self, app: ASGIApp, max_items: int = 10_000, max_depth: int = 32) -> None:
        self.app = app
        self.max_items, self.max_depth = max_items, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        body = b""
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        problem = self._problem(body)
        if problem is not None:
            await error_response(422, "validation_error", problem)(scope, receive, send)
            return

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    def _problem(self, body: bytes) -> str | None:
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return None  # not JSON: the app answers that
        items, depth = 0, 0
        level: list[object] = [document]
        while level:
            depth += 1
            if depth > self.max_depth:
                return f"the request body is nested deeper than {self.max_depth} levels"
            children: list[object] = []
            for node in level:
                if isinstance(node, dict):
                    children.extend(node.values())
                elif isinstance(node, list):
                    children.extend(node)
            items += len(children)
            if items > self.max_items:
                return f"the request body holds more than {self.max_items} keys and elements"
            level = children
        return None


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return scope.get("method") in {"POST", "PUT", "PATCH"} and b"json" in content_type.lower()
