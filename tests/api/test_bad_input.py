"""Bad requests: each gets a clear 4xx in the one error shape, and none of them changes
anything. Tables list the cases; every wrong case of a table is reported at once."""

import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from server.runtime import Runtime
from server.storage.models import utcnow
from shared.api_paths import API_V1
from tests.helpers import (
    ADMIN_PASSWORD,
    LiveServer,
    Snapshot,
    World,
    add_alert,
    db_snapshot,
    error_of,
    login,
)

INJECTIONS = [
    "' OR 1=1 --",
    "1; DROP TABLE alerts",
    "1 UNION SELECT password_hash FROM users",
    "../../etc/passwd",
    "admin\x00",  # NUL
    "Ünïcødé ☃ \u202e🙂",  # non-ASCII, a right-to-left override, an emoji
    "%00%27",
    "99999999999999999999",  # beyond any integer column
]


def diff(before: Snapshot, after: Snapshot) -> str:
    changed = [name for name in before if before[name] != after.get(name)]
    return f"tables changed: {changed}"


@contextlib.asynccontextmanager
async def changes_nothing(
    runtime: Runtime, *, except_tables: tuple[str, ...] = ()
) -> AsyncIterator[None]:
    """Every table holds the same rows afterwards (but the ones named)."""
    before = await db_snapshot(runtime)
    yield
    after = await db_snapshot(runtime)
    for name in except_tables:
        before.pop(name), after.pop(name)
    assert after == before, diff(before, after)


def problem(response: httpx.Response, status: int, code: str) -> str | None:
    """What is wrong with an error response, or None when it is the expected one."""
    request = f"{response.request.method} {response.request.url.raw_path.decode()[:120]}"
    if response.status_code != status:
        return f"{request}: expected {status}, got {response.status_code} {response.text[:300]}"
    body = response.json()
    if set(body) != {"error"} or set(body["error"]) != {"code", "message", "fields"}:
        return f"{request}: not the error shape: {body}"
    if body["error"]["code"] != code:
        return f"{request}: expected code {code}, got {body['error']['code']}"
    if not body["error"]["message"]:
        return f"{request}: no message"
    return None


@dataclass
class Env:
    client: httpx.AsyncClient
    runtime: Runtime
    admin: dict[str, str]
    ids: dict[str, int]

    def path(self, template: str) -> str:
        return API_V1 + template.format(**self.ids)


@pytest.fixture
async def env(client: httpx.AsyncClient, runtime: Runtime, world: World) -> Env:
    admin = world.headers["admin"]
    users = await client.get(f"{API_V1}/users", headers=admin)
    alert = await add_alert(runtime, world.cameras[0], started_at=utcnow())
    ids = {
        "store": world.stores[0],
        "camera": world.cameras[0],
        "alert": alert.id,
        "user": next(u["id"] for u in users.json()["data"] if u["username"] == "viewer_a"),
    }
    return Env(client=client, runtime=runtime, admin=admin, ids=ids)


def camera(**fields: Any) -> dict[str, Any]:
    """A valid camera for store 1 (the world's first store), with `fields` replaced."""
    body = {
        "store_id": 1,
        "name": "Entrance",
        "source_kind": "rtsp",
        "source_url": "rtsp://10.0.0.9/live",
    }
    return body | fields


def dvr(**fields: Any) -> dict[str, Any]:
    body = {"store_id": 1, "name": "Office DVR", "url_template": "rtsp://dvr/ch{channel}"}
    return body | {"channels": 4} | fields


def zone(*points: tuple[float, float]) -> dict[str, Any]:
    return {"name": "shelf-1", "kind": "shelf", "polygon": [list(p) for p in points]}


SQUARE = ((0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9))

# Routes that take a JSON body: (method, path). The body is never read as valid.
BODY_ROUTES = [
    ("POST", "/auth/login"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/password"),
    ("POST", "/users"),
    ("PATCH", "/users/{user}"),
    ("POST", "/stores"),
    ("PATCH", "/stores/{store}"),
    ("POST", "/cameras"),
    ("PATCH", "/cameras/{camera}"),
    ("POST", "/dvrs"),
    ("PATCH", "/alerts/{alert}"),
    ("PATCH", "/settings"),
    ("POST", "/devices"),
]

MALFORMED_JSON = [
    b'{"name": ',  # cut off
    b"{'name': 'Kiosk'}",  # single quotes
    b'{"name": "Kiosk",}',  # trailing comma
    b"name=Kiosk",  # a form, sent as JSON
    b'{"name": "Kiosk"} {"name": "Again"}',  # two documents
    b"\x00\x01\x02",
]


async def test_malformed_json_is_400(env: Env) -> None:
    wrong = []
    async with changes_nothing(env.runtime):
        for (method, template), body in itertools.product(BODY_ROUTES, MALFORMED_JSON):
            response = await env.client.request(
                method,
                env.path(template),
                headers={**env.admin, "Content-Type": "application/json"},
                content=body,
            )
            wrong.append(problem(response, 400, "malformed_json"))
        # JSON must be UTF-8; bytes that are not are refused as well (FastAPI's own 400).
        response = await env.client.post(
            env.path("/stores"),
            headers={**env.admin, "Content-Type": "application/json"},
            content=b'{"name": "\xff\xfe"}',
        )
        assert response.status_code == 400, response.text
        assert error_of(response)["code"] in ("malformed_json", "bad_request")
    assert not [w for w in wrong if w], "\n".join(w for w in wrong if w)


# (method, path, body, where the problem is, pydantic's error type)
WRONG_FIELDS: list[tuple[str, str, Any, list[str], str]] = [
    ("POST", "/stores", {"name": 123}, ["body", "name"], "string_type"),
    ("POST", "/stores", {}, ["body", "name"], "missing"),
    ("POST", "/stores", {"name": None}, ["body", "name"], "string_type"),
    ("POST", "/stores", {"name": ""}, ["body", "name"], "string_too_short"),
    ("POST", "/stores", {"name": "x" * 121}, ["body", "name"], "string_too_long"),
    ("PATCH", "/stores/{store}", {"address": ["Main St"]}, ["body", "address"], "string_type"),
    ("POST", "/cameras", camera(store_id="one"), ["body", "store_id"], "int_parsing"),
    ("POST", "/cameras", camera(store_id=1.5), ["body", "store_id"], "int_from_float"),
    ("POST", "/cameras", camera(source_kind="ftp"), ["body", "source_kind"], "enum"),
    ("POST", "/cameras", camera(enabled="maybe"), ["body", "enabled"], "bool_parsing"),
    ("POST", "/cameras", camera(threshold=1.5), ["body", "threshold"], "less_than_equal"),
    ("POST", "/cameras", camera(analysis_fps=0), ["body", "analysis_fps"], "greater_than_equal"),
    (
        "POST",
        "/cameras",
        {"store_id": 1, "name": "x", "source_kind": "rtsp"},
        ["body", "source_url"],
        "missing",
    ),
    ("PATCH", "/cameras/{camera}", {"zones": "everywhere"}, ["body", "zones"], "list_type"),
    ("PATCH", "/cameras/{camera}", {"enabled": []}, ["body", "enabled"], "bool_type"),
    ("POST", "/dvrs", dvr(channels=0), ["body", "channels"], "greater_than_equal"),
    ("POST", "/dvrs", dvr(channels=65), ["body", "channels"], "less_than_equal"),
    ("POST", "/dvrs", dvr(channels="four"), ["body", "channels"], "int_parsing"),
    (
        "POST",
        "/users",
        {"username": "newbie", "password": "long-enough-1", "role": "root"},
        ["body", "role"],
        "enum",
    ),
    (
        "POST",
        "/users",
        {"username": "newbie", "password": "long-enough-1", "store_ids": "1"},
        ["body", "store_ids"],
        "list_type",
    ),
    ("POST", "/users", {"password": "long-enough-1"}, ["body", "username"], "missing"),
    ("PATCH", "/users/{user}", {"is_active": "maybe"}, ["body", "is_active"], "bool_parsing"),
    (
        "PATCH",
        "/users/{user}",
        {"store_ids": [1, "two"]},
        ["body", "store_ids", "1"],
        "int_parsing",
    ),
    ("PATCH", "/alerts/{alert}", {"notes": 5}, ["body", "notes"], "string_type"),
    ("PATCH", "/alerts/{alert}", {"status": "closed"}, ["body", "status"], "enum"),
    ("PATCH", "/alerts/{alert}", {"outcome": "stolen"}, ["body", "outcome"], "enum"),
    (
        "PATCH",
        "/alerts/{alert}",
        {"notes": "x", "if_version": 0},
        ["body", "if_version"],
        "greater_than_equal",
    ),
    ("PATCH", "/alerts/{alert}", {"notes": "x" * 4001}, ["body", "notes"], "string_too_long"),
    (
        "PATCH",
        "/settings",
        {"detection": {"threshold": "high"}},
        ["body", "detection", "threshold"],
        "float_parsing",
    ),
    (
        "PATCH",
        "/settings",
        {"retention": {"unreviewed_days": 0}},
        ["body", "retention", "unreviewed_days"],
        "greater_than_equal",
    ),
    ("PATCH", "/settings", {"clips": "short"}, ["body", "clips"], "model_attributes_type"),
    ("POST", "/devices", {"platform": "sms", "token": "12345678"}, ["body", "platform"], "enum"),
    (
        "POST",
        "/devices",
        {"platform": "fcm", "token": "short"},
        ["body", "token"],
        "string_too_short",
    ),
    ("POST", "/auth/login", {"username": "admin"}, ["body", "password"], "missing"),
    (
        "POST",
        "/auth/login",
        {"username": "", "password": "x"},
        ["body", "username"],
        "string_too_short",
    ),
    ("POST", "/auth/refresh", {"refresh_token": 5}, ["body", "refresh_token"], "string_type"),
    ("POST", "/auth/password", {"current_password": "x"}, ["body", "new_password"], "missing"),
    (
        "POST",
        "/auth/password",
        {"current_password": "x", "new_password": "short"},
        ["body", "new_password"],
        "string_too_short",
    ),
    ("POST", "/stores", [{"name": "x"}], ["body"], "model_attributes_type"),
    ("POST", "/stores", "Kiosk", ["body"], "model_attributes_type"),
    # Query and path parameters.
    ("GET", "/alerts?limit=0", None, ["query", "limit"], "greater_than_equal"),
    ("GET", "/alerts?limit=201", None, ["query", "limit"], "less_than_equal"),
    ("GET", "/alerts?limit=ten", None, ["query", "limit"], "int_parsing"),
    ("GET", "/alerts?min_score=2", None, ["query", "min_score"], "less_than_equal"),
    ("GET", "/alerts?min_score=nan", None, ["query", "min_score"], "less_than_equal"),
    ("GET", "/alerts?until=yesterday", None, ["query", "until"], "datetime_from_date_parsing"),
    ("GET", "/audit?offset=-1", None, ["query", "offset"], "greater_than_equal"),
    ("GET", "/audit?limit=501", None, ["query", "limit"], "less_than_equal"),
    ("GET", "/stores/first", None, ["path", "store_id"], "int_parsing"),
    ("DELETE", "/cameras/1.5", None, ["path", "camera_id"], "int_parsing"),
]


async def test_wrong_types_and_missing_fields_name_the_field(env: Env) -> None:
    wrong = []
    async with changes_nothing(env.runtime):
        for method, template, body, loc, kind in WRONG_FIELDS:
            response = await env.client.request(
                method, env.path(template), headers=env.admin, json=body
            )
            if found := problem(response, 422, "validation_error"):
                wrong.append(found)
                continue
            fields = error_of(response)["fields"]
            if {"loc": loc, "type": kind} not in [
                {"loc": f["loc"], "type": f["type"]} for f in fields
            ]:
                wrong.append(f"{method} {template} {body!r:.80}: want {loc} {kind}, got {fields}")
    assert not wrong, "\n".join(wrong)


# Valid create and update bodies; each is sent with one unknown field added.
STRICT_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/stores", {"name": "Kiosk"}),
    ("PATCH", "/stores/{store}", {"address": "1 Main St"}),
    ("POST", "/cameras", camera()),
    ("PATCH", "/cameras/{camera}", {"location": "Door"}),
    ("POST", "/dvrs", dvr()),
    ("POST", "/users", {"username": "newbie", "password": "long-enough-1"}),
    ("PATCH", "/users/{user}", {"role": "supervisor"}),
    ("PATCH", "/alerts/{alert}", {"status": "acknowledged"}),
    ("PATCH", "/settings", {"clips": {"pre_roll_s": 1.0, "post_roll_s": 1.0}}),
    ("POST", "/devices", {"platform": "fcm", "token": "fcm-token-123"}),
]


async def test_unknown_fields_are_refused(env: Env) -> None:
    wrong = []
    async with changes_nothing(env.runtime):
        for method, template, body in STRICT_BODIES:
            for extra, loc in (
                ({"is_admin": True}, ["body", "is_admin"]),
                ({"id": 1}, ["body", "id"]),
            ):
                response = await env.client.request(
                    method, env.path(template), headers=env.admin, json=body | extra
                )
                if found := problem(response, 422, "validation_error"):
                    wrong.append(found)
                    continue
                fields = error_of(response)["fields"]
                # The only problem is the unknown field: the rest of the body was valid.
                if [(f["loc"], f["type"]) for f in fields] != [(loc, "extra_forbidden")]:
                    wrong.append(f"{method} {template} + {extra}: {fields}")
        # Unknown fields inside nested objects too.
        for method, template, body, loc in [
            (
                "PATCH",
                "/settings",
                {"detection": {"threshold": 0.5, "sensitivity": 9}},
                ["body", "detection", "sensitivity"],
            ),
            (
                "POST",
                "/cameras",
                camera(zones=[zone(*SQUARE) | {"colour": "red"}]),
                ["body", "zones", "0", "colour"],
            ),
        ]:
            response = await env.client.request(
                method, env.path(template), headers=env.admin, json=body
            )
            if found := problem(response, 422, "validation_error"):
                wrong.append(found)
            elif [f["loc"] for f in error_of(response)["fields"]] != [loc]:
                wrong.append(f"{method} {template}: {error_of(response)['fields']}")
    assert not wrong, "\n".join(wrong)


@dataclass(frozen=True)
class Rule:
    """A body that parses but breaks a rule: 422 with `code`, the problem at `loc` (no
    fields for rules checked outside the schema) and `says` in the message."""

    method: str
    path: str
    body: dict[str, Any]
    says: str
    loc: tuple[str, ...] | None = ("body",)
    code: str = "validation_error"


POLYGON = ("body", "zones", "0", "polygon")
RTSP_ONLY = "rtsp source must start with"

RULES = [
    # Camera sources must fit their kind.
    Rule("POST", "/cameras", camera(source_url="http://10.0.0.9/mjpeg"), RTSP_ONLY),
    Rule("POST", "/cameras", camera(substream_url="http://10.0.0.9/sub"), RTSP_ONLY),
    Rule(
        "POST",
        "/cameras",
        camera(source_kind="file", source_url="rtsp://10.0.0.9/live"),
        "file source is a path",
    ),
    Rule(
        "POST",
        "/cameras",
        camera(source_kind="http", source_url="file:///etc/passwd"),
        "http source must start with",
    ),
    Rule("POST", "/cameras", camera(source_kind="usb", source_url="../../dev/sda"), "usb source"),
    Rule(
        "PATCH",
        "/cameras/{camera}",
        {"source_url": "http://10.0.0.9/mjpeg"},
        RTSP_ONLY,
        loc=None,
        code="invalid_request",
    ),
    Rule(
        "PATCH",
        "/cameras/{camera}",
        {"source_kind": "file"},  # the camera's URL is an rtsp:// one
        "file source is a path",
        loc=None,
        code="invalid_request",
    ),
    # Zones are polygons of at least 3 points inside the image (0..1).
    Rule(
        "POST",
        "/cameras",
        camera(zones=[zone((0.1, 0.1), (1.5, 0.1), (0.5, 0.9))]),
        "0..1",
        POLYGON,
    ),
    Rule(
        "POST",
        "/cameras",
        camera(zones=[zone((0.1, 0.1), (0.9, -0.1), (0.5, 0.9))]),
        "0..1",
        POLYGON,
    ),
    Rule("POST", "/cameras", camera(zones=[zone((0.1, 0.1), (0.9, 0.9))]), "at least 3", POLYGON),
    Rule("PATCH", "/cameras/{camera}", {"zones": [zone((0, 0), (2, 0), (0, 2))]}, "0..1", POLYGON),
    Rule("PATCH", "/cameras/{camera}", {"zones": [zone((0.1, 0.1))]}, "at least 3", POLYGON),
    # DVR templates need {channel}, in the main and the sub stream, and fit the kind.
    Rule("POST", "/dvrs", dvr(url_template="rtsp://dvr/ch1"), "{channel}"),
    Rule("POST", "/dvrs", dvr(substream_url_template="rtsp://dvr/sub"), "{channel}"),
    Rule("POST", "/dvrs", dvr(url_template="http://dvr/ch{channel}"), RTSP_ONLY),
    # Store time zones are IANA names.
    Rule(
        "POST",
        "/stores",
        {"name": "Kiosk", "timezone": "Mars/Olympus"},
        "unknown time zone",
        ("body", "timezone"),
    ),
    Rule(
        "POST",
        "/stores",
        {"name": "Kiosk", "timezone": "../../etc/passwd"},
        "unknown time zone",
        ("body", "timezone"),
    ),
    Rule(
        "PATCH",
        "/stores/{store}",
        {"timezone": "UTC+25"},
        "unknown time zone",
        ("body", "timezone"),
    ),
    # Users: a password of 10 or more characters and a plain user name.
    Rule(
        "POST",
        "/users",
        {"username": "newbie", "password": "short"},
        "at least 10",
        ("body", "password"),
    ),
    Rule("PATCH", "/users/{user}", {"password": "short"}, "at least 10", ("body", "password")),
    Rule(
        "POST",
        "/users",
        {"username": "ab", "password": "long-enough-1"},
        "pattern",
        ("body", "username"),
    ),
    Rule(
        "POST",
        "/users",
        {"username": "two words", "password": "long-enough-1"},
        "pattern",
        ("body", "username"),
    ),
    Rule(
        "POST",
        "/users",
        {"username": "x'; DROP TABLE users; --", "password": "long-enough-1"},
        "pattern",
        ("body", "username"),
    ),
    Rule(
        "POST",
        "/users",
        {"username": "../../etc/passwd", "password": "long-enough-1"},
        "pattern",
        ("body", "username"),
    ),
    Rule(
        "POST",
        "/users",
        {"username": "admin\x00", "password": "long-enough-1"},
        "pattern",
        ("body", "username"),
    ),
    # Alert reviews must be consistent.
    Rule("PATCH", "/alerts/{alert}", {"status": "reviewed"}, "needs an outcome"),
    Rule(
        "PATCH",
        "/alerts/{alert}",
        {"status": "acknowledged", "outcome": "deterred"},
        "only goes with status reviewed",
    ),
    Rule("PATCH", "/alerts/{alert}", {}, "nothing to change"),
]


async def test_rule_violations_are_422(env: Env) -> None:
    wrong = []
    async with changes_nothing(env.runtime):
        for rule in RULES:
            response = await env.client.request(
                rule.method, env.path(rule.path), headers=env.admin, json=rule.body
            )
            if found := problem(response, 422, rule.code):
                wrong.append(found)
                continue
            error = error_of(response)
            locs = [tuple(f["loc"]) for f in error["fields"]]
            if locs != ([] if rule.loc is None else [rule.loc]):
                wrong.append(f"{rule}: got fields {locs}")
            if rule.says not in error["message"]:
                wrong.append(f"{rule}: {error['message']!r} does not say {rule.says!r}")
    assert not wrong, "\n".join(wrong)


async def test_huge_bodies_are_413(env: Env) -> None:
    limit = env.runtime.settings.server.max_body_bytes
    huge = b'{"name": "Kiosk", "address": "' + b"x" * limit + b'"}'

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 64 * 1024):
            yield huge[start : start + 64 * 1024]

    json_headers = {**env.admin, "Content-Type": "application/json"}
    async with changes_nothing(env.runtime):
        declared = await env.client.post(env.path("/stores"), headers=json_headers, content=huge)
        assert problem(declared, 413, "body_too_large") is None, declared.text
        # No Content-Length: the body arrives in chunks and is cut off once past the limit.
        streamed = await env.client.post(
            env.path("/stores"), headers=json_headers, content=chunks()
        )
        assert "content-length" not in streamed.request.headers
        assert problem(streamed, 413, "body_too_large") is None, streamed.text
        # Before any sign-in check, and whatever the route.
        for method, template in BODY_ROUTES:
            response = await env.client.request(
                method,
                env.path(template),
                headers={"Content-Type": "application/json"},
                content=huge,
            )
            assert problem(response, 413, "body_too_large") is None, response.text
        # A body just inside the limit is read and judged on its content.
        inside = b'{"name": "Kiosk", "address": "' + b"x" * (limit - 100) + b'"}'
        assert len(inside) <= limit
        response = await env.client.post(env.path("/stores"), headers=json_headers, content=inside)
        assert problem(response, 422, "validation_error") is None, response.text
        assert error_of(response)["fields"][0]["loc"] == ["body", "address"]


async def test_many_unknown_keys_get_a_short_answer(env: Env) -> None:
    """A megabyte of unknown keys once made a 5 MB answer and held the server for seconds:
    now the shape is refused before validation, and any list of problems is capped."""
    json_headers = {**env.admin, "Content-Type": "application/json"}
    flood = {"name": "Kiosk"} | {f"key{i:06d}": 1 for i in range(60_000)}
    many = {"name": "Kiosk"} | {f"key{i:03d}": 1 for i in range(300)}
    deep: Any = "leaf"
    for _ in range(40):
        deep = {"child": deep}
    async with changes_nothing(env.runtime):
        for method, template in BODY_ROUTES:
            response = await env.client.request(
                method, env.path(template), headers=json_headers, json=flood
            )
            assert problem(response, 422, "validation_error") is None, response.text[:300]
            assert len(response.content) < 1000
            assert "more than 10000 keys" in error_of(response)["message"]
        nested = await env.client.post(
            env.path("/stores"), headers=json_headers, json={"name": "Kiosk", "address": deep}
        )
        assert problem(nested, 422, "validation_error") is None, nested.text[:300]
        assert "nested deeper" in error_of(nested)["message"]
        listed = await env.client.post(env.path("/stores"), headers=json_headers, json=many)
        assert problem(listed, 422, "validation_error") is None, listed.text[:300]
        error = error_of(listed)
        assert len(error["fields"]) == 20 and error["message"].endswith("and 295 more")
        assert len(listed.content) < 5000
        long_key = {"name": "Kiosk", "k" * 100_000: 1}
        cut = await env.client.post(env.path("/stores"), headers=json_headers, json=long_key)
        assert problem(cut, 422, "validation_error") is None
        assert len(cut.content) < 2000  # the key is not echoed whole


async def test_huge_streamed_body_over_real_http(live_server: LiveServer) -> None:
    """The same refusal through uvicorn, with a chunked body and no Content-Length."""
    limit = live_server.runtime.settings.server.max_body_bytes

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"name": "Kiosk", "address": "'
        for _ in range(limit // 65536 + 1):
            yield b"x" * 65536
        yield b'"}'

    async with httpx.AsyncClient(base_url=live_server.http_url, timeout=30) as client:
        admin = await login(client, "admin", ADMIN_PASSWORD)
        async with changes_nothing(live_server.runtime):
            response = await client.post(
                f"{API_V1}/stores",
                headers={**admin, "Content-Type": "application/json"},
                content=chunks(),
            )
            assert response.request.headers.get("transfer-encoding") == "chunked"
            assert problem(response, 413, "body_too_large") is None, response.text
        stores = await client.get(f"{API_V1}/stores", headers=admin)
        assert stores.json()["count"] == 0


def injected(text: str) -> str:
    """`text` as one path segment."""
    return quote(text, safe="")


EMPTY = (200, "")  # accepted as text: a page with no matches

# (path, query parameters, expected status and error code)
FILTER_CASES: list[tuple[str, dict[str, str], tuple[int, str]]] = []
for text in INJECTIONS:
    # Enumerations, numbers and times are parsed before any query is built.
    FILTER_CASES += [
        ("/alerts", {"status": text}, (422, "validation_error")),
        ("/alerts", {"outcome": text}, (422, "validation_error")),
        ("/alerts", {"since": text}, (422, "validation_error")),
        ("/alerts", {"until": text}, (422, "validation_error")),
        ("/alerts", {"min_score": text}, (422, "validation_error")),
        ("/alerts", {"cursor": text}, (422, "invalid_request")),
        ("/stats", {"tz": text}, (422, "invalid_request")),
        ("/stats", {"since": text}, (422, "validation_error")),
        ("/audit", {"since": text}, (422, "validation_error")),
    ]
    if not text.isdigit():
        FILTER_CASES += [
            ("/audit", {"offset": text}, (422, "validation_error")),
            ("/alerts", {"camera_id": text}, (422, "validation_error")),
            ("/alerts", {"store_id": text}, (422, "validation_error")),
            ("/cameras", {"store_id": text}, (422, "validation_error")),
            ("/stats", {"store_id": text}, (422, "validation_error")),
        ]
    # Free text is compared as a plain value: nothing matches.
    if "\x00" not in text:
        FILTER_CASES += [
            ("/audit", {"action": text}, EMPTY),
            ("/audit", {"username": text}, EMPTY),
        ]
# Numbers that parse but fit no id column, in filters.
FILTER_CASES += [
    ("/alerts", {"camera_id": "99999999999999999999"}, (422, "invalid_request")),
    ("/alerts", {"store_id": "-99999999999999999999"}, (422, "invalid_request")),
    ("/cameras", {"store_id": "99999999999999999999"}, (422, "invalid_request")),
    ("/stats", {"camera_id": "99999999999999999999"}, (422, "invalid_request")),
    ("/audit", {"offset": "99999999999999999999"}, (422, "invalid_request")),
]

# (method, path) with an `{id}` to replace by each injection string.
ID_ROUTES = [
    ("GET", "/stores/{id}"),
    ("PATCH", "/stores/{id}"),
    ("DELETE", "/stores/{id}"),
    ("GET", "/cameras/{id}"),
    ("DELETE", "/cameras/{id}"),
    ("POST", "/cameras/{id}/disable"),
    ("GET", "/dvrs/{id}"),
    ("DELETE", "/dvrs/{id}"),
    ("GET", "/alerts/{id}"),
    ("PATCH", "/alerts/{id}"),
    ("GET", "/users/{id}"),
    ("POST", "/users/{id}/reset-password"),
    ("DELETE", "/devices/{id}"),
]
ID_BODIES = {
    ("PATCH", "/stores/{id}"): {"name": "Hacked"},
    ("PATCH", "/alerts/{id}"): {"notes": "x"},
}


def path_outcome(text: str) -> tuple[int, str]:
    if "/" in text:
        return (404, "not_found")  # no route has a segment with a slash in it
    if text.isdigit():
        return (422, "invalid_request")  # an integer, but beyond any id column
    return (422, "validation_error")  # not an integer at all


async def test_injection_in_filters_and_path_parameters(env: Env) -> None:
    wrong = []
    async with changes_nothing(env.runtime):
        for path, params, (status, code) in FILTER_CASES:
            response = await env.client.get(API_V1 + path, headers=env.admin, params=params)
            if (status, code) == EMPTY:
                body = response.json()
                if response.status_code != 200 or body["count"] != 0 or body["data"] != []:
                    wrong.append(f"{path} {params!r}: {response.status_code} {response.text[:200]}")
            elif found := problem(response, status, code):
                wrong.append(f"{params!r}: {found}")
        for text in INJECTIONS:
            status, code = path_outcome(text)
            for method, template in ID_ROUTES:
                path = API_V1 + template.format(id=injected(text))
                body = ID_BODIES.get((method, template))
                response = await env.client.request(method, path, headers=env.admin, json=body)
                if found := problem(response, status, code):
                    wrong.append(f"{text!r}: {found}")
        # NUL cannot be compared with stored text on every backend: either it matches
        # nothing or it is refused, but it is never a server error.
        for params in ({"action": "login\x00"}, {"username": "admin\x00"}):
            response = await env.client.get(f"{API_V1}/audit", headers=env.admin, params=params)
            if response.status_code == 200:
                assert response.json()["count"] == 0, response.text
            else:
                assert problem(response, 422, "invalid_request") is None, response.text
    assert not wrong, "\n".join(wrong)
    # The data is all still there and readable.
    for path in ("/stores", "/cameras", "/alerts", "/users", "/audit"):
        response = await env.client.get(API_V1 + path, headers=env.admin)
        assert response.status_code == 200, response.text
        assert response.json()["count"] > 0, path


LOGIN_NAMES = [*INJECTIONS, "admin' --", "admin' OR '1'='1", "' OR ''='", "*", "%"]


async def audit_count(client: httpx.AsyncClient, admin: dict[str, str], **params: str) -> int:
    response = await client.get(f"{API_V1}/audit", headers=admin, params=params)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


async def test_injection_in_login(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    """Odd user names are just unknown names: 401 (or 422 where the database cannot even
    search for them), no session, and only failed-login entries in the audit log."""
    entries = await audit_count(client, admin_headers)
    wrong = []
    failed = 0
    async with changes_nothing(runtime, except_tables=("audit_log",)):
        for username in LOGIN_NAMES:
            response = await client.post(
                f"{API_V1}/auth/login", json={"username": username, "password": "' OR '1'='1"}
            )
            if response.status_code == 401:
                failed += 1
                if response.headers.get("www-authenticate") != "Bearer":
                    wrong.append(f"{username!r}: 401 without WWW-Authenticate")
                found = problem(response, 401, "unauthorized")
            elif "\x00" in username:  # PostgreSQL cannot search text for NUL
                found = problem(response, 422, "invalid_request")
            else:
                found = f"{username!r}: {response.status_code} {response.text[:200]}"
            if found:
                wrong.append(found)
    assert not wrong, "\n".join(wrong)
    assert failed >= len(LOGIN_NAMES) - 1
    assert await audit_count(client, admin_headers, action="auth.login_failed") == failed
    assert await audit_count(client, admin_headers) == entries + failed
    me = await client.get(f"{API_V1}/auth/me", headers=admin_headers)
    assert me.json()["username"] == "admin"


# (method, path, the methods it allows)
WRONG_METHODS = [
    ("PUT", "/stores", "GET, POST"),
    ("DELETE", "/stores", "GET, POST"),
    ("PUT", "/stores/1", "DELETE, GET, PATCH"),
    ("DELETE", "/alerts/1", "GET, PATCH"),
    ("POST", "/alerts", "GET"),
    ("GET", "/auth/login", "POST"),
    ("GET", "/auth/logout", "POST"),
    ("POST", "/health", "GET"),
    ("DELETE", "/settings", "GET, PATCH"),
    ("PATCH", "/audit", "GET"),
]
UNKNOWN_PATHS = [
    "/api/v1/nothing-here",
    "/api/v1/stores/1/archive",
    "/api/v1/alerts/1/evidence/../../../../etc/passwd",
    "/api/v2/stores",
    "/api/v1",
    "/admin",
    "/.env",
]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "admin"])
async def test_wrong_method_and_unknown_route(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str], signed_in: bool
) -> None:
    headers = admin_headers if signed_in else {}
    wrong = []
    async with changes_nothing(runtime):
        for method, path, allowed in WRONG_METHODS:
            response = await client.request(
                method, API_V1 + path, headers=headers, json={"name": "x"}
            )
            if found := problem(response, 405, "method_not_allowed"):
                wrong.append(found)
            # Allow names every method of the path, not only those of its first route
            elif set(response.headers["allow"].split(", ")) - {"HEAD"} != set(allowed.split(", ")):
                wrong.append(f"{method} {path}: Allow: {response.headers['allow']}")
        for path in UNKNOWN_PATHS:
            for method in ("GET", "POST"):
                response = await client.request(method, path, headers=headers)
                if found := problem(response, 404, "not_found"):
                    wrong.append(found)
    assert not wrong, "\n".join(wrong)
