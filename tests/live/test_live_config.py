"""The player learns the configured STUN/TURN servers (credentials included) only through
the API, with a live token; the page itself holds none."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from server.config import IceServer, LiveConfig, Settings
from tests.conftest import make_settings
from tests.helpers import World
from tests.live.test_live_access import link_token

TURN = IceServer(urls=["turn:turn.example.invalid:3478"], username="u", credential=SecretStr("s"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    live = LiveConfig(ice_servers=[IceServer(urls=["stun:stun.example.invalid:3478"]), TURN])
    return make_settings(tmp_path / "data", database_url).model_copy(update={"live": live})


async def test_ice_servers_reach_the_player_with_a_live_token(
    client: httpx.AsyncClient, world: World
) -> None:
    camera = world.cameras[0]
    token = await link_token(client, world, "viewer_a", camera)
    config = await client.get(
        f"/api/v1/cameras/{camera}/live-config", headers={"Authorization": f"Bearer {token}"}
    )
    assert config.status_code == 200, config.text
    assert config.json()["ice_servers"] == [
        {"urls": ["stun:stun.example.invalid:3478"], "username": None, "credential": None},
        {"urls": ["turn:turn.example.invalid:3478"], "username": "u", "credential": "s"},
    ]
    page = await client.get(f"/live/{camera}")
    assert "turn:" not in page.text and "turn:" not in (await client.get("/live/player.js")).text
    anonymous = await client.get(f"/api/v1/cameras/{camera}/live-config")
    assert anonymous.status_code == 401
