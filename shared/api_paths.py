"""URL paths that the server serves and the app calls."""

API_V1 = "/api/v1"
WS_EVENTS = f"{API_V1}/ws"
HEALTH = f"{API_V1}/health"
READY = f"{API_V1}/ready"
LIVE_PAGE = "/live"  # the live player page: /live/{camera_id}#token=…
WEB_PUSH_PAGE = "/push"  # the Web Push page: /push/#token=…&app=…, its service worker /push/sw.js
