"""Writing a backup archive and restoring one (the layout: `server/backup/__init__.py`)."""

from __future__ import annotations

import asyncio
import errno
import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, cast

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from server import __version__
from server.backup.database import (
    Database,
    check_restore_tools,
    check_sqlite_dump,
    dump_database,
    place_sqlite,
    restore_postgresql,
    table_count,
)
from server.backup.datafiles import (
    RESTORE_PREFIX,
    data_files,
    evidence_part,
    outside_files,
    skipped,
)
from server.backup.manifest import (
    DATA_PREFIX,
    KIND_NAMES,
    MANIFEST_NAME,
    MAX_MANIFEST_BYTES,
    ArchivedFile,
    BackupError,
    CorruptArchive,
    DatabasePart,
    Manifest,
    parse_manifest,
)
from server.backup.progress import NO_PROGRESS, Progress
from server.config import Settings
from server.storage.migrate import alembic_config

CHUNK_BYTES = 1024 * 1024
SPACE_MARGIN = 1.02  # a restore needs the files' bytes, and a little for folders
GZIP_SUFFIXES = (".gz", ".tgz")
UNREADABLE = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)


def default_archive_name(now: datetime | None = None) -> Path:
    """`shopguard-backup-20250131T221500Z.tar`: plain tar, since clips and snapshots are
    compressed already and gzip would cost a core for a few percent; name the file
    `.tar.gz` to gzip it anyway."""
    return Path(f"shopguard-backup-{(now or datetime.now(UTC)):%Y%m%dT%H%M%SZ}.tar")


# -- backing up ----------------------------------------------------------------------------


async def create_backup(
    settings: Settings, out: Path, progress: Progress = NO_PROGRESS
) -> Manifest:
    """Write the database and the data folder into the archive `out`; safe while the server
    runs. The database is dumped first, so a clip written meanwhile may be in the archive
    without its alert (the alert is not), never an alert without the clip it had."""
    db = Database.of(settings)
    out = await asyncio.to_thread(_output, out)
    partial = out.with_name(out.name + ".partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".shopguard-backup-", dir=out.parent) as folder:
            dump = Path(folder) / db.member
            progress.stage(f"dumping the {db.name} database", None)
            part = await dump_database(db, dump)
            manifest = await asyncio.to_thread(
                _write_archive, settings, db, (dump, part), partial, progress
            )
            await asyncio.to_thread(os.replace, partial, out)
    except OSError as exc:
        raise BackupError(f"writing {out} failed: {_reason(exc)}") from exc
    finally:
        await asyncio.to_thread(partial.unlink, missing_ok=True)
        progress.close()
    return manifest


def _output(out: Path) -> Path:
    out = out.absolute()
    if out.exists():
        raise BackupError(f"{out} exists already: name another file")
    if not out.parent.is_dir():
        raise BackupError(f"there is no folder {out.parent} to write the backup into")
    return out


def _write_archive(
    settings: Settings,
    db: Database,
    dumped: tuple[Path, DatabasePart],
    partial: Path,
    progress: Progress,
) -> Manifest:
    """The dump and the data folder's files, each hashed as it is read, then the manifest.
    A file deleted meanwhile (by retention) is left out; one replaced meanwhile goes in
    whole, as it was when opened."""
    dump, part = dumped
    out = partial.with_name(partial.name.removesuffix(".partial"))
    files = data_files(settings, db, leave_out={out, partial})
    members = [(part.file_member, dump), *((DATA_PREFIX + f.relative, f.path) for f in files)]
    progress.stage("writing the archive", sum(_size(path) for _, path in members))
    archived = []
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
        gzipped = out.name.endswith(GZIP_SUFFIXES)
        tar = (
            tarfile.open(fileobj=raw, mode="w:gz")
            if gzipped
            else tarfile.open(fileobj=raw, mode="w")
        )
        with tar:
            for name, path in members:
                try:
                    source = path.open("rb")
                except FileNotFoundError:
                    continue
                with source:
                    found = os.fstat(source.fileno())
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime = found.st_size, int(found.st_mtime)
                    info.mode = stat.S_IMODE(found.st_mode)
                    hashing = _Hashing(source, progress)
                    tar.addfile(info, hashing)
                archived.append(ArchivedFile(path=name, size=info.size, sha256=hashing.digest()))
            taken = [
                (a.path.removeprefix(DATA_PREFIX), a.size)
                for a in archived
                if a.path.startswith(DATA_PREFIX)
            ]
            manifest = Manifest(
                created_at=datetime.now(UTC),
                shopguard_version=__version__,
                database=part,
                evidence=evidence_part(settings, taken),
                files=archived,
                outside=outside_files(settings),
            )
            document = manifest.model_dump_json(indent=2).encode()
            info = tarfile.TarInfo(MANIFEST_NAME)
            info.size, info.mode = len(document), 0o600
            info.mtime = int(manifest.created_at.timestamp())
            tar.addfile(info, io.BytesIO(document))
        raw.flush()
        os.fsync(raw.fileno())
    return manifest


# -- restoring -----------------------------------------------------------------------------


async def restore_backup(
    settings: Settings, archive: Path, *, force: bool = False, progress: Progress = NO_PROGRESS
) -> Manifest:
    """Restore `archive` into the configured data folder and database.

    The whole archive is checked against its manifest first, and the target must be empty
    (a fresh data folder, a database without tables) unless `force`: until the files are
    renamed into place nothing of the target changes, and a PostgreSQL restore is one
    transaction. The server must be stopped meanwhile.
    """
    db = Database.of(settings)
    data_dir = await asyncio.to_thread(settings.data_dir.absolute)
    try:
        size = await asyncio.to_thread(_archive_size, archive)
        progress.stage(f"checking {archive.name}", size)
        manifest = await asyncio.to_thread(_verify, archive, progress)
        _check_fits(manifest, db)
        await check_restore_tools(db, manifest.database)
        await _check_empty(settings, db, force=force)
        _check_space(data_dir, manifest)
        created, staging = await asyncio.to_thread(_staging, data_dir)
        done = False
        try:
            progress.stage(f"unpacking {archive.name}", size)
            await asyncio.to_thread(_unpack, archive, manifest, staging, progress)
            dump = staging.joinpath(*manifest.database.file_member.split("/"))
            if db.sqlite_path is not None:
                await asyncio.to_thread(check_sqlite_dump, dump, manifest.database)
            else:
                progress.stage(f"loading the database into {db.where}", None)
                await restore_postgresql(db, dump, manifest.database, force=force)
            await asyncio.to_thread(_place, staging, data_dir, db)
            if db.sqlite_path is not None:
                await asyncio.to_thread(place_sqlite, dump, db.sqlite_path)
            done = True
        finally:
            await asyncio.to_thread(_clean_up, staging, data_dir, failed=created and not done)
    except OSError as exc:
        raise BackupError(f"restoring into {data_dir} failed: {_reason(exc)}") from exc
    finally:
        progress.close()
    return manifest


def _archive_size(archive: Path) -> int:
    if not archive.is_file():
        raise BackupError(f"there is no backup archive at {archive}")
    return archive.stat().st_size


def _staging(data_dir: Path) -> tuple[bool, Path]:
    """(whether the data folder is new, a private folder inside it to unpack into)."""
    created = not data_dir.exists()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return created, Path(tempfile.mkdtemp(prefix=RESTORE_PREFIX, dir=data_dir))


def _clean_up(staging: Path, data_dir: Path, *, failed: bool) -> None:
    """Remove the unpacked files; after a failed restore, the data folder it made."""
    shutil.rmtree(staging, ignore_errors=True)
    if failed and not any(data_dir.iterdir()):
        data_dir.rmdir()


def _verify(archive: Path, progress: Progress) -> Manifest:
    """The manifest, once every file of the archive matches its size and sha256."""
    found: dict[str, tuple[int, str]] = {}
    raw_manifest = None
    with _reading(archive, progress) as tar:
        for member in tar:
            if not member.isfile() or member.name in found:
                raise _corrupt(archive, f"it holds {member.name!r} twice or not as a file")
            if member.name == MANIFEST_NAME:
                if member.size > MAX_MANIFEST_BYTES:
                    raise _corrupt(archive, "its manifest.json is too large")
                raw_manifest = _member(tar, member).read()
            else:
                found[member.name] = (member.size, _hash_member(tar, member))
    if raw_manifest is None:
        raise _corrupt(archive, "it has no manifest.json (cut short, or not a ShopGuard backup)")
    try:
        manifest = parse_manifest(raw_manifest)
    except CorruptArchive as exc:
        raise _corrupt(archive, exc.message) from exc
    listed = {f.path: (f.size, f.sha256) for f in manifest.files}
    if manifest.database.file_member not in listed:
        raise _corrupt(archive, f"its database dump {manifest.database.file_member} is not listed")
    for path, expected in listed.items():
        if path not in found:
            raise _corrupt(archive, f"{path} is missing")
        if found[path] != expected:
            raise _corrupt(archive, f"{path} does not match its sha256 in the manifest")
    if extra := sorted(set(found) - set(listed)):
        raise _corrupt(archive, f"{extra[0]} is not in its manifest")
    return manifest


def _check_fits(manifest: Manifest, db: Database) -> None:
    """The archive's database suits this server: the same kind, a schema revision it knows."""
    part = manifest.database
    if part.kind != db.kind:
        theirs = KIND_NAMES[part.kind]
        raise BackupError(
            f"the archive holds a {theirs} database, but this server is set up for "
            f"{db.name} ({db.where}): restore it with settings for a {theirs} database "
            "(SHOPGUARD_DATABASE_URL; unset for SQLite in the data folder)"
        )
    if part.schema_revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(part.schema_revision)
    except CommandError as exc:
        raise BackupError(
            f"the archive's database is at schema revision {part.schema_revision}, which this "
            f"ShopGuard ({__version__}) does not know: restore it with ShopGuard "
            f"{manifest.shopguard_version}, which made it, or a newer one"
        ) from exc


async def _check_empty(settings: Settings, db: Database, *, force: bool) -> None:
    if force:
        return
    tables = await table_count(db)
    files = await asyncio.to_thread(data_files, settings, db, leave_out=set())
    problems = []
    if tables:
        problems.append(f"the {db.name} database at {db.where} has {tables} tables")
    if files:
        shown = ", ".join(f.relative for f in files[:3]) + (", …" if len(files) > 3 else "")
        problems.append(f"the data folder {settings.data_dir} holds {len(files)} files ({shown})")
    if problems:
        raise BackupError(
            f"refusing to restore over existing data: {'; '.join(problems)}. Restore into a "
            "fresh data folder and an empty database, or pass --force to replace them"
        )


def _check_space(data_dir: Path, manifest: Manifest) -> None:
    existing = data_dir
    while not existing.exists():
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    need = int(manifest.total_bytes * SPACE_MARGIN)
    if free < need:
        raise BackupError(
            f"not enough free space at {existing}: the restore needs {need / 1e6:.1f} MB, "
            f"{free / 1e6:.1f} MB are free; nothing was changed"
        )


def _unpack(archive: Path, manifest: Manifest, staging: Path, progress: Progress) -> None:
    """Every file of the archive under `staging`, checked again as it is written."""
    listed = {f.path: (f.size, f.sha256) for f in manifest.files}
    written = set()
    with _reading(archive, progress) as tar:
        for member in tar:
            if member.name == MANIFEST_NAME:
                continue
            if member.name not in listed or not member.isfile():
                raise _corrupt(archive, f"{member.name!r} appeared since it was checked")
            target = staging.joinpath(*member.name.split("/"))
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            with os.fdopen(os.open(target, flags, member.mode & 0o777), "wb") as out:
                digest = _hash_member(tar, member, out)
            if (member.size, digest) != listed[member.name]:
                raise _corrupt(archive, f"{member.name} changed since it was checked")
            os.utime(target, (member.mtime, member.mtime))
            written.add(member.name)
    if written != set(listed):
        raise _corrupt(archive, "it lost files since it was checked")


def _place(staging: Path, data_dir: Path, db: Database) -> None:
    """Move what the data folder holds aside (logs stay), then the restored files in."""
    aside = staging / "replaced"
    aside.mkdir()
    for entry in sorted(data_dir.iterdir()):
        if entry != staging and not skipped(entry.name, db, data_dir):
            os.replace(entry, aside / entry.name)
    restored = staging / DATA_PREFIX.rstrip("/")
    if restored.is_dir():
        for entry in sorted(restored.iterdir()):
            os.replace(entry, data_dir / entry.name)


# -- shared --------------------------------------------------------------------------------


@contextmanager
def _reading(archive: Path, progress: Progress) -> Iterator[tarfile.TarFile]:
    """The archive as a stream of members (gzipped or not); unreadable → `CorruptArchive`."""
    try:
        with (
            archive.open("rb") as raw,
            tarfile.open(fileobj=cast(IO[bytes], _Counting(raw, progress)), mode="r|*") as tar,
        ):
            yield tar
    except UNREADABLE as exc:
        raise _corrupt(archive, f"it cannot be read ({exc or type(exc).__name__})") from exc


def _member(tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    source = tar.extractfile(member)
    if source is None:
        raise CorruptArchive(f"{member.name} is not a file")
    return source


def _hash_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, out: IO[bytes] | None = None
) -> str:
    digest = hashlib.sha256()
    source = _member(tar, member)
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        if out is not None:
            out.write(chunk)
    return digest.hexdigest()


def _corrupt(archive: Path, detail: str) -> CorruptArchive:
    return CorruptArchive(f"{archive} is damaged or not a ShopGuard backup: {detail}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"the disk is full ({exc.filename or 'no space left on device'})"
    return f"{exc.strerror or exc}" + (f": {exc.filename}" if exc.filename else "")


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


class _Hashing:
    """A file read through, its sha256 taken and the bytes counted as progress."""

    def __init__(self, source: IO[bytes], progress: Progress) -> None:
        self._source, self._progress = source, progress
        self._digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._digest.update(chunk)
        self._progress.advance(len(chunk))
        return chunk

    def digest(self) -> str:
        return self._digest.hexdigest()


class _Counting:
    """The archive read through, its bytes counted as progress."""

    def __init__(self, source: IO[bytes], progress: Progress) -> None:
        self._source, self._progress = source, progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._progress.advance(len(chunk))
        return chunk
