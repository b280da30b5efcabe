"""REST calls to the server, typed with the project's `shared` schemas. The access token is
refreshed once on a 401 (and handed to `on_tokens` to keep); errors come out as the classes
in `mobile.api.errors`, with the server's own message."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from mobile.api.errors import (
    ApiError,
    Rejected,
    ServerFailed,
    SignedOut,
    Unreachable,
    server_error,
    sign_in_refused,
    transport_error,
)
from mobile.api.probe import normalise_address
from mobile.i18n import _
from shared.api_paths import API_V1
from shared.schemas.alerts import (
    AlertOutcome,
    AlertPublic,
    AlertsPublic,
    AlertStatus,
    AlertUpdate,
    MediaLinksPublic,
)
from shared.schemas.auth import LoginRequest, Me, RefreshRequest, TokenPair
from shared.schemas.cameras import (
    CameraCreate,
    CameraPublic,
    CamerasPublic,
    CameraUpdate,
    DvrCreate,
    DvrPublic,
    DvrsPublic,
    SourceProbe,
    SourceProbeResult,
)
from shared.schemas.devices import DevicePublic, DeviceRegister, DevicesPublic
from shared.schemas.errors import ErrorResponse
from shared.schemas.live import LiveLink
from shared.schemas.losses import LossesPublic
from shared.schemas.models import ModelsPublic
from shared.schemas.preferences import PushPreferencesPublic, PushPreferencesUpdate
from shared.schemas.settings import RuntimeSettings, RuntimeSettingsUpdate
from shared.schemas.stats import StatsPublic
from shared.schemas.stores import StoresPublic

Model = TypeVar("Model", bound=BaseModel)
TokensChanged = Callable[[TokenPair | None], Awaitable[None]]
TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 45.0  # the server gives a camera its open timeout per step


class ApiClient:
    def __init__(
        self,
        address: str,
        *,
        tokens: TokenPair | None = None,
        on_tokens: TokensChanged | None = None,
        verify: bool | ssl.SSLContext = True,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.address = normalise_address(address)
        self.tokens = tokens
        self._on_tokens = on_tokens
        self._refreshing = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=self.address + API_V1, timeout=timeout_s, verify=verify
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # sign-in
    async def login(self, username: str, password: str) -> TokenPair:
        body = LoginRequest(username=username, password=password)
        try:
            tokens = await self._call("POST", "/auth/login", TokenPair, body=body, signed=False)
        except SignedOut as exc:  # here: the wrong name or password
            raise sign_in_refused(exc) from None
        await self._keep(tokens)
        return tokens

    async def logout(self) -> None:
        try:
            if self.tokens is not None:
                await self._send("POST", "/auth/logout")
        except (SignedOut, Unreachable, ServerFailed):
            pass  # signed out here either way
        finally:
            await self._keep(None)

    async def me(self) -> Me:
        return await self._call("GET", "/auth/me", Me)

    # stores and cameras
    async def stores(self) -> StoresPublic:
        return await self._call("GET", "/stores", StoresPublic)

    async def cameras(self) -> CamerasPublic:
        return await self._call("GET", "/cameras", CamerasPublic, params={"limit": 200})

    async def create_camera(self, camera: CameraCreate) -> CameraPublic:
        return await self._call("POST", "/cameras", CameraPublic, body=camera)

    async def update_camera(self, camera_id: int, change: CameraUpdate) -> CameraPublic:
        return await self._call("PATCH", f"/cameras/{camera_id}", CameraPublic, body=change)

    async def set_camera_enabled(self, camera_id: int, enabled: bool) -> CameraPublic:
        action = "enable" if enabled else "disable"
        return await self._call("POST", f"/cameras/{camera_id}/{action}", CameraPublic)

    async def delete_camera(self, camera_id: int) -> None:
        await self._send("DELETE", f"/cameras/{camera_id}")

    async def test_source(
        self, probe: SourceProbe, camera_id: int | None = None
    ) -> SourceProbeResult:
        """Whether the server can open this source (a saved camera's masked URL stands for
        its stored one); a failed connection is a result with the reason, not an error."""
        path = "/cameras/source-test" if camera_id is None else f"/cameras/{camera_id}/source-test"
        return await self._call(
            "POST", path, SourceProbeResult, body=probe, timeout_s=PROBE_TIMEOUT_S
        )

    async def dvrs(self) -> DvrsPublic:
        return await self._call("GET", "/dvrs", DvrsPublic)

    async def create_dvr(self, dvr: DvrCreate) -> DvrPublic:
        return await self._call("POST", "/dvrs", DvrPublic, body=dvr)

    async def delete_dvr(self, dvr_id: int) -> None:
        await self._send("DELETE", f"/dvrs/{dvr_id}")

    async def send_test_alert(self, camera_id: int) -> AlertPublic:
        """A test alert on this camera (admins), to check that phones get alerts."""
        return await self._call("POST", f"/cameras/{camera_id}/test-alert", AlertPublic)

    async def camera_snapshot(self, camera_id: int, width: int = 320) -> bytes:
        """The camera's newest picture as a JPEG (a running camera only)."""
        response = await self._send(
            "GET", f"/cameras/{camera_id}/snapshot.jpg", params={"width": width}
        )
        return response.content

    async def live_link(self, camera_id: int) -> LiveLink:
        return await self._call("POST", f"/cameras/{camera_id}/live-link", LiveLink)

    # alerts
    async def alerts(
        self,
        *,
        statuses: list[AlertStatus] | None = None,
        camera_id: int | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> AlertsPublic:
        params: dict[str, Any] = {"limit": limit}
        if statuses:
            params["status"] = [s.value for s in statuses]
        if camera_id is not None:
            params["camera_id"] = camera_id
        if since is not None:
            params["since"] = since.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        if cursor is not None:
            params["cursor"] = cursor
        return await self._call("GET", "/alerts", AlertsPublic, params=params)

    async def alert(self, alert_id: int) -> AlertPublic:
        return await self._call("GET", f"/alerts/{alert_id}", AlertPublic)

    async def review(
        self,
        alert: AlertPublic,
        *,
        status: AlertStatus | None = None,
        outcome: AlertOutcome | None = None,
        notes: str | None = None,
    ) -> AlertPublic:
        try:
            change = AlertUpdate(
                status=status, outcome=outcome, notes=notes, if_version=alert.version
            )
        except ValidationError as exc:
            raise Rejected(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return await self._call("PATCH", f"/alerts/{alert.id}", AlertPublic, body=change)

    async def models(self) -> ModelsPublic:
        """The behaviour models and their figures (supervisors and admins)."""
        return await self._call("GET", "/models", ModelsPublic)

    async def media_links(self, alert_id: int) -> MediaLinksPublic:
        return await self._call("POST", f"/alerts/{alert_id}/media-links", MediaLinksPublic)

    # stats, settings, notifications
    async def stats(
        self, *, since: datetime, until: datetime, tz: str | None = None
    ) -> StatsPublic:
        params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
        if tz:
            params["tz"] = tz
        return await self._call("GET", "/stats", StatsPublic, params=params)

    # loss value: the goods' value at review, and the losses over a range
    async def review_goods(
        self,
        alert: AlertPublic,
        *,
        goods_value: Decimal | None,
        goods_recovered: bool | None,
        outcome: AlertOutcome | None = None,
        notes: str | None = None,
    ) -> AlertPublic:
        """Record the goods' value (None removes it) and, for a theft, whether they were got
        back; with `outcome`, in the same step as the review."""
        try:
            change = AlertUpdate(
                outcome=outcome,
                notes=notes,
                goods_value=goods_value,
                goods_recovered=goods_recovered,
                if_version=alert.version,
            )
        except ValidationError as exc:
            raise Rejected(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
        return await self._call("PATCH", f"/alerts/{alert.id}", AlertPublic, body=change)

    async def losses(
        self, *, since: datetime, until: datetime, tz: str | None = None
    ) -> LossesPublic:
        params: dict[str, Any] = {"since": since.isoformat(), "until": until.isoformat()}
        if tz:
            params["tz"] = tz
        return await self._call("GET", "/stats/losses", LossesPublic, params=params)

    async def settings(self) -> RuntimeSettings:
        return await self._call("GET", "/settings", RuntimeSettings)

    async def update_settings(self, change: RuntimeSettingsUpdate) -> RuntimeSettings:
        return await self._call("PATCH", "/settings", RuntimeSettings, body=change)

    async def preferences(self) -> PushPreferencesPublic:
        return await self._call("GET", "/devices/preferences", PushPreferencesPublic)

    async def set_preferences(self, change: PushPreferencesUpdate) -> PushPreferencesPublic:
        return await self._call("PUT", "/devices/preferences", PushPreferencesPublic, body=change)

    async def register_device(self, device: DeviceRegister) -> DevicePublic:
        return await self._call("POST", "/devices", DevicePublic, body=device)

    async def devices(self) -> DevicesPublic:
        return await self._call("GET", "/devices", DevicesPublic)

    async def delete_device(self, device_id: int) -> None:
        await self._send("DELETE", f"/devices/{device_id}")

    async def fresh_access_token(self) -> str:
        """An access token good for a while (for the WebSocket's hello)."""
        await self.me()  # refreshes the pair if the access token has expired
        if self.tokens is None:
            raise SignedOut(_("sign in first"), status=401)
        return self.tokens.access_token

    # plumbing
    async def _call(
        self,
        method: str,
        path: str,
        model: type[Model],
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        signed: bool = True,
        timeout_s: float | None = None,
    ) -> Model:
        response = await self._send(
            method, path, body=body, params=params, signed=signed, timeout_s=timeout_s
        )
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise ServerFailed(
                _(
                    "The server's answer was not understood: the app and the server may be "
                    "different versions."
                ),
                detail=f"the server's answer to {path} was not understood: {exc}",
            ) from exc

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        params: dict[str, Any] | None = None,
        signed: bool = True,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        content = body.model_dump_json(exclude_unset=True) if body is not None else None
        response = await self._request(method, path, content, params, signed, timeout_s)
        if response.status_code == 401 and signed and await self._refresh(self.tokens):
            response = await self._request(method, path, content, params, signed, timeout_s)
        if response.is_success:
            return response
        raise _error(response)

    async def _request(
        self,
        method: str,
        path: str,
        content: str | None,
        params: dict[str, Any] | None,
        signed: bool,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if content is not None else {}
        if signed:
            if self.tokens is None:
                raise SignedOut(_("sign in first"), status=401)
            headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        try:
            return await self._http.request(
                method,
                path,
                content=content,
                params=params,
                headers=headers,
                timeout=timeout_s if timeout_s is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.address) from exc

    async def _refresh(self, used: TokenPair | None) -> bool:
        """Swap the refresh token for a new pair (once, however many calls saw the 401)."""
        async with self._refreshing:
            if self.tokens is not used:  # another call refreshed meanwhile
                return self.tokens is not None
            if used is None:
                return False
            body = RefreshRequest(refresh_token=used.refresh_token)
            response = await self._request(
                "POST", "/auth/refresh", body.model_dump_json(), None, signed=False
            )
            if not response.is_success:
                await self._keep(None)
                raise SignedOut(_("your sign-in has ended: sign in again"), status=401)
            await self._keep(TokenPair.model_validate_json(response.content))
            return True

    async def _keep(self, tokens: TokenPair | None) -> None:
        self.tokens = tokens
        if self._on_tokens is not None:
            await self._on_tokens(tokens)


def _error(response: httpx.Response) -> ApiError:
    try:
        detail = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        return server_error(response.status_code, "", f"HTTP {response.status_code}", [])
    return server_error(response.status_code, detail.code, detail.message, detail.fields)
