"""A live viewer for the live latency bench: the server's player page in headless Chromium,
reading the frame counter of every frame the page presents, with its times (Unix seconds):
when its last packet arrived and when the browser expects to show it."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.async_api import Browser, Page

# On each presented video frame: the counter `server.bench.counter` drew, read off the
# decoded picture, and the frame's receive and display times on the Unix clock.
FRAME_PROBE = """() => {
  const video = document.getElementById("video");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  window.benchFrames = [];
  const unix = (t) => (performance.timeOrigin + t) / 1000;
  const onFrame = (now, meta) => {
    if (canvas.width !== meta.width) { canvas.width = meta.width; canvas.height = meta.height; }
    context.drawImage(video, 0, 0, meta.width, meta.height);
    const block = Math.max(Math.floor(meta.width / 16), 2);
    const row = context.getImageData(0, Math.floor(block / 2), block * 8, 1).data;
    let counter = 0;
    for (let bit = 0; bit < 8; bit++) {
      const i = (Math.floor(block / 2) + bit * block) * 4;
      if ((row[i] + row[i + 1] + row[i + 2]) / 3 > 127) counter |= 1 << bit;
    }
    const received = meta.receiveTime === undefined ? NaN : unix(meta.receiveTime);
    window.benchFrames.push([counter, received, unix(meta.expectedDisplayTime), meta.width]);
    video.requestVideoFrameCallback(onFrame);
  };
  video.requestVideoFrameCallback(onFrame);
}"""


@dataclass(frozen=True, slots=True)
class ShownFrame:
    counter: int
    received: float  # Unix seconds the frame's last packet arrived
    shown: float  # Unix seconds the browser expected to display it
    width: int


async def open_viewer(
    browser: Browser, url: str, camera_id: int, token: str, *, width: int = 1280, height: int = 800
) -> Page:
    """A page of `width` x `height` CSS pixels playing the camera over WebRTC, counting
    frames from now on."""
    viewport = {"width": width, "height": height}
    context = await browser.new_context(viewport=viewport, bypass_csp=True)  # type: ignore[arg-type]
    page = await context.new_page()
    await page.goto(f"{url}/live/{camera_id}#token={token}")
    await page.wait_for_function(
        "window.shopguardLive && window.shopguardLive.mode === 'webrtc'"
        " && document.getElementById('video').videoWidth > 0",
        timeout=30_000,
    )
    await page.evaluate(FRAME_PROBE)
    return page


async def restart_count(page: Page) -> None:
    await page.evaluate("() => { window.benchFrames = []; }")


async def frames_shown(page: Page) -> list[ShownFrame]:
    rows = await page.evaluate("() => window.benchFrames")
    return [ShownFrame(int(c), float(r), float(s), int(w)) for c, r, s, w in rows]


async def close_viewer(page: Page) -> None:
    await page.context.close()
