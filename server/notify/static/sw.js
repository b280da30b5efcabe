// ShopGuard's service worker (scope /push/): shows each alert pushed to this browser and,
// when one is tapped, opens it in the web app (`?app=` of this script's address) at
// /alerts/<id>, or this page when the app's address is unknown.
"use strict";

const app = (() => {
  const given = new URL(self.location.href).searchParams.get("app");
  try {
    const url = new URL(given);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch (_) {
    return null;  // none given, or not an address
  }
})();

function alertUrl(alertId) {
  if (app === null || alertId === undefined) return new URL("/push/", self.location.origin).href;
  return new URL(`alerts/${encodeURIComponent(alertId)}`, app.href.replace(/\/?$/, "/")).href;
}

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let alert = {};
  try { alert = event.data ? event.data.json() : {}; } catch (_) { /* not JSON */ }
  const title = alert.title || "ShopGuard alert";
  event.waitUntil(self.registration.showNotification(title, {
    body: alert.body || "",
    tag: alert.alert_id === undefined ? undefined : `alert-${alert.alert_id}`,
    data: { alertId: alert.alert_id },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = alertUrl(event.notification.data && event.notification.data.alertId);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    const open = windows.find((client) => client.url === url);
    if (open) return open.focus();
    return self.clients.openWindow(url);
  })());
});
