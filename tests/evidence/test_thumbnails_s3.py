"""The thumbnail tests again with the evidence in an S3-compatible store (a real S3 API
server on 127.0.0.1): the thumbnail is made from the stored snapshot object and kept as an
object beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import EvidenceConfig, S3Config, Settings
from server.evidence.s3_store import S3EvidenceStore
from tests.conftest import make_settings
from tests.evidence.s3 import s3_config, s3_server
from tests.evidence.test_share import Served, served, signed_in
from tests.evidence.test_thumbnails import (
    test_listed_alerts_show_their_snapshot_as_a_small_jpeg_without_sign_in,
)

__all__ = [
    "s3_config",
    "s3_server",
    "served",
    "signed_in",
    "test_listed_alerts_show_their_snapshot_as_a_small_jpeg_without_sign_in",
]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_config: S3Config) -> Settings:
    base = make_settings(tmp_path / "data", database_url)
    return base.model_copy(update={"evidence": EvidenceConfig(backend="s3", s3=s3_config)})


def test_the_server_keeps_evidence_in_s3(served: Served) -> None:
    assert isinstance(served.runtime.clips.store, S3EvidenceStore)
