"""Fixtures of the S3 evidence tests: one S3-compatible server for the session, a fresh
bucket per test."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from server.config import S3Config
from tests.s3_server import S3Server, running_s3

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def s3_config(s3_server: S3Server) -> S3Config:
    """A bucket no other test uses (made by the store on first use)."""
    return s3_server.config(bucket=f"evidence-{next(_buckets)}", prefix="site-1/")
