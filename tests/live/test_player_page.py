"""The player page in a real browser (Chromium): it plays the camera over WebRTC (video of
the configured width, frames advancing), falls back to MJPEG when WebRTC cannot connect,
and says why when the link is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from server.config import LiveConfig
from server.runtime import Runtime
from tests.live.browser import chromium, local_page, need_chromium
from tests.live.camera import live_camera
from tests.pipeline.app_helpers import eventually

LIVE = LiveConfig(width=480, fps=10.0, connect_timeout_s=3.0)


@dataclass
class Watched:
    base_url: str
    camera_id: int
    link: str  # the player page's path, token included
    runtime: Runtime


@pytest.fixture
async def watched(tmp_path: Path, model_path: Path) -> AsyncIterator[Watched]:
    need_chromium()
    async with live_camera(tmp_path, f"sqlite+aiosqlite:///{tmp_path}/live.db", LIVE) as camera:
        link = (await camera.link())["url"]
        yield Watched(camera.server.http_url, camera.camera_id, link, camera.runtime)


ON_MJPEG = (
    "window.shopguardLive && shopguardLive.mode === 'mjpeg' && shopguardLive.state === 'live'"
)
PLAYING = """() => new Promise((resolve) => {
  const video = document.getElementById("video");
  const first = video.getVideoPlaybackQuality().totalVideoFrames;
  setTimeout(() => resolve({
    width: video.videoWidth, height: video.videoHeight,
    frames: video.getVideoPlaybackQuality().totalVideoFrames - first,
    time: video.currentTime,
  }), 1500);
})"""


async def live_page(browser: Browser, watched: Watched) -> Page:
    """The player page of the watched camera, once it says it is live."""
    page: Page = await local_page(browser)
    await page.goto(watched.base_url + watched.link)
    await page.wait_for_function(
        "window.shopguardLive && shopguardLive.state === 'live'", timeout=20_000
    )
    return page


async def test_the_page_plays_the_camera_over_webrtc(watched: Watched) -> None:
    async with chromium() as browser:
        page = await live_page(browser, watched)
        assert await page.evaluate("shopguardLive.mode") == "webrtc"
        await page.wait_for_function(
            "document.getElementById('video').videoWidth > 0", timeout=10_000
        )
        playing = await page.evaluate(PLAYING)
        assert (playing["width"], playing["height"]) == (480, 270)
        assert playing["frames"] >= 3, playing  # frames keep coming (about 5 a second)
        assert await page.title() == "ShopGuard live: Aisle 4"
        assert watched.runtime.live.count(watched.camera_id) == 1
        await page.close(run_before_unload=True)
        await eventually(lambda: _gone(watched), within_s=10)  # the closed tab's peer is dropped


async def test_the_page_reconnects_when_the_server_drops_it(watched: Watched) -> None:
    async with chromium() as browser:
        page = await live_page(browser, watched)
        await page.evaluate(
            "window.states = []; new MutationObserver(() => "
            "states.push(document.body.dataset.state)).observe(document.body, "
            "{attributes: true})"
        )
        await watched.runtime.live.close_all()  # as when the server restarts
        await page.wait_for_function("states.includes('connecting')", timeout=20_000)
        await page.wait_for_function(
            "shopguardLive.state === 'live' && shopguardLive.mode === 'webrtc'", timeout=30_000
        )
        playing = await page.evaluate(PLAYING)
        assert playing["frames"] >= 3, playing  # playing again
        assert watched.runtime.live.count(watched.camera_id) == 1


async def _gone(watched: Watched) -> bool:
    return watched.runtime.live.count(watched.camera_id) == 0


# No direct path and no TURN server (a strict firewall, a carrier NAT): the browser may only
# relay, and has nothing to relay through, so the connection never comes up.
NO_ROUTE = """(() => {
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config) {
    return new Native({ ...(config || {}), iceServers: [], iceTransportPolicy: "relay" });
  };
  window.RTCPeerConnection.prototype = Native.prototype;
})();"""


async def test_mjpeg_takes_over_when_webrtc_cannot_connect(watched: Watched) -> None:
    async with chromium() as browser:
        page = await local_page(browser)
        await page.add_init_script(NO_ROUTE)
        await page.goto(watched.base_url + watched.link)
        await page.wait_for_function(
            ON_MJPEG,
            timeout=30_000,
        )
        size = await page.evaluate("[mjpeg.naturalWidth, mjpeg.naturalHeight]")
        assert size == [480, 270]


async def test_a_browser_without_webrtc_gets_mjpeg_and_a_bad_link_says_why(
    watched: Watched,
) -> None:
    async with chromium() as browser:
        page = await local_page(browser)
        await page.add_init_script("delete window.RTCPeerConnection")
        await page.goto(watched.base_url + watched.link)
        await page.wait_for_function(
            ON_MJPEG,
            timeout=20_000,
        )
        refused = await local_page(browser)
        await refused.goto(f"{watched.base_url}/live/{watched.camera_id}#token=forged")
        await refused.wait_for_function("window.shopguardLive && shopguardLive.state === 'error'")
        assert await refused.inner_text("#state") == "invalid live link"
