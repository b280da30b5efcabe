"""Operations logs: the console, and plain-text files that rotate, one event per line with
the camera and alert it concerns (`camera=3 alert=481`, `-` when none), so that
`grep camera=3 data/logs/shopguard.log*` tells one camera's story.

Example:
    >>> logger.warning("stream stalled", extra=ids(camera=3))
"""

from __future__ import annotations

import logging
import logging.handlers
from typing import Any

from server.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(name)s camera=%(camera)s alert=%(alert)s: %(message)s"
LOG_FILE = "shopguard.log"


def ids(*, camera: int | None = None, alert: int | None = None) -> dict[str, Any]:
    """`extra` for a log call about a camera and/or an alert."""
    return {
        "camera": camera if camera is not None else "-",
        "alert": alert if alert is not None else "-",
    }


class _Ids(logging.Filter):
    """Gives every record the id fields the format names (`-` when the call gave none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in ("camera", "alert"):
            if not hasattr(record, name):
                setattr(record, name, "-")
        return True


def configure(settings: Settings) -> logging.Handler | None:
    """Console logging, and the rotating file unless `logs.to_file` is off; returns the
    file's handler."""
    root = logging.getLogger()
    root.setLevel(settings.log_level)
    formatter = logging.Formatter(FORMAT)
    console = logging.StreamHandler()
    handlers: list[logging.Handler] = [console]
    file_handler = None
    if settings.logs.to_file:
        folder = settings.data_dir / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE,
            maxBytes=int(settings.logs.max_mb * 1024 * 1024),
            backupCount=settings.logs.backups,
            encoding="utf-8",
        )
        handlers.append(file_handler)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(_Ids())
        root.addHandler(handler)
    return file_handler
