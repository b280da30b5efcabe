"""What every answer tells a browser: no type sniffing anywhere, no caching of tokens; and
the API docs work offline, their scripts served by the server itself, not by a CDN."""

import re

import httpx

from shared.api_paths import API_V1
from tests.helpers import ADMIN_PASSWORD


async def test_answers_forbid_sniffing_and_token_answers_are_not_stored(
    client: httpx.AsyncClient,
) -> None:
    login = await client.post(
        f"{API_V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert login.status_code == 200
    assert login.headers["cache-control"] == "no-store"
    refreshed = await client.post(
        f"{API_V1}/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"
    bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    answers = [
        login,
        refreshed,
        await client.get(f"{API_V1}/health"),
        await client.get(f"{API_V1}/stores", headers=bearer),
        await client.get(f"{API_V1}/stores"),  # 401
        await client.get(f"{API_V1}/no-such-thing"),  # 404
        await client.post(
            f"{API_V1}/stores",
            headers={**bearer, "Content-Type": "application/json"},
            content=b"x" * 2_000_000,
        ),  # 413, refused before the app
    ]
    assert [a.headers.get("x-content-type-options") for a in answers] == ["nosniff"] * 7
    assert answers[-1].status_code == 413


async def test_api_docs_load_their_scripts_from_this_server(client: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        html = await client.get(page)
        assert html.status_code == 200, page
        sources = re.findall(r'(?:src|href)="([^"]+)"', html.text)
        assert sources, page
        assert not [s for s in sources if re.match(r"(https?:)?//", s)], sources
        for source in sources:
            if source.endswith((".js", ".css")):
                asset = await client.get(source)
                assert asset.status_code == 200 and len(asset.content) > 10_000, source


async def test_only_signed_media_links_answer_any_origin(client: httpx.AsyncClient) -> None:
    """The web app draws pictures by fetching them from another origin: signed media links
    (the signature is the permission) allow it; nothing else the API answers does."""
    login = await client.post(
        f"{API_V1}/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    signed = await client.get(f"{API_V1}/media/1/snapshot.jpg", params={"exp": 1, "sig": "x"})
    assert signed.status_code == 401  # a bad link still says so, readable by the page
    assert signed.headers["access-control-allow-origin"] == "*"
    assert signed.headers["cross-origin-resource-policy"] == "cross-origin"
    others = [
        login,
        await client.get(f"{API_V1}/stores", headers=bearer),
        await client.get(f"{API_V1}/alerts", headers=bearer),
    ]
    assert [a.headers.get("access-control-allow-origin") for a in others] == [None] * 3
