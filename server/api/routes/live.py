"""Live view of a camera: a player link, WebRTC signalling, and the MJPEG fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aiortc import RTCSessionDescription
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from server.api.closing_stream import ClosingStream
from server.api.deps import CurrentUser, RuntimeDep, SessionDep, bearer
from server.errors import AuthError, Conflict, Forbidden
from server.live.mjpeg import MEDIA_TYPE, jpeg_of, mjpeg_parts
from server.services.auth import Principal
from server.storage import cameras, cluster
from server.storage.models import Camera
from shared.api_paths import LIVE_PAGE
from shared.schemas.errors import ErrorResponse
from shared.schemas.live import (
    IceServerPublic,
    LiveAnswer,
    LiveConfigPublic,
    LiveLink,
    LiveOffer,
)

router = APIRouter(prefix="/cameras", tags=["live"])


async def live_viewer(
    camera_id: int,
    runtime: RuntimeDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Query(description="Live token, for an <img> (MJPEG).")] = None,
) -> Principal:
    """A caller with this camera's live token (header or `token`), or an access token."""
    given = credentials.credentials if credentials is not None else token
    if not given:
        raise AuthError("open the live view with a live link (POST /cameras/{id}/live-link)")
    try:
        principal = await runtime.auth.authenticate(
            session=session, token=given, camera_id=camera_id
        )
    except AuthError as live_error:
        try:  # the app may also sign signalling with its own access token
            principal = await runtime.auth.authenticate(session=session, token=given)
        except AuthError:
            raise live_error from None
    if principal.user.must_change_password:
        raise Forbidden("change your one-time password first (POST /api/v1/auth/password)")
    return principal


LiveViewer = Annotated[Principal, Depends(live_viewer)]


async def running_on(
    runtime: RuntimeDep, session: SessionDep, principal: Principal, camera_id: int
) -> str | None:
    """The worker that runs the camera when this is an API instance of several (its URL);
    None when it runs here (or nowhere: `watchable` says so)."""
    if runtime.relay is None or camera_id in runtime.pipeline.runners:
        return None
    await cameras.get_camera(session=session, camera_id=camera_id, store_ids=principal.store_scope)
    url = await cluster.camera_worker_url(session=session, camera_id=camera_id)
    if url is None:
        raise Conflict(f"camera {camera_id} runs on no worker now (disabled, or offline)")
    return url


async def watchable(
    runtime: RuntimeDep, session: SessionDep, principal: Principal, camera_id: int
) -> Camera:
    """The camera, if the caller may see its store and it runs in this server."""
    camera = await cameras.get_camera(
        session=session, camera_id=camera_id, store_ids=principal.store_scope
    )
    if camera_id not in runtime.pipeline.runners:
        raise Conflict(f"camera {camera_id} is not running on this server (disabled, or offline)")
    return camera


@router.post("/{camera_id}/live-link")
async def live_link(
    camera_id: int, principal: CurrentUser, runtime: RuntimeDep, session: SessionDep
) -> LiveLink:
    """A link to the player page for this camera, good for `live.link_ttl_s`."""
    await cameras.get_camera(session=session, camera_id=camera_id, store_ids=principal.store_scope)
    now = datetime.now(UTC)
    ttl = timedelta(seconds=runtime.settings.live.link_ttl_s)
    token = runtime.auth.signer.issue(
        user_id=principal.user.id,
        session_id=principal.session_id,
        now=now,
        ttl=ttl,
        camera_id=camera_id,
    )
    return LiveLink(url=f"{LIVE_PAGE}/{camera_id}#token={token}", token=token, expires_at=now + ttl)


@router.get(
    "/{camera_id}/snapshot.jpg",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "The newest picture."},
        503: {"model": ErrorResponse, "description": "Busy drawing pictures: ask again."},
    },
)
async def camera_snapshot(
    camera_id: int,
    principal: CurrentUser,
    runtime: RuntimeDep,
    session: SessionDep,
    request: Request,
    width: Annotated[int, Query(ge=64, le=1280, description="Width in pixels.")] = 320,
) -> Response:
    """The camera's newest analysed picture with its people drawn (for camera lists)."""
    if (worker := await running_on(runtime, session, principal, camera_id)) is not None:
        assert runtime.relay is not None
        return await runtime.relay.relay(worker, request)
    camera = await watchable(runtime, session, principal, camera_id)
    frame = runtime.live.frames.latest(camera_id)
    if frame is None:
        raise Conflict(f"camera {camera_id} has no picture yet (it is still connecting)")
    jpeg = await runtime.pictures.run_or_refuse(jpeg_of, frame, width, camera.name)
    return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/{camera_id}/live-config")
async def live_config(
    camera_id: int, principal: LiveViewer, runtime: RuntimeDep, session: SessionDep
) -> LiveConfigPublic:
    """The player's settings (ICE servers included: they may hold TURN credentials)."""
    camera = await cameras.get_camera(
        session=session, camera_id=camera_id, store_ids=principal.store_scope
    )
    config = runtime.settings.live
    return LiveConfigPublic(
        camera_id=camera_id,
        camera_name=camera.name,
        ice_servers=[
            IceServerPublic(
                urls=server.urls,
                username=server.username,
                credential=server.credential.get_secret_value() if server.credential else None,
            )
            for server in config.ice_servers
        ],
        width=config.width,
        fps=config.fps,
        connect_timeout_ms=round(config.connect_timeout_s * 1000),
    )


@router.post("/{camera_id}/webrtc", response_model=LiveAnswer)
async def webrtc_offer(
    camera_id: int,
    body: LiveOffer,
    principal: LiveViewer,
    runtime: RuntimeDep,
    session: SessionDep,
    request: Request,
) -> LiveAnswer | Response:
    """Start watching: the viewer's SDP offer in, the server's answer out (the answer of
    the worker that runs the camera, when this is an API instance: media from there)."""
    if (worker := await running_on(runtime, session, principal, camera_id)) is not None:
        assert runtime.relay is not None
        return await runtime.relay.relay(worker, request)
    camera = await watchable(runtime, session, principal, camera_id)
    answer = await runtime.live.answer(
        RTCSessionDescription(sdp=body.sdp, type=body.type),
        camera_id=camera_id,
        label=camera.name,
        user_id=principal.user.id,
        session_id=principal.session_id,
    )
    return LiveAnswer(sdp=answer.sdp)


@router.get("/{camera_id}/live.mjpeg", response_class=StreamingResponse)
async def live_mjpeg(
    camera_id: int,
    principal: LiveViewer,
    runtime: RuntimeDep,
    session: SessionDep,
    request: Request,
    probe: Annotated[
        bool, Query(description="Only check the stream would start (204), as the player does.")
    ] = False,
) -> Response:
    """The fallback: JPEG frames at `live.mjpeg_fps`, for an <img>; counted in the caps."""
    if (worker := await running_on(runtime, session, principal, camera_id)) is not None:
        assert runtime.relay is not None
        return await runtime.relay.relay(worker, request)
    camera = await watchable(runtime, session, principal, camera_id)
    if probe:
        runtime.live.admit(camera_id, principal.user.id)
        return Response(status_code=204)
    viewer = runtime.live.join_mjpeg(
        camera_id=camera_id, user_id=principal.user.id, session_id=principal.session_id
    )
    config = runtime.settings.live
    parts = mjpeg_parts(
        runtime.live.frames,
        runtime.pictures,
        camera_id=camera_id,
        label=camera.name,
        width=config.width,
        fps=config.mjpeg_fps,
        until=viewer.ended,
    )
    return ClosingStream(
        parts,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-store"},
        on_close=lambda: runtime.live.leave(viewer, "MJPEG stream ended"),
    )
