"""The Test connection button: is there a ShopGuard server at this address?"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from mobile.api.errors import ApiError, NotShopGuard, transport_error
from mobile.i18n import _
from shared.api_paths import HEALTH
from shared.schemas.health import Health

TIMEOUT_S = 5.0


def normalise_address(address: str) -> str:
    """`shop.local:8000` → `http://shop.local:8000`; no trailing slash.

    Raises:
        ApiError: not an http(s) address.
    """
    address = address.strip().rstrip("/")
    if not address:
        raise ApiError(_("enter the server's address, e.g. http://192.168.1.20:8000"))
    if "://" not in address:
        address = f"http://{address}"
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(_("{address} is not an http:// or https:// address").format(address=address))
    return address


async def check_server(address: str, *, verify: bool | ssl.SSLContext = True) -> Health:
    """The server's health answer; raises the reason when there is no ShopGuard server.

    Raises:
        Unreachable, TlsProblem, NotShopGuard, ApiError: what is wrong, in words.
    """
    base = normalise_address(address)
    try:
        async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, verify=verify) as http:
            response = await http.get(HEALTH)
    except httpx.HTTPError as exc:
        raise transport_error(exc, base) from exc
    try:
        return Health.model_validate_json(response.content)
    except ValidationError:
        raise NotShopGuard(
            _("{address} answered (HTTP {status}) but is not a ShopGuard server").format(
                address=base, status=response.status_code
            )
        ) from None
