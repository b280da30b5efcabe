"""The training scripts' JSON reports: printed to stdout and, with `--out`, written there."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def emit(report: dict[str, Any], out: Path | None, indent: int = 1) -> None:
    """Print `report` as JSON; also write it to `out` (its folder made) when given."""
    text = json.dumps(report, indent=indent)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    sys.stdout.write(text + "\n")
