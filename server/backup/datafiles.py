"""Which files of the data folder a backup takes, and what the settings keep elsewhere.

Everything in the data folder is taken (keys, evidence, models, kept poses, the admin's
one-time password while it is unused) except what a restore does not need or gets another
way: the operations logs, the SQLite database with its journals (dumped through SQLite's
backup API instead), files still being written (`*.partial`) and unfinished restores.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from server.backup.database import SQLITE_SIDE_FILES, Database
from server.backup.manifest import EvidencePart, S3Location
from server.behaviour.registry import ModelRegistry
from server.config import Settings
from server.runtime import EVIDENCE_DIR
from server.weights import DEFAULT_WEIGHTS_DIR

LOGS_DIR = "logs"
RESTORE_PREFIX = ".restore-"  # unfinished restores' folders, inside the data folder
PARTIAL_SUFFIX = ".partial"
LOCK_SUFFIX = ".migrate-lock"


@dataclass(frozen=True, slots=True)
class DataFile:
    relative: str  # posix path inside the data folder
    path: Path


def skipped(relative: str, db: Database, data_dir: Path) -> bool:
    """Whether a path of the data folder stays out of backups (and of the emptiness check)."""
    top = relative.split("/", 1)[0]
    if top == LOGS_DIR or top.startswith(RESTORE_PREFIX):
        return True
    if relative.endswith((PARTIAL_SUFFIX, LOCK_SUFFIX)):
        return True
    if db.sqlite_path is not None:
        own = {str(db.sqlite_path)} | {f"{db.sqlite_path}{s}" for s in SQLITE_SIDE_FILES}
        return str(data_dir.resolve() / relative) in own
    return False


def data_files(settings: Settings, db: Database, *, leave_out: set[Path]) -> list[DataFile]:
    """The data folder's files to back up, in a stable order; symbolic links are not followed."""
    root = settings.data_dir.resolve()
    if not root.is_dir():
        return []
    leave_out = {p.resolve() for p in leave_out}
    found = []
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        here = Path(folder)
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file() or path in leave_out:
                continue
            if not skipped(relative, db, root):
                found.append(DataFile(relative, path))
    return found


def evidence_part(settings: Settings, files: list[tuple[str, int]]) -> EvidencePart:
    """What the archive holds of the evidence; `files`: (relative path, size) taken."""
    prefix = f"{EVIDENCE_DIR}/"
    taken = [(path, size) for path, size in files if path.startswith(prefix)]
    s3 = settings.evidence.s3
    return EvidencePart(
        backend=settings.evidence.backend,
        files=len(taken),
        bytes=sum(size for _, size in taken),
        clips=sum(1 for path, _ in taken if path.endswith(".mp4")),
        snapshots=sum(1 for path, _ in taken if path.endswith(".jpg")),
        s3=(
            S3Location(endpoint=s3.endpoint, bucket=s3.bucket, prefix=s3.prefix)
            if settings.evidence.backend == "s3"
            else None
        ),
    )


def outside_files(settings: Settings) -> list[str]:
    """Files the server uses that live outside the data folder, so are not in the archive."""
    root = settings.data_dir.resolve()
    push, pipeline = settings.push, settings.pipeline
    registry = ModelRegistry.of(settings)
    named: list[tuple[str, Path | None]] = [
        ("pose model", pipeline.pose_model or DEFAULT_WEIGHTS_DIR),
        ("behaviour model (active)", registry.active().path),
        ("push.fcm_service_account", push.fcm_service_account),
        ("push.apns_key_file", push.apns_key_file),
        ("push.apns_ca_file", push.apns_ca_file),
        ("demo_video", settings.demo_video),
    ]
    return [
        f"{what}: {path.resolve()}"
        for what, path in named
        if path is not None and not path.resolve().is_relative_to(root)
    ]
