"""The evidence stores keep the same promises: the local disk and an S3-compatible object
store (a real S3 API server on 127.0.0.1) store, stat, read byte ranges of, list and delete
files alike, refuse keys that are not plain relative paths, and an unreachable store fails
with a clear `EvidenceStoreError` instead of hanging."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from server.config import S3Config
from server.evidence.s3_store import S3EvidenceStore
from server.evidence.store import (
    EvidenceKeyError,
    EvidenceStore,
    EvidenceStoreError,
    LocalEvidenceStore,
)
from tests.evidence.s3 import s3_config, s3_server
from tests.s3_server import free_port

__all__ = ["s3_config", "s3_server"]

DATA = bytes(range(256)) * 4000  # about 1 MB, several read chunks


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> EvidenceStore:
    if request.param == "local":
        return LocalEvidenceStore(tmp_path / "evidence")
    config: S3Config = request.getfixturevalue("s3_config")
    s3 = S3EvidenceStore(config)
    s3.ensure_bucket()
    return s3


def a_file(folder: Path, data: bytes = DATA, name: str = "clip.mp4") -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def test_files_are_stored_read_listed_and_deleted(store: EvidenceStore, tmp_path: Path) -> None:
    before = time.time()
    source = a_file(tmp_path)
    stored = store.put("1/2/3/clip.mp4", source)
    assert source.read_bytes() == DATA  # the caller still owns its file
    assert (stored.key, stored.size) == ("1/2/3/clip.mp4", len(DATA))
    assert stored.modified >= before - 2
    assert store.stat("1/2/3/clip.mp4") == stored
    assert b"".join(store.read("1/2/3/clip.mp4", 0, len(DATA))) == DATA
    assert b"".join(store.read("1/2/3/clip.mp4", 1000, 300_000)) == DATA[1000:301_000]
    store.put("1/2/3/snapshot.jpg", a_file(tmp_path, b"jpeg", "snapshot.jpg"))
    assert sorted((f.key, f.size) for f in store.files()) == [
        ("1/2/3/clip.mp4", len(DATA)),
        ("1/2/3/snapshot.jpg", 4),
    ]
    store.put("1/2/3/snapshot.jpg", a_file(tmp_path, b"newer", "snapshot.jpg"))  # replaced
    assert b"".join(store.read("1/2/3/snapshot.jpg", 0, 100)) == b"newer"
    assert store.delete("1/2/3/clip.mp4") is True
    assert store.delete("1/2/3/clip.mp4") is False
    assert store.stat("1/2/3/clip.mp4") is None
    assert [f.key for f in store.files()] == ["1/2/3/snapshot.jpg"]


@pytest.mark.parametrize("key", ["", "/etc/passwd", "1/../../x", "1//2", "./a", "1/2/", "a\\\\b"])
def test_keys_outside_the_store_are_refused(store: EvidenceStore, tmp_path: Path, key: str) -> None:
    with pytest.raises(EvidenceKeyError, match="bad evidence key"):
        store.put(key, a_file(tmp_path))
    with pytest.raises(EvidenceKeyError):
        store.stat(key)


def test_prefixes_keep_sites_apart_in_one_bucket(s3_config: S3Config, tmp_path: Path) -> None:
    first = S3EvidenceStore(s3_config)
    second = S3EvidenceStore(s3_config.model_copy(update={"prefix": "site-2/"}))
    first.ensure_bucket()
    first.put("1/1/1/clip.mp4", a_file(tmp_path))
    assert [f.key for f in first.files()] == ["1/1/1/clip.mp4"]
    assert second.files() == [] and second.stat("1/1/1/clip.mp4") is None


def test_an_unreachable_store_fails_clearly_and_quickly(
    s3_config: S3Config, tmp_path: Path
) -> None:
    nowhere = s3_config.model_copy(update={"endpoint": f"127.0.0.1:{free_port()}"})
    store = S3EvidenceStore(nowhere)
    started = time.monotonic()
    with pytest.raises(EvidenceStoreError, match=r"127\.0\.0\.1:\d+.*storing 1/1/1/clip\.mp4"):
        store.put("1/1/1/clip.mp4", a_file(tmp_path))
    with pytest.raises(EvidenceStoreError, match="listing evidence failed"):
        store.files()
    assert time.monotonic() - started < 10
    assert isinstance(EvidenceStoreError("x"), OSError)  # handled like a failing disk


def test_a_bucket_name_s3_would_refuse_is_refused_in_the_settings() -> None:
    with pytest.raises(ValidationError, match="bucket"):
        S3Config(bucket="Not_A_Valid_Bucket")
