"""The Web Push page on the server's origin, against the real server under uvicorn: the
page, its script and its service worker (scope /push/) served as a browser needs them; a
browser subscribed there, as the page's script does it (the app's link, or signing in on
the page), is a Web Push device of its user and gets the alert from the server's Web Push
sender (a push service on 127.0.0.1, decrypting as the browser would); and the service
worker itself, run by Node on that very push, shows it and opens the alert in the web app."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mobile.api.client import ApiClient
from mobile.state.push import web_push_link
from server.app import create_app
from server.config import PushConfig, Settings
from tests.conftest import make_settings
from tests.fakes.webpush import WebPushService
from tests.helpers import ADMIN_PASSWORD, NEW_PASSWORD, LiveServer, World, login, make_world

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # pywebpush's own
]
WEB_APP = "http://127.0.0.1:8550"  # where the Flet web app is served (python -m mobile --web)

# Runs the service worker's script as a browser would for one push and one tap: the
# worker's global scope with the APIs it uses, recording what it shows and opens.
SERVICE_WORKER_HOST = """
const fs = require("fs"), vm = require("vm");
const [script, scriptUrl, payload] = process.argv.slice(1);
const listeners = {}, shown = [], opened = [], waits = [];
const self = {
  location: new URL(scriptUrl),
  addEventListener: (type, listener) => { listeners[type] = listener; },
  skipWaiting: () => {},
  registration: { showNotification: async (title, options) => { shown.push({ title, options }); } },
  clients: {
    claim: async () => {},
    matchAll: async () => [],
    openWindow: async (url) => { opened.push(url); },
  },
};
vm.runInNewContext(fs.readFileSync(script, "utf8"), { self, URL });
const event = (fields) => ({ ...fields, waitUntil: (promise) => waits.push(promise) });
(async () => {
  listeners.push(event({ data: { json: () => JSON.parse(payload) } }));
  await Promise.all(waits.splice(0));
  const notification = { data: shown[0].options.data, close: () => {} };
  listeners.notificationclick(event({ notification }));
  await Promise.all(waits.splice(0));
  console.log(JSON.stringify({ shown, opened }));
})();
"""


@dataclass
class Site:
    server: LiveServer
    world: World
    http: httpx.AsyncClient  # a browser's requests to the server's origin
    pushes: WebPushService  # the browser vendor's push service


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    push = PushConfig(retry_base_s=0.05, retry_cap_s=0.2, allow_private_endpoints=True)
    return make_settings(tmp_path / "data", database_url).model_copy(update={"push": push})


@pytest.fixture
async def site(settings: Settings) -> AsyncIterator[Site]:
    pushes = WebPushService()
    async with (
        pushes.running(),
        LiveServer.run(create_app(settings)) as server,
        httpx.AsyncClient(base_url=server.http_url, timeout=30) as http,
    ):
        world = await make_world(http, await login(http, "admin", ADMIN_PASSWORD))
        yield Site(server, world, http, pushes)


async def subscribe_on_the_page(site: Site, token: str, browser: str) -> dict[str, Any]:
    """What push.js does once the user allows notifications: the server's key, the
    browser's subscription with it, the subscription registered as this user's device."""
    bearer = {"Authorization": f"Bearer {token}"}
    key = await site.http.get("/api/v1/devices/webpush-key", headers=bearer)
    assert key.status_code == 200, key.text
    assert key.json()["public_key"]  # the page's applicationServerKey
    subscription = site.pushes.subscribe(browser)  # pushManager.subscribe(...).toJSON()
    body = {
        "platform": "webpush",
        "token": site.pushes.endpoint(browser),
        "keys": subscription.keys,
        "name": "Browser (Linux x86_64)",
    }
    device = await site.http.post("/api/v1/devices", headers=bearer, json=body)
    assert device.status_code == 201, device.text
    answer: dict[str, Any] = device.json()
    return answer


async def test_the_page_and_its_service_worker_are_served_for_scope_push(site: Site) -> None:
    moved = await site.http.get("/push")
    assert moved.status_code == 307 and moved.headers["location"].endswith("/push/")
    page = await site.http.get("/push/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert '<script src="/push/push.js"></script>' in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"  # the address held a token
    script = await site.http.get("/push/push.js")
    assert script.status_code == 200
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert 'const scope = "/push/";' in script.text  # it registers the worker for /push/
    worker = await site.http.get("/push/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert worker.headers["service-worker-allowed"] == "/push/"
    assert worker.headers["cache-control"] == "no-cache"  # an updated worker is picked up
    assert worker.headers["x-content-type-options"] == "nosniff"
    assert (await site.http.get("/push/other.js")).status_code == 404


async def test_a_browser_subscribed_from_the_apps_link_gets_the_alert_and_opens_it(
    site: Site, tmp_path: Path
) -> None:
    app = ApiClient(site.server.http_url)  # the web app, signed in, opens the page
    await app.login("supervisor_a", NEW_PASSWORD)
    link = urlsplit(await web_push_link(app, WEB_APP))
    await app.aclose()
    assert (link.scheme + "://" + link.netloc, link.path) == (site.server.http_url, "/push/")
    fragment = parse_qs(link.fragment)
    assert fragment["app"] == [WEB_APP] and link.query == ""  # nothing for servers' logs
    device = await subscribe_on_the_page(site, fragment["token"][0], "supervisor_a")
    assert device["platform"] == "webpush" and device["name"] == "Browser (Linux x86_64)"

    admin = site.world.headers["admin"]
    url = f"/api/v1/cameras/{site.world.cameras[0]}/test-alert"
    alert = await site.http.post(url, headers=admin)
    assert alert.status_code == 201, alert.text
    alert_id = alert.json()["id"]
    for _ in range(200):
        if any(name == "supervisor_a" for name, _ in site.pushes.received):
            break
        await asyncio.sleep(0.05)
    (payload,) = [p for name, p in site.pushes.received if name == "supervisor_a"]
    assert payload["alert_id"] == alert_id and payload["title"] == "Test at Aisle 1"

    if shutil.which("node") is None:
        pytest.skip("Node runs the service worker here; it is not installed")
    worker = tmp_path / "sw.js"
    worker.write_text((await site.http.get("/push/sw.js")).text)
    worker_url = f"{site.server.http_url}/push/sw.js?app={WEB_APP}"  # as push.js registers it
    node = await asyncio.create_subprocess_exec(
        *["node", "-e", SERVICE_WORKER_HOST, str(worker), worker_url, json.dumps(payload)],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(node.communicate(), timeout=60)
    assert node.returncode == 0, err.decode()
    seen = json.loads(out)
    (shown,) = seen["shown"]
    assert shown["title"] == payload["title"]
    assert shown["options"]["body"] == payload["body"]
    assert shown["options"]["tag"] == f"alert-{alert_id}"  # a repeat replaces it
    assert seen["opened"] == [f"{WEB_APP}/alerts/{alert_id}"]  # the app's route for it


async def test_signing_in_on_the_page_registers_and_ends_the_pages_own_session(
    site: Site,
) -> None:
    signed_in = await site.http.post(
        "/api/v1/auth/login", json={"username": "viewer_b", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    device = await subscribe_on_the_page(site, token, "viewer_b")
    out = await site.http.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert out.status_code == 204
    again = await site.http.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401  # the page's token is spent
    listed = await site.http.get("/api/v1/devices", headers=site.world.headers["viewer_b"])
    assert [(d["id"], d["platform"]) for d in listed.json()["data"]] == [
        (device["id"], "webpush")
    ]  # the browser stays subscribed
