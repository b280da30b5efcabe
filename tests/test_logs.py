"""Operations logs: plain-text lines with camera and alert ids, in files that rotate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.config import LogsConfig, Settings
from server.logs import LOG_FILE, configure, ids


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_lines_name_the_camera_and_alert_and_files_rotate(
    tmp_path: Path, restore_root: None
) -> None:
    settings = Settings(data_dir=tmp_path, logs=LogsConfig(max_mb=0.1, backups=2))
    handler = configure(settings)
    assert handler is not None
    log = logging.getLogger("server.pipeline.supervisor")
    log.warning("camera 3: stream stalled for 5.0 s", extra=ids(camera=3))
    log.error("clip failed: disk full", extra=ids(camera=3, alert=481))
    logging.getLogger("server.notify.dispatcher").info("something without ids")
    handler.flush()
    lines = (tmp_path / "logs" / LOG_FILE).read_text().splitlines()
    assert lines[0].endswith(
        "WARNING server.pipeline.supervisor camera=3 alert=-: camera 3: stream stalled for 5.0 s"
    )
    assert "ERROR server.pipeline.supervisor camera=3 alert=481: clip failed: disk full" in lines[1]
    assert "camera=- alert=-: something without ids" in lines[2]
    for n in range(3000):  # ~0.3 MB: rotates past the 0.1 MB limit, keeps 2 backups
        log.info("filler line %d %s", n, "x" * 60, extra=ids(camera=n))
    handler.flush()
    names = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert names == [LOG_FILE, f"{LOG_FILE}.1", f"{LOG_FILE}.2"]
    assert all(p.stat().st_size <= 0.1 * 1024 * 1024 for p in (tmp_path / "logs").iterdir())


def test_file_logging_can_be_turned_off(tmp_path: Path, restore_root: None) -> None:
    assert configure(Settings(data_dir=tmp_path, logs=LogsConfig(to_file=False))) is None
    assert not (tmp_path / "logs").exists()
