"""Evidence in an S3-compatible object store (MinIO, Ceph, AWS S3): the `EvidenceStore` for
several servers sharing one evidence archive.

Objects are named `<prefix><key>`. An upload is one request that either stores the whole
object or none of it, so readers never see half a file. Calls block (the worker and the API
run them in threads); every failure surfaces as `EvidenceStoreError` (an `OSError`), like a
failing disk does for the local store.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error

from server.config import S3Config
from server.evidence.store import CHUNK_BYTES, EvidenceStoreError, StoredFile, key_parts

MISSING = frozenset({"NoSuchKey", "NoSuchObject", "ResourceNotFound"})


class S3EvidenceStore:
    """Evidence as objects of one bucket."""

    def __init__(self, config: S3Config) -> None:
        self.bucket, self.prefix = config.bucket, config.prefix
        self.where = f"s3 bucket {config.bucket!r} at {config.endpoint}"
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=config.timeout_s, read=config.timeout_s),
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=(502, 503, 504)),
        )
        self._client = Minio(
            config.endpoint,
            access_key=config.access_key,
            secret_key=config.secret_key.get_secret_value(),
            secure=config.secure,
            region=config.region,
            http_client=http,
        )

    def ensure_bucket(self) -> None:
        """Make the bucket unless it exists (at start-up: a wrong endpoint or key shows)."""
        with self._errors("opening"):
            if not self._client.bucket_exists(self.bucket):
                self._client.make_bucket(self.bucket)

    def put(self, key: str, source: Path) -> StoredFile:
        name = self._name(key)
        kind = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        with self._errors(f"storing {key}"):
            self._client.fput_object(self.bucket, name, str(source), content_type=kind)
        stored = self.stat(key)
        if stored is None:
            raise EvidenceStoreError(f"{self.where}: {key} vanished right after it was stored")
        return stored

    def local_path(self, key: str) -> Path | None:
        return None  # served through `read`

    def stat(self, key: str) -> StoredFile | None:
        name = self._name(key)
        try:
            with self._errors(f"looking up {key}"):
                found = self._client.stat_object(self.bucket, name)
        except _Missing:
            return None
        modified = found.last_modified.timestamp() if found.last_modified else 0.0
        return StoredFile(key, found.size or 0, modified)

    def read(self, key: str, start: int, length: int) -> Iterator[bytes]:
        name = self._name(key)
        with self._errors(f"reading {key}"):
            response = self._client.get_object(self.bucket, name, offset=start, length=length)
        try:
            with self._errors(f"reading {key}"):
                yield from response.stream(CHUNK_BYTES)
        finally:
            response.close()
            response.release_conn()

    def delete(self, key: str) -> bool:
        if self.stat(key) is None:
            return False
        with self._errors(f"deleting {key}"):
            self._client.remove_object(self.bucket, self._name(key))
        return True

    def files(self) -> list[StoredFile]:
        with self._errors("listing evidence"):
            return [
                StoredFile(
                    item.object_name.removeprefix(self.prefix),
                    item.size or 0,
                    item.last_modified.timestamp() if item.last_modified else 0.0,
                )
                for item in self._client.list_objects(self.bucket, self.prefix, recursive=True)
                if item.object_name is not None and not item.is_dir
            ]

    def _name(self, key: str) -> str:
        return self.prefix + "/".join(key_parts(key))

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        return _translated(self.where, doing)


class _Missing(EvidenceStoreError):
    """No such object."""


@contextmanager
def _translated(where: str, doing: str) -> Iterator[None]:
    """The client's and the network's exceptions as `EvidenceStoreError`."""
    try:
        yield
    except EvidenceStoreError:
        raise
    except S3Error as error:
        if error.code in MISSING:
            raise _Missing(f"{where}: {doing}: no such object") from error
        raise EvidenceStoreError(f"{where}: {doing} failed: {error}") from error
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as error:
        raise EvidenceStoreError(f"{where}: {doing} failed: {error}") from error
