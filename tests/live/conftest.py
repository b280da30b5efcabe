"""Live view tests: WebRTC on loopback (aioice skips 127.0.0.1 when gathering its host
candidates, so the tests give it that address), and the pose model of the pipeline tests."""

from __future__ import annotations

import aioice.ice
import pytest

from tests.pipeline.conftest import model_path

__all__ = ["model_path"]


@pytest.fixture(autouse=True)
def loopback_ice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aioice.ice, "get_host_addresses", lambda use_ipv4, use_ipv6: ["127.0.0.1"])
