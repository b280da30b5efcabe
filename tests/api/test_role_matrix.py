"""Who may call what: every HTTP route under /api/v1 against every kind of caller.

`MATRIX` has one row per route. Its five letters give the answer for the five signed-in
callers, in the order of `ROLE_CALLERS`:

    O  the route's success status        F  403 forbidden        N  404 not_found

The five bad-token callers (`BAD_TOKENS`) get 401 `unauthorized` with `WWW-Authenticate:
Bearer` on every route except the public ones, where the Authorization header is ignored.
Every refused call must leave the database exactly as it was. A route added to the app
without a row here fails `test_matrix_covers_every_route`.
"""

import base64
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from PIL import Image
from starlette.routing import WebSocketRoute

from server.app import create_app
from server.config import Settings
from server.evidence.store import evidence_key
from server.runtime import Runtime
from server.services.evidence_share import share_path
from server.services.thumbnails import thumbnail_path
from server.storage.models import Alert, utcnow
from shared.api_paths import API_V1
from shared.schemas.alerts import EvidenceName
from tests.helpers import (
    ADMIN_PASSWORD,
    NEW_PASSWORD,
    USER_PASSWORD,
    World,
    add_alert,
    db_snapshot,
    error_of,
    login,
)
from tests.models.builders import write_candidate
from tests.posetracks.people import feed, tracked_frames

ROLE_CALLERS = ("viewer_a", "supervisor_a", "admin", "viewer_b", "supervisor_b")
BAD_TOKENS = ("anonymous", "expired", "forged", "bad_signature", "logged_out")
CALLERS = BAD_TOKENS + ROLE_CALLERS


@dataclass
class Call:
    """The concrete request of one cell: path parameters and an optional JSON body."""

    params: dict[str, int | str] = field(default_factory=dict)
    body: Any = None
    query: str = ""  # appended to the path, e.g. "?exp=…&sig=…"


@dataclass
class Ctx:
    """The world of one test: ids of store A's resources and headers per caller."""

    client: httpx.AsyncClient
    runtime: Runtime
    world: World
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int]
    dvr_a: int
    alert_a: int
    counter: "itertools.count[int]" = field(default_factory=itertools.count)

    @property
    def admin(self) -> dict[str, str]:
        return self.headers["admin"]

    @property
    def store_a(self) -> int:
        return self.world.stores[0]

    @property
    def camera_a(self) -> int:
        return self.world.cameras[0]

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    def owner(self, caller: str) -> str:
        """Whose resources a caller acts on: its own, or the admin's for a bad token."""
        return caller if caller in ROLE_CALLERS else "admin"

    async def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
        response = await self.client.post(
            f"{API_V1}{path}", headers=headers or self.admin, json=body
        )
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def new_user(self) -> int:
        user = await self.post(
            "/users", {"username": self.unique("target"), "password": USER_PASSWORD}
        )
        return int(user["id"])

    async def new_camera(self) -> int:
        camera = await self.post(
            "/cameras",
            {
                "store_id": self.store_a,
                "name": self.unique("Target cam"),
                "source_kind": "rtsp",
                "source_url": "rtsp://10.0.0.99/stream",
            },
        )
        return int(camera["id"])


def password_of(user: str) -> str:
    return ADMIN_PASSWORD if user == "admin" else NEW_PASSWORD


Prepare = Callable[[Ctx, str], Awaitable[Call]]


async def nothing(ctx: Ctx, caller: str) -> Call:
    return Call()


def fixed(**params: Callable[[Ctx], int]) -> Prepare:
    """Path parameters taken from store A's standing resources."""

    async def prepare(ctx: Ctx, caller: str) -> Call:
        return Call(params={name: pick(ctx) for name, pick in params.items()})

    return prepare


async def camera_a_query(ctx: Ctx, caller: str) -> Call:
    return Call(query=f"?camera_id={ctx.camera_a}")


async def login_body(ctx: Ctx, caller: str) -> Call:
    return Call(body={"username": "viewer_a", "password": NEW_PASSWORD})


async def refresh_body(ctx: Ctx, caller: str) -> Call:
    pair = await ctx.post("/auth/login", {"username": "viewer_a", "password": NEW_PASSWORD})
    return Call(body={"refresh_token": pair["refresh_token"]})


async def password_body(ctx: Ctx, caller: str) -> Call:
    current = password_of(ctx.owner(caller))
    return Call(body={"current_password": current, "new_password": current})


async def new_user_body(ctx: Ctx, caller: str) -> Call:
    return Call(body={"username": ctx.unique("newuser"), "password": USER_PASSWORD})


async def fresh_user_update(ctx: Ctx, caller: str) -> Call:
    return Call(params={"user_id": await ctx.new_user()}, body={"role": "supervisor"})


async def fresh_user(ctx: Ctx, caller: str) -> Call:
    return Call(params={"user_id": await ctx.new_user()})


async def new_invite_body(ctx: Ctx, caller: str) -> Call:
    return Call(body={"role": "viewer", "store_ids": [ctx.store_a]})


async def fresh_invite(ctx: Ctx, caller: str) -> Call:
    invite = await ctx.post("/invites", {"role": "viewer"})
    return Call(params={"invite_id": int(invite["id"])})


async def fresh_invite_code(ctx: Ctx, caller: str) -> Call:
    invite = await ctx.post("/invites", {"role": "viewer"})
    body = {"code": invite["code"], "username": ctx.unique("invited"), "password": USER_PASSWORD}
    return Call(body=body)


async def new_store_body(ctx: Ctx, caller: str) -> Call:
    return Call(body={"name": ctx.unique("Store")})


async def store_a_update(ctx: Ctx, caller: str) -> Call:
    return Call(params={"store_id": ctx.store_a}, body={"address": ctx.unique("Main St")})


async def fresh_store(ctx: Ctx, caller: str) -> Call:
    store = await ctx.post("/stores", {"name": ctx.unique("Doomed store")})
    return Call(params={"store_id": int(store["id"])})


async def new_camera_body(ctx: Ctx, caller: str) -> Call:
    return Call(
        body={
            "store_id": ctx.store_a,
            "name": ctx.unique("New cam"),
            "source_kind": "rtsp",
            "source_url": "rtsp://10.0.0.50/stream",
        }
    )


async def fresh_camera(ctx: Ctx, caller: str) -> Call:
    return Call(params={"camera_id": await ctx.new_camera()})


async def fresh_camera_update(ctx: Ctx, caller: str) -> Call:
    return Call(
        params={"camera_id": await ctx.new_camera()},
        body={"location": "Back door", "alert_budget_per_day": 2.0},
    )


async def new_dvr_body(ctx: Ctx, caller: str) -> Call:
    return Call(
        body={
            "store_id": ctx.store_a,
            "name": ctx.unique("New DVR"),
            "url_template": "rtsp://10.0.1.1/ch{channel}",
            "channels": 2,
        }
    )


async def fresh_dvr(ctx: Ctx, caller: str) -> Call:
    dvr = await ctx.post(
        "/dvrs",
        {
            "store_id": ctx.store_a,
            "name": ctx.unique("Doomed DVR"),
            "url_template": "rtsp://10.0.2.1/ch{channel}",
            "channels": 1,
        },
    )
    return Call(params={"dvr_id": int(dvr["id"])})


async def fresh_alert_review(ctx: Ctx, caller: str) -> Call:
    alert = await add_alert(ctx.runtime, ctx.camera_a, started_at=utcnow(), zone=ctx.unique("zone"))
    return Call(params={"alert_id": alert.id}, body={"status": "acknowledged"})


def alert_a(ctx: Ctx) -> int:
    return ctx.alert_a


async def alert_with_snapshot(ctx: Ctx, real: bool = False) -> int:
    """A new alert of store A whose snapshot is stored (`real`: a picture Pillow reads)."""
    alert = await add_alert(ctx.runtime, ctx.camera_a, started_at=utcnow(), zone=ctx.unique("z"))
    picture = ctx.runtime.settings.data_dir / "snapshot-source.jpg"
    if real:
        Image.new("RGB", (320, 180), (90, 120, 60)).save(picture, format="JPEG")
    else:
        picture.write_bytes(b"\xff\xd8\xff\xe0 a jpeg \xff\xd9")
    key = evidence_key(alert.store_id, alert.camera_id, alert.id, "snapshot.jpg")
    ctx.runtime.clips.store.put(key, picture)
    async with ctx.runtime.sessionmaker() as session:
        stored = await session.get(Alert, alert.id)
        assert stored is not None
        stored.snapshot_ref = key
        await session.commit()
    return alert.id


async def evidence_download(ctx: Ctx, caller: str) -> Call:
    return Call(params={"alert_id": await alert_with_snapshot(ctx), "name": "snapshot.jpg"})


async def signed_evidence(ctx: Ctx, caller: str) -> Call:
    alert_id = await alert_with_snapshot(ctx)
    query, _ = ctx.runtime.media_links.link(alert_id, "snapshot.jpg")
    return Call(params={"alert_id": alert_id, "name": "snapshot.jpg"}, query=f"?{query}")


async def alert_with_clip(ctx: Ctx) -> int:
    """A new alert of store A whose (small, made-up) clip is stored."""
    alert = await add_alert(ctx.runtime, ctx.camera_a, started_at=utcnow(), zone=ctx.unique("z"))
    clip = ctx.runtime.settings.data_dir / "clip-source.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42 a clip")
    key = evidence_key(alert.store_id, alert.camera_id, alert.id, "clip.mp4")
    ctx.runtime.clips.store.put(key, clip)
    async with ctx.runtime.sessionmaker() as session:
        stored = await session.get(Alert, alert.id)
        assert stored is not None
        stored.clip_ref, stored.clip_status = key, "done"
        await session.commit()
    return alert.id


async def share_clip(ctx: Ctx, caller: str) -> Call:
    return Call(params={"alert_id": await alert_with_clip(ctx)}, body={"expires_in_s": 60})


async def shared_clip(ctx: Ctx, caller: str) -> Call:
    alert_id = await alert_with_clip(ctx)
    path = share_path(ctx.runtime.media_links, alert_id, EvidenceName.clip, int(time.time()) + 60)
    return Call(params={"alert_id": alert_id, "name": "clip.mp4"}, query="?" + path.split("?")[1])


async def signed_thumbnail(ctx: Ctx, caller: str) -> Call:
    alert_id = await alert_with_snapshot(ctx, real=True)
    async with ctx.runtime.sessionmaker() as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None
    path = thumbnail_path(ctx.runtime.media_links, alert, int(time.time()) + 60)
    assert path is not None
    return Call(params={"alert_id": alert_id}, query="?" + path.split("?")[1])


async def thumbnail_ids(ctx: Ctx, caller: str) -> Call:
    return Call(body={"alert_ids": [ctx.alert_a]})


async def settings_update(ctx: Ctx, caller: str) -> Call:
    return Call(
        body={
            "clips": {"pre_roll_s": 3.0, "post_roll_s": 2.0},
            "detection": {"alert_budget_per_day": 5.0},
        }
    )


async def new_device_body(ctx: Ctx, caller: str) -> Call:
    return Call(body={"platform": "fcm", "token": ctx.unique("fcm-token")})


async def own_fresh_device(ctx: Ctx, caller: str) -> Call:
    device = await ctx.post(
        "/devices",
        {"platform": "fcm", "token": ctx.unique("fcm-doomed")},
        headers=ctx.headers[ctx.owner(caller)],
    )
    return Call(params={"device_id": int(device["id"])})


def missing_file(ctx: Ctx) -> dict[str, Any]:
    """A file in the media folder that is not there."""
    path = ctx.runtime.settings.data_dir / "media" / "shopguard-probe.mp4"
    return {"source_kind": "file", "source_url": str(path)}


async def source_to_try(ctx: Ctx, caller: str) -> Call:
    """A source that fails at once (a missing file): the answer is 200 with `ok` false."""
    return Call(body=missing_file(ctx))


async def fresh_camera_source_to_try(ctx: Ctx, caller: str) -> Call:
    return Call(params={"camera_id": await ctx.new_camera()}, body=missing_file(ctx))


async def people_on_camera_a(ctx: Ctx) -> dict[str, str]:
    """A span in which people were tracked on camera A (their poses are handed to the
    server's pose-track sink once, for the last minute): a missed theft may be marked there."""
    recorder = ctx.runtime.pose_tracks.recorder
    if recorder.stats.frames == 0:
        feed(recorder, tracked_frames(ctx.camera_a, time.time() - 40, 30))
    first = float((await recorder.read(ctx.camera_a, 0, time.time())).frame_ts[0])
    span = (datetime.fromtimestamp(first + 10, UTC), datetime.fromtimestamp(first + 20, UTC))
    return {"start": span[0].isoformat(), "end": span[1].isoformat()}


async def missed_theft_on_camera_a(ctx: Ctx, caller: str) -> Call:
    return Call(params={"camera_id": ctx.camera_a}, body=await people_on_camera_a(ctx))


async def fresh_missed_theft(ctx: Ctx, caller: str) -> Call:
    span = await people_on_camera_a(ctx)
    marked = await ctx.post(f"/cameras/{ctx.camera_a}/missed-thefts", span)
    return Call(params={"episode_id": int(marked["id"])})


async def camera_a_offer(ctx: Ctx, caller: str) -> Call:
    return Call(params={"camera_id": ctx.camera_a}, body={"sdp": "v=0\r\n", "type": "offer"})


async def store_a_preferences(ctx: Ctx, caller: str) -> Call:
    """Pushes for store A's camera only, never at night; the other store's users are told
    that these do not exist."""
    body = {
        "store_ids": [ctx.store_a],
        "camera_ids": [ctx.camera_a],
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    return Call(body=body)


async def a_candidate(ctx: Ctx, caller: str) -> Call:
    """A candidate behaviour model in the data directory (a new one each time)."""
    threshold = 0.3 + next(ctx.counter) / 1000
    write_candidate(ctx.runtime.settings.data_dir, threshold)
    return Call()


async def a_previous(ctx: Ctx, caller: str) -> Call:
    """A model to go back to: a candidate the admin promoted."""
    await a_candidate(ctx, caller)
    await ctx.post("/models/candidate/promote", None)
    return Call()


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as declared, below API_V1
    ok: int  # the success status
    roles: str  # O/F/N for viewer_a, supervisor_a, admin, viewer_b, supervisor_b
    prepare: Prepare = nothing
    public: bool = False  # no token needed; a bad one is ignored
    pending_ok: bool = False  # open to a user who must still change a one-time password
    own_session: bool = False  # ends or changes the caller's session: sign in afresh per cell

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


ALL = "O O O O O"
ADMIN = "F F O F F"
STORE_A = "O O O N N"  # readable in store A; the other store's users must not see it exist

MATRIX = [
    # Probes: no sign-in.
    Row("GET", "/health", 200, ALL, public=True),
    Row("GET", "/ready", 200, ALL, public=True),
    # Auth: login and refresh take credentials in the body, not a bearer token.
    Row("POST", "/auth/login", 200, ALL, login_body, public=True),
    Row("POST", "/auth/refresh", 200, ALL, refresh_body, public=True),
    Row("POST", "/auth/logout", 204, ALL, pending_ok=True, own_session=True),
    Row("GET", "/auth/me", 200, ALL, pending_ok=True),
    Row("POST", "/auth/password", 204, ALL, password_body, pending_ok=True, own_session=True),
    # Users: admins only.
    Row("GET", "/users", 200, ADMIN),
    Row("POST", "/users", 201, ADMIN, new_user_body),
    Row("GET", "/users/{user_id}", 200, ADMIN, fixed(user_id=lambda c: c.user_ids["viewer_a"])),
    Row("PATCH", "/users/{user_id}", 200, ADMIN, fresh_user_update),
    Row("POST", "/users/{user_id}/reset-password", 200, ADMIN, fresh_user),
    # Invites: admins invite; anyone with a code joins (the code is the credential).
    Row("GET", "/invites", 200, ADMIN),
    Row("POST", "/invites", 201, ADMIN, new_invite_body),
    Row("DELETE", "/invites/{invite_id}", 204, ADMIN, fresh_invite),
    Row("POST", "/invites/redeem", 200, ALL, fresh_invite_code, public=True),
    # Stores: everyone reads their own, admins write.
    Row("GET", "/stores", 200, ALL),
    Row("POST", "/stores", 201, ADMIN, new_store_body),
    Row("GET", "/stores/{store_id}", 200, STORE_A, fixed(store_id=lambda c: c.store_a)),
    Row("PATCH", "/stores/{store_id}", 200, ADMIN, store_a_update),
    Row("DELETE", "/stores/{store_id}", 204, ADMIN, fresh_store),
    # Cameras: everyone reads their stores', admins write.
    Row("GET", "/cameras", 200, ALL),
    Row("POST", "/cameras", 201, ADMIN, new_camera_body),
    Row("GET", "/cameras/{camera_id}", 200, STORE_A, fixed(camera_id=lambda c: c.camera_a)),
    Row("PATCH", "/cameras/{camera_id}", 200, ADMIN, fresh_camera_update),
    Row("POST", "/cameras/{camera_id}/enable", 200, ADMIN, fresh_camera),
    Row("POST", "/cameras/{camera_id}/disable", 200, ADMIN, fresh_camera),
    Row("POST", "/cameras/{camera_id}/test-alert", 201, ADMIN, fresh_camera),
    Row("POST", "/cameras/source-test", 200, ADMIN, source_to_try),
    Row("POST", "/cameras/{camera_id}/source-test", 200, ADMIN, fresh_camera_source_to_try),
    Row("DELETE", "/cameras/{camera_id}", 204, ADMIN, fresh_camera),
    # Live view: whoever sees the camera's store. The pipeline is off here, so a caller who
    # may watch gets as far as "camera not running" (409).
    Row(
        "POST",
        "/cameras/{camera_id}/live-link",
        200,
        STORE_A,
        fixed(camera_id=lambda c: c.camera_a),
    ),
    Row(
        "GET",
        "/cameras/{camera_id}/live-config",
        200,
        STORE_A,
        fixed(camera_id=lambda c: c.camera_a),
    ),
    Row("POST", "/cameras/{camera_id}/webrtc", 409, STORE_A, camera_a_offer),
    Row(
        "GET",
        "/cameras/{camera_id}/snapshot.jpg",
        409,
        STORE_A,
        fixed(camera_id=lambda c: c.camera_a),
    ),
    Row(
        "GET",
        "/cameras/{camera_id}/live.mjpeg",
        409,
        STORE_A,
        fixed(camera_id=lambda c: c.camera_a),
    ),
    # DVRs: everyone reads their stores', admins write.
    Row("GET", "/dvrs", 200, ALL),
    Row("POST", "/dvrs", 201, ADMIN, new_dvr_body),
    Row("GET", "/dvrs/{dvr_id}", 200, STORE_A, fixed(dvr_id=lambda c: c.dvr_a)),
    Row("DELETE", "/dvrs/{dvr_id}", 204, ADMIN, fresh_dvr),
    # Alerts: everyone reads their stores', supervisors and admins review.
    Row("GET", "/alerts", 200, ALL),
    Row("GET", "/alerts/{alert_id}", 200, STORE_A, fixed(alert_id=lambda c: c.alert_a)),
    Row("PATCH", "/alerts/{alert_id}", 200, "F O O F N", fresh_alert_review),
    Row("GET", "/alerts/{alert_id}/{name}", 200, STORE_A, evidence_download),
    Row(
        "POST", "/alerts/{alert_id}/media-links", 200, STORE_A, fixed(alert_id=lambda c: c.alert_a)
    ),
    Row("GET", "/media/{alert_id}/{name}", 200, ALL, signed_evidence, public=True),
    Row("POST", "/alerts/thumbnail-links", 200, ALL, thumbnail_ids),
    Row("GET", "/media/{alert_id}/thumbnail.jpg", 200, ALL, signed_thumbnail, public=True),
    # Sharing evidence outside the app: supervisors (their stores) and admins.
    Row("POST", "/alerts/{alert_id}/share", 200, "F O O F N", share_clip),
    Row("GET", "/media/shared/{alert_id}/{name}", 200, ALL, shared_clip, public=True),
    # Labelled episodes: supervisors (their stores) and admins mark missed thefts and see
    # what reviews kept as training data.
    Row("POST", "/cameras/{camera_id}/missed-thefts", 201, "F O O F N", missed_theft_on_camera_a),
    Row("GET", "/labelled-episodes", 200, "F O O F O"),
    Row("DELETE", "/labelled-episodes/{episode_id}", 204, "F O O F N", fresh_missed_theft),
    # Stats and settings: everyone reads, admins change settings.
    Row("GET", "/stats", 200, ALL),
    Row("GET", "/stats/losses", 200, ALL),
    # Store analytics: everyone reads their stores'; a camera's heatmap is store A's only.
    Row("GET", "/analytics/footfall", 200, ALL),
    Row("GET", "/analytics/occupancy", 200, ALL),
    Row("GET", "/analytics/dwell", 200, ALL),
    Row("GET", "/analytics/queues", 200, ALL),
    Row("GET", "/analytics/heatmap", 200, STORE_A, camera_a_query),
    Row("GET", "/analytics/heatmap.jpg", 200, STORE_A, camera_a_query),
    Row("GET", "/settings", 200, ALL),
    Row("PATCH", "/settings", 200, ADMIN, settings_update),
    # Devices: everyone manages their own; push preferences name only stores they see.
    Row("GET", "/devices", 200, ALL),
    Row("GET", "/devices/webpush-key", 200, ALL),
    Row("GET", "/devices/preferences", 200, ALL),
    Row("PUT", "/devices/preferences", 200, STORE_A, store_a_preferences),
    Row("POST", "/devices", 201, ALL, new_device_body),
    Row("DELETE", "/devices/{device_id}", 204, ALL, own_fresh_device),
    # Audit log: admins only.
    Row("GET", "/audit", 200, ADMIN),
    # Video pipeline counters: supervisors (their stores' cameras) and admins.
    Row("GET", "/pipeline/stats", 200, "F O O F O"),
    # Behaviour models: admins change them; supervisors read the report (their cameras).
    Row("GET", "/models", 200, "F O O F O"),
    Row("POST", "/models/candidate/promote", 200, ADMIN, a_candidate),
    Row("POST", "/models/previous/restore", 200, ADMIN, a_previous),
    Row("DELETE", "/models/candidate", 204, ADMIN, a_candidate),
    # Cluster status: admins only.
    Row("GET", "/cluster/workers", 200, ADMIN),
    Row("GET", "/cluster/cameras", 200, ADMIN),
]


def http_routes(settings: Settings) -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path) of every HTTP route under /api/v1, and the WebSocket paths."""
    app = create_app(settings)
    http: set[tuple[str, str]] = set()
    websockets: set[str] = set()
    for route in iter_route_contexts(app.routes):
        path = route.path or ""
        if not path.startswith(API_V1):
            continue  # the OpenAPI document and its viewers
        if isinstance(route.original_route, WebSocketRoute):
            websockets.add(path)
        else:
            assert route.methods, f"{path}: neither an HTTP nor a WebSocket route"
            http.update((method, path) for method in route.methods)
    return http, websockets


def test_matrix_covers_every_route(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'unused.db'}")
    routes, websockets = http_routes(settings)
    table = {(row.method, API_V1 + row.path) for row in MATRIX}
    assert len(table) == len(MATRIX), "a route appears twice in MATRIX"
    assert sorted(routes - table) == [], "routes without a row in MATRIX"
    assert sorted(table - routes) == [], "rows in MATRIX for routes that do not exist"
    assert websockets == {f"{API_V1}/ws"}, "a new WebSocket route needs its own auth tests"
    for row in MATRIX:
        assert len(row.roles.split()) == len(ROLE_CALLERS), row.id
        assert set(row.roles.split()) <= {"O", "F", "N"}, row.id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge_subject(token: str, user_id: int) -> str:
    """The same signed token with its payload rewritten to claim another user."""
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sub"] = str(user_id)
    return ".".join((header, _b64(json.dumps(claims).encode()), signature))


def flip_signature(token: str) -> str:
    """One character in the middle of the signature changed (the last one may be padding)."""
    header, payload, signature = token.split(".")
    middle = len(signature) // 2
    swapped = "A" if signature[middle] != "A" else "B"
    return ".".join((header, payload, signature[:middle] + swapped + signature[middle + 1 :]))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture
async def ctx(client: httpx.AsyncClient, world: World, runtime: Runtime) -> Ctx:
    admin = world.headers["admin"]
    users = await client.get(f"{API_V1}/users", headers=admin)
    user_ids = {user["username"]: user["id"] for user in users.json()["data"]}
    dvr = await client.post(
        f"{API_V1}/dvrs",
        headers=admin,
        json={
            "store_id": world.stores[0],
            "name": "Back office DVR",
            "url_template": "rtsp://10.0.3.1/ch{channel}",
            "channels": 2,
        },
    )
    assert dvr.status_code == 201, dvr.text
    alert = await add_alert(runtime, world.cameras[0], started_at=utcnow())

    admin_claims = runtime.auth.signer.verify(token_of(admin))
    expired = runtime.auth.signer.issue(
        user_id=admin_claims.user_id,
        session_id=admin_claims.session_id,  # a live session: only the expiry is wrong
        now=utcnow() - timedelta(hours=2),
        ttl=timedelta(minutes=15),
    )
    ended = await login(client, "admin", ADMIN_PASSWORD)
    logout = await client.post(f"{API_V1}/auth/logout", headers=ended)
    assert logout.status_code == 204, logout.text

    headers = {name: world.headers[name] for name in ROLE_CALLERS}
    headers |= {
        "anonymous": {},
        "expired": bearer(expired),
        "forged": bearer(forge_subject(token_of(world.headers["viewer_a"]), user_ids["admin"])),
        "bad_signature": bearer(flip_signature(token_of(admin))),
        "logged_out": ended,
    }
    return Ctx(
        client=client,
        runtime=runtime,
        world=world,
        headers=headers,
        user_ids=user_ids,
        dvr_a=int(dvr.json()["id"]),
        alert_a=alert.id,
    )


def expected_status(row: Row, caller: str) -> int:
    if row.public:
        return row.ok
    if caller in BAD_TOKENS:
        return 401
    letter = row.roles.split()[ROLE_CALLERS.index(caller)]
    return {"O": row.ok, "F": 403, "N": 404}[letter]


ERROR_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict"}


async def check_cell(ctx: Ctx, row: Row, caller: str, headers: dict[str, str]) -> str | None:
    """Call `row` as `caller`; a description of what was wrong, or None."""
    call = await row.prepare(ctx, caller)
    want = expected_status(row, caller)
    before = await db_snapshot(ctx.runtime) if want >= 400 else None
    response = await ctx.client.request(
        row.method,
        API_V1 + row.path.format(**call.params) + call.query,
        headers=headers,
        json=call.body,
    )
    where = f"{row.id} as {caller}"
    if response.status_code != want:
        return f"{where}: expected {want}, got {response.status_code} {response.text[:200]}"
    if before is None:
        return None
    code = error_of(response)["code"]
    if code != ERROR_CODES[want]:
        return f"{where}: expected code {ERROR_CODES[want]}, got {code}"
    if want == 401 and response.headers.get("www-authenticate") != "Bearer":
        return f"{where}: 401 without WWW-Authenticate: Bearer"
    if await db_snapshot(ctx.runtime) != before:
        return f"{where}: refused with {want}, but the database changed"
    return None


async def headers_for(ctx: Ctx, row: Row, caller: str) -> dict[str, str]:
    if row.own_session and caller in ROLE_CALLERS:
        return await login(ctx.client, caller, password_of(caller))
    return ctx.headers[caller]


# Rows are checked in a few groups, each on a world of its own, to keep the suite quick.
GROUPS = {
    "health": "sign-in",
    "ready": "sign-in",
    "auth": "sign-in",
    "users": "users",
    "stores": "stores",
    "dvrs": "stores",
    "cameras": "cameras",
    "alerts": "alerts",
    "stats": "alerts",
}


def group(row: Row) -> str:
    """The group of a row; settings, devices, audit and any new resource go to "other"."""
    return GROUPS.get(row.path.split("/")[1], "other")


@pytest.mark.parametrize("name", sorted({*GROUPS.values(), "other"}))
async def test_role_matrix(ctx: Ctx, name: str) -> None:
    """Each route of a group, each caller in turn; every wrong cell is reported at once."""
    wrong = []
    for row in (row for row in MATRIX if group(row) == name):
        for caller in CALLERS:
            headers = await headers_for(ctx, row, caller)
            problem = await check_cell(ctx, row, caller, headers)
            if problem:
                wrong.append(problem)
            if row.path == "/auth/password" and caller in ROLE_CALLERS:
                # The change ended the caller's other sessions; carry on with this one.
                ctx.headers[caller] = headers
    assert not wrong, "\n".join(wrong)


async def test_one_time_password_only_opens_me_password_and_logout(ctx: Ctx) -> None:
    """An admin with a one-time password is refused everything else until it changes it."""
    await ctx.post(
        "/users", {"username": "fresh_admin", "password": USER_PASSWORD, "role": "admin"}
    )
    pending = await login(ctx.client, "fresh_admin", USER_PASSWORD)
    ctx.headers["fresh_admin"] = pending

    wrong = []
    for row in MATRIX:
        if row.public or row.pending_ok:
            continue
        call = await row.prepare(ctx, "admin")
        before = await db_snapshot(ctx.runtime)
        path = API_V1 + row.path.format(**call.params) + call.query
        response = await ctx.client.request(row.method, path, headers=pending, json=call.body)
        if response.status_code != 403 or error_of(response)["code"] != "forbidden":
            wrong.append(f"{row.id}: {response.status_code} {response.text[:200]}")
        elif await db_snapshot(ctx.runtime) != before:
            wrong.append(f"{row.id}: refused, but the database changed")
    assert not wrong, "\n".join(wrong)

    me = await ctx.client.get(f"{API_V1}/auth/me", headers=pending)
    assert me.status_code == 200, me.text
    assert me.json()["must_change_password"] is True

    other = await login(ctx.client, "fresh_admin", USER_PASSWORD)
    bye = await ctx.client.post(f"{API_V1}/auth/logout", headers=other)
    assert bye.status_code == 204, bye.text
    gone = await ctx.client.get(f"{API_V1}/auth/me", headers=other)
    assert gone.status_code == 401
    assert error_of(gone)["code"] == "unauthorized"

    changed = await ctx.client.post(
        f"{API_V1}/auth/password",
        headers=pending,
        json={"current_password": USER_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204, changed.text
    stores = await ctx.client.get(f"{API_V1}/stores", headers=pending)
    assert stores.status_code == 200, stores.text
    audit = await ctx.client.get(f"{API_V1}/audit", headers=pending)
    assert audit.status_code == 200, audit.text


async def listing(ctx: Ctx, caller: str, path: str, **params: int) -> Any:
    response = await ctx.client.get(API_V1 + path, headers=ctx.headers[caller], params=params)
    assert response.status_code == 200, f"{caller} {path}: {response.text}"
    return response.json()


async def test_lists_show_only_the_callers_stores(ctx: Ctx) -> None:
    """The other store's users get 200 on lists, but nothing of store A is in them."""
    store_b, camera_b = ctx.world.stores[1], ctx.world.cameras[1]
    alert_b = await add_alert(ctx.runtime, camera_b, started_at=utcnow())
    for caller in ("viewer_b", "supervisor_b"):
        stores = await listing(ctx, caller, "/stores")
        assert [s["id"] for s in stores["data"]] == [store_b]
        cameras = await listing(ctx, caller, "/cameras")
        assert [c["id"] for c in cameras["data"]] == [camera_b]
        assert (await listing(ctx, caller, "/dvrs"))["data"] == []
        alerts = await listing(ctx, caller, "/alerts")
        assert [a["id"] for a in alerts["data"]] == [alert_b.id]
        # Asking for store A's items by filter finds nothing rather than revealing them.
        assert (await listing(ctx, caller, "/cameras", store_id=ctx.store_a))["data"] == []
        assert (await listing(ctx, caller, "/alerts", store_id=ctx.store_a))["count"] == 0
        assert (await listing(ctx, caller, "/alerts", camera_id=ctx.camera_a))["count"] == 0
        stats = await listing(ctx, caller, "/stats", store_id=ctx.store_a)
        assert stats["alerts"] == 0
        assert stats["per_store"] == []
        stats = await listing(ctx, caller, "/stats")
        assert [s["store_id"] for s in stats["per_store"]] == [store_b]


MALFORMED_AUTHORIZATION = [
    "Bearer",  # no token
    "Bearer ",  # empty token
    "Basic YWRtaW46YWRtaW4=",  # another scheme
    "Bearer not-a-jwt",
    "Bearer a.b.c",
    "Token {admin}",  # a valid token under the wrong scheme
    "Bearer {admin}x",  # a valid token with a character appended
    "Bearer {unsigned}",  # the admin's claims with `alg: none` and no signature
]


async def test_malformed_authorization_headers(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    admin = token_of(admin_headers)
    _, payload, _ = admin.split(".")
    unsigned = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}."
    wrong = []
    for template in MALFORMED_AUTHORIZATION:
        header = template.format(admin=admin, unsigned=unsigned)
        response = await client.get(f"{API_V1}/users", headers={"Authorization": header})
        if (
            response.status_code != 401
            or error_of(response)["code"] != "unauthorized"
            or response.headers.get("www-authenticate") != "Bearer"
        ):
            wrong.append(f"{template!r}: {response.status_code} {response.text[:200]}")
    assert not wrong, "\n".join(wrong)
