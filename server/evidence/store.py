"""Where evidence files live: behind one interface, so a multi-box deployment can swap the
local disk for an S3-compatible store without touching the clip worker or the API.

Keys are relative paths such as `3/12/481/clip.mp4` (store, camera, alert, file). A file is
handed over complete (`put` copies a finished local file in), so readers never see half of
one.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK_BYTES = 256 * 1024


class EvidenceKeyError(ValueError):
    """A key that is not a plain relative path inside the store."""


class EvidenceStoreError(OSError):
    """The store could not be reached or refused an operation; the message says why.

    An `OSError`, like a full or failing local disk: callers handle both alike."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    key: str
    size: int
    modified: float  # Unix seconds


class EvidenceStore(Protocol):
    def put(self, key: str, source: Path) -> StoredFile:
        """Copy the finished file `source` in under `key` (replacing any older one); the
        caller still owns `source`."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file on this machine's disk, to serve directly; None if absent or remote."""
        ...

    def stat(self, key: str) -> StoredFile | None:
        """The stored file's size and time; None if absent."""
        ...

    def read(self, key: str, start: int, length: int) -> Iterator[bytes]:
        """`length` bytes of the file from `start`, in chunks."""
        ...

    def delete(self, key: str) -> bool:
        """Remove a file; False when there was none."""
        ...

    def files(self) -> list[StoredFile]:
        """Every stored file."""
        ...


def evidence_key(store_id: int, camera_id: int, alert_id: int, name: str) -> str:
    return f"{store_id}/{camera_id}/{alert_id}/{name}"


def key_parts(key: str) -> tuple[str, ...]:
    """The folders and name of `key`; `EvidenceKeyError` unless a plain relative path."""
    parts = tuple(key.split("/"))
    if any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        raise EvidenceKeyError(f"bad evidence key {key!r}")
    return parts


class LocalEvidenceStore:
    """Evidence under a folder of the data directory (the embedded default)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key_parts(key))

    def put(self, key: str, source: Path) -> StoredFile:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        try:
            shutil.copyfile(source, partial)  # the source may be on another file system
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        stat = target.stat()
        return StoredFile(key, stat.st_size, stat.st_mtime)

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def stat(self, key: str) -> StoredFile | None:
        path = self.local_path(key)
        if path is None:
            return None
        found = path.stat()
        return StoredFile(key, found.st_size, found.st_mtime)

    def read(self, key: str, start: int, length: int) -> Iterator[bytes]:
        with self._path(key).open("rb") as file:
            file.seek(start)
            while length > 0:
                chunk = file.read(min(length, CHUNK_BYTES))
                if not chunk:
                    return
                length -= len(chunk)
                yield chunk

    def delete(self, key: str) -> bool:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        for parent in path.parents:  # tidy empty alert/camera/store folders
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def files(self) -> list[StoredFile]:
        if not self.root.is_dir():
            return []
        found = []
        for path in self.root.rglob("*"):
            if path.is_file() and not path.name.endswith(".partial"):
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                found.append(StoredFile(key, stat.st_size, stat.st_mtime))
        return found
