// ShopGuard Web Push page: subscribes this browser with the server's VAPID key and
// registers the subscription as a device of the signed-in user (POST /api/v1/devices).
// Signed in by the app (#token=… in the address, dropped at once) or on this page.
"use strict";
(() => {
  const api = "/api/v1";
  const scope = "/push/";
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", location.pathname);  // the token leaves the address bar
  let token = params.get("token") || "";
  let ownSession = false;  // signed in here: signed out again once registered
  const app = params.get("app") || "";  // the web app, which a tapped alert opens
  const $ = (id) => document.getElementById(id);

  function show(state, text) {
    document.body.dataset.state = state;
    $("state").textContent = text;
  }

  async function call(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error.message; } catch (_) { /* not JSON */ }
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return response.status === 204 ? null : response.json();
  }

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - base64url.length % 4) % 4))
      .replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  function workerUrl() {
    return app ? `${scope}sw.js?app=${encodeURIComponent(app)}` : `${scope}sw.js`;
  }

  async function subscribe() {
    show("working", "Asking this browser for permission…");
    if (await Notification.requestPermission() !== "granted") {
      show("error", "Notifications are blocked for this site: allow them in the browser.");
      return;
    }
    const key = (await call("GET", "/devices/webpush-key")).public_key;
    const registration = await navigator.serviceWorker.register(workerUrl(), { scope });
    await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (subscription === null) {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(key),
      });
    }
    const sub = subscription.toJSON();
    const device = await call("POST", "/devices", {
      platform: "webpush",
      token: sub.endpoint,
      keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth },
      name: `Browser (${navigator.platform || "web"})`,
    });
    localStorage.setItem("shopguard.webpush_device", String(device.id));
    if (ownSession) await call("POST", "/auth/logout").catch(() => {});
    show("subscribed", "This browser receives ShopGuard alerts.");
    $("subscribe").hidden = true;
    $("unsubscribe").hidden = false;
  }

  async function unsubscribe() {
    const registration = await navigator.serviceWorker.getRegistration(scope);
    const subscription = registration && await registration.pushManager.getSubscription();
    if (subscription) await subscription.unsubscribe();  // the server forgets it at its next push
    const device = localStorage.getItem("shopguard.webpush_device");
    if (device && token) await call("DELETE", `/devices/${device}`).catch(() => {});
    localStorage.removeItem("shopguard.webpush_device");
    show("stopped", "This browser no longer receives ShopGuard alerts.");
    $("unsubscribe").hidden = true;
    $("subscribe").hidden = false;
  }

  async function signIn(event) {
    event.preventDefault();
    try {
      const pair = await call("POST", "/auth/login", {
        username: $("username").value, password: $("password").value,
      });
      token = pair.access_token;
      ownSession = true;
      $("sign-in").hidden = true;
      ready();
    } catch (error) {
      show("error", error.message);
    }
  }

  function ready() {
    $("actions").hidden = false;
    show("ready", "Signed in. Alerts can come to this browser even when ShopGuard is closed.");
  }

  function failed(error) {
    if (error.status === 401) {
      token = "";
      $("sign-in").hidden = false;
      $("actions").hidden = true;
    }
    show("error", error.message);
  }

  $("sign-in").addEventListener("submit", signIn);
  $("subscribe").addEventListener("click", () => subscribe().catch(failed));
  $("unsubscribe").addEventListener("click", () => unsubscribe().catch(failed));
  if (!window.isSecureContext || !("serviceWorker" in navigator) || !("PushManager" in window)) {
    show("error", "This browser cannot receive pushes from this address (it needs https).");
  } else if (token) {
    ready();
  } else {
    $("sign-in").hidden = false;
    show("signed-out", "Sign in to get alerts in this browser.");
  }
})();
