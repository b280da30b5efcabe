"""How uvicorn serves the app: one place, used by `shopguard serve` and the tests alike.

Forwarded headers (`X-Forwarded-For`, `X-Forwarded-Proto`) are believed only from the
addresses in `server.trusted_proxies`; with none (the default) the caller's own address is
used for the sign-in throttle and the audit log, whatever it claims.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from server.config import ServerConfig

# idle connections stay open longer than clients keep them (httpx: 5 s), so a client never
# sends a request down a connection the server is just closing
KEEP_ALIVE_S = 30


def uvicorn_config(app: Any, server: ServerConfig, **options: Any) -> uvicorn.Config:
    """A uvicorn config for `app` on `server`'s address; `options` override (port=0...)."""
    settings: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "ws": "websockets-sansio",
        "proxy_headers": bool(server.trusted_proxies),
        "forwarded_allow_ips": [str(network) for network in server.trusted_proxies],
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_S,
    }
    return uvicorn.Config(app, **(settings | options))
