// ShopGuard live player: WebRTC first, MJPEG when WebRTC cannot connect; reconnects.
"use strict";
(() => {
  const cameraId = location.pathname.split("/").filter(Boolean).pop();
  const api = `/api/v1/cameras/${cameraId}`;
  const query = new URLSearchParams(location.hash.slice(1));
  const token = query.get("token") || "";
  const forceFallback = query.get("fallback") === "mjpeg";
  let config = null;  // from the server: ICE servers, timeouts, the camera's name
  const video = document.getElementById("video");
  const mjpeg = document.getElementById("mjpeg");
  const stateText = document.getElementById("state");
  let attempt = 0;
  let pc = null;

  class Refused extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function show(state, text, mode) {
    document.body.dataset.state = state;
    if (mode !== undefined) document.body.dataset.mode = mode;
    stateText.textContent = text;
    window.shopguardLive = { state, mode: document.body.dataset.mode, text };
  }

  function gathered(peer, timeoutMs) {
    return new Promise((resolve) => {
      if (peer.iceGatheringState === "complete") return resolve();
      const timer = setTimeout(resolve, timeoutMs);
      peer.addEventListener("icegatheringstatechange", () => {
        if (peer.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
      });
    });
  }

  function connected(peer, timeoutMs) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("WebRTC did not connect")), timeoutMs);
      const check = () => {
        if (peer.connectionState === "connected") { clearTimeout(timer); resolve(); }
        if (peer.connectionState === "failed") { clearTimeout(timer); reject(new Error("WebRTC failed")); }
      };
      peer.addEventListener("connectionstatechange", check);
      check();
    });
  }

  async function refusal(response) {
    let message = `HTTP ${response.status}`;
    try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
    return new Refused(response.status, message);
  }

  async function startWebRTC() {
    if (!window.RTCPeerConnection) throw new Error("this browser has no WebRTC");
    pc = new RTCPeerConnection({ iceServers: config.ice_servers });
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (event) => {
      video.srcObject = event.streams[0] || new MediaStream([event.track]);
      video.style.display = "block";
      mjpeg.style.display = "none";
    };
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    const response = await fetch(`${api}/webrtc`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    if (!response.ok) throw await refusal(response);
    await pc.setRemoteDescription(await response.json());
    await connected(pc, config.connect_timeout_ms);
    attempt = 0;
    show("live", "Live", "webrtc");
    pc.addEventListener("connectionstatechange", () => {
      if (["failed", "disconnected", "closed"].includes(pc.connectionState)) reconnect();
    });
  }

  async function startMjpeg(reason) {
    const url = `${api}/live.mjpeg?token=${encodeURIComponent(token)}`;
    // an <img> cannot say why it failed: ask first whether the stream would start
    const probe = await fetch(`${url}&probe=true`).catch(() => null);
    if (probe && !probe.ok) throw await refusal(probe);
    mjpeg.onload = () => show("live", "Live (fallback)", "mjpeg");
    mjpeg.onerror = () => reconnect();
    mjpeg.src = url;
    mjpeg.style.display = "block";
    video.style.display = "none";
    show("connecting", `Fallback: ${reason}`, "mjpeg");
  }

  function reconnect() {
    if (pc) { pc.close(); pc = null; }
    attempt += 1;
    const delay = Math.min(30000, 1000 * 2 ** Math.min(attempt, 5));
    show("connecting", `Reconnecting in ${Math.round(delay / 1000)} s…`);
    setTimeout(start, delay);
  }

  async function loadConfig() {
    const response = await fetch(`${api}/live-config`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw await refusal(response);
    config = await response.json();
    document.title = `ShopGuard live: ${config.camera_name}`;
  }

  async function start() {
    show("connecting", "Connecting…");
    try {
      if (!config) await loadConfig();
    } catch (error) {
      return error instanceof Refused ? refused(error) : reconnect();
    }
    try {
      if (forceFallback) throw new Error("fallback requested");
      await startWebRTC();
    } catch (error) {
      if (error instanceof Refused) return refused(error);
      if (pc) { pc.close(); pc = null; }
      try {
        await startMjpeg(error.message);
      } catch (fallbackError) {
        if (fallbackError instanceof Refused) return refused(fallbackError);
        reconnect();
      }
    }
  }

  function refused(error) {
    if (error.status === 503) return reconnect();  // busy: viewers capped
    show("error", error.message);
  }

  // leaving: close the connection now (the server frees the viewer at once rather than
  // after ICE consent runs out)
  window.addEventListener("pagehide", () => { if (pc) pc.close(); });

  if (!token) show("error", "This link has no live token: open the live view from the app.");
  else start();
})();
