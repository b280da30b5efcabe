"""The share tests again with the evidence in an S3-compatible store (a real S3 API server on
127.0.0.1): the sha256 is computed from the stored object and kept beside it there, and the
link streams the object's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.config import EvidenceConfig, S3Config, Settings
from tests.conftest import make_settings
from tests.evidence.s3 import s3_config, s3_server
from tests.evidence.test_share import (
    served,
    signed_in,
    test_a_share_link_ends_at_its_expiry_and_refuses_any_change,
    test_a_shared_clip_downloads_without_sign_in_as_the_bytes_of_its_sha256,
)

__all__ = [
    "s3_config",
    "s3_server",
    "served",
    "signed_in",
    "test_a_share_link_ends_at_its_expiry_and_refuses_any_change",
    "test_a_shared_clip_downloads_without_sign_in_as_the_bytes_of_its_sha256",
]

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, s3_config: S3Config) -> Settings:
    base = make_settings(tmp_path / "data", database_url)
    return base.model_copy(update={"evidence": EvidenceConfig(backend="s3", s3=s3_config)})
