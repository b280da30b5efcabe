"""Fixtures of the pipeline tests: the pose model the setup placed, real clips of people."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from server.app import create_app
from server.config import Settings
from server.weights import ONNX_NAME
from tests.conftest import make_settings
from tests.helpers import ADMIN_PASSWORD, LIFESPAN_S, login
from tests.pipeline.app_helpers import FAST
from tests.pipeline.media import synthetic_video

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "weights" / ONNX_NAME
PEOPLE_CLIP = ROOT / "tests" / "data" / "vtest_people.mp4"  # 640x360, 10 fps, 6 s


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The exported pose model; its tests skip without it unless CI requires it."""
    if MODEL.is_file():
        return MODEL
    message = f"{MODEL} is missing: run ./infra/scripts/prepare_weights.sh"
    if os.environ.get("SHOPGUARD_TEST_REQUIRE_WEIGHTS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """A 2 s synthetic 320x240 H.264 clip (no people)."""
    return synthetic_video(tmp_path / "cam.mp4", frames=50, fps=25, gop=25)


@pytest.fixture
def pipeline_settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url, pipeline=FAST)


@pytest.fixture
async def pipeline_app(pipeline_settings: Settings) -> AsyncIterator[FastAPI]:
    app = create_app(pipeline_settings)
    async with LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S):
        yield app


@pytest.fixture
async def api(pipeline_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client of the running app."""
    async with admin_client(pipeline_app) as client:
        yield client


@contextlib.asynccontextmanager
async def admin_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shopguard.test") as c:
        c.headers.update(await login(c, "admin", ADMIN_PASSWORD))
        yield c


@contextlib.asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An admin's client of an app started with `settings` (stopped on exit)."""
    app = create_app(settings)
    async with (
        LifespanManager(app, startup_timeout=LIFESPAN_S, shutdown_timeout=LIFESPAN_S),
        admin_client(app) as client,
    ):
        yield client
