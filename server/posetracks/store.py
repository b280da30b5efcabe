"""Where pose files live: behind one small interface (like `server/evidence/store.py`), so an
S3-compatible store can replace the local disk later without touching the recorder.

Keys are relative paths:
- `chunks/<camera>/<first ms>-<last ms>.npz`: a camera's poses of about a minute, pruned
  after `pose_tracks.keep_hours` unless an unreviewed alert holds them;
- `episodes/<store>/<camera>/<episode>-<labelled ms>.npz`: a labelled episode (its poses
  and label), kept like evidence.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from server.evidence.store import StoredFile, key_parts

CHUNKS = "chunks"
EPISODES = "episodes"
_CHUNK_NAME = re.compile(r"(\d+)-(\d+)\.npz")
_EPISODE_NAME = re.compile(r"(\d+)-(\d+)\.npz")


class PoseStore(Protocol):
    def put(self, key: str, data: bytes) -> StoredFile:
        """Store `data` under `key` whole (readers never see part of it)."""
        ...

    def get(self, key: str) -> bytes | None:
        """The file's bytes; None if absent."""
        ...

    def delete(self, key: str) -> bool:
        """Remove a file; False when there was none."""
        ...

    def files(self, prefix: str) -> list[StoredFile]:
        """The files whose keys start with `prefix` (a folder, ending in '/')."""
        ...


@dataclass(frozen=True, slots=True)
class ChunkKey:
    """A chunk's camera and the times (ms) of its first and last analysed frame."""

    camera_id: int
    first_ms: int
    last_ms: int

    @property
    def key(self) -> str:
        return f"{CHUNKS}/{self.camera_id}/{self.first_ms}-{self.last_ms}.npz"

    def overlaps(self, start_s: float, end_s: float) -> bool:
        return self.first_ms <= end_s * 1000 and self.last_ms >= start_s * 1000

    @classmethod
    def parse(cls, key: str) -> ChunkKey | None:
        """The chunk a key names; None for any other key."""
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != CHUNKS or not parts[1].isdigit():
            return None
        if (match := _CHUNK_NAME.fullmatch(parts[2])) is None:
            return None
        return cls(int(parts[1]), int(match[1]), int(match[2]))


def episode_key(store_id: int, camera_id: int, episode_id: int, labelled_ms: int) -> str:
    return f"{EPISODES}/{store_id}/{camera_id}/{episode_id}-{labelled_ms}.npz"


def episode_id_of(key: str) -> int | None:
    """The episode a key names; None for any other key."""
    parts = key.split("/")
    if len(parts) != 4 or parts[0] != EPISODES:
        return None
    match = _EPISODE_NAME.fullmatch(parts[3])
    return int(match[1]) if match else None


class LocalPoseStore:
    """Pose files under a folder of the data directory (the default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_parts(key))

    def put(self, key: str, data: bytes) -> StoredFile:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            partial.write_bytes(data)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        stat = target.stat()
        return StoredFile(key, stat.st_size, stat.st_mtime)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        for parent in path.parents:  # tidy empty folders
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def files(self, prefix: str) -> list[StoredFile]:
        folder = self.root.joinpath(*key_parts(prefix.rstrip("/")))
        if not folder.is_dir():
            return []
        found = []
        for path in folder.rglob("*.npz"):
            try:
                stat = path.stat()
            except FileNotFoundError:  # pruned meanwhile
                continue
            key = path.relative_to(self.root).as_posix()
            found.append(StoredFile(key, stat.st_size, stat.st_mtime))
        return found
