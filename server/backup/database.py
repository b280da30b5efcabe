"""The database half of a backup: SQLite through its online backup API, PostgreSQL through
pg_dump and pg_restore, each with the schema revision and the rows per table.

Both dumps are consistent while the server writes: SQLite's backup copies one read
snapshot (in WAL mode writers go on meanwhile), and pg_dump reads the snapshot of the
transaction that counted the rows (`--snapshot`), so the counts describe the dump exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from server.backup.manifest import KIND_NAMES, BackupError, DatabaseKind, DatabasePart
from server.config import Settings
from server.security.redact import redact_url

SQLITE_MEMBER = "shopguard.db"
POSTGRES_MEMBER = "shopguard.pgdump"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
TOOL_TIMEOUT_S = 6 * 3600.0
_TABLES_PG = (
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
)
_TABLES_SQLITE = (
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
)


@dataclass(frozen=True, slots=True)
class Database:
    """The configured database, as the backup tools reach it."""

    kind: DatabaseKind
    where: str  # the URL with its password masked, for messages
    sqlite_path: Path | None = None
    dsn: str = ""  # libpq URL without the password
    password: str | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> Database:
        url = make_url(settings.resolved_database_url)
        where = redact_url(url.render_as_string(hide_password=False))
        backend = url.get_backend_name()
        if backend == "sqlite":
            if not url.database or url.database == ":memory:":
                raise BackupError("an in-memory SQLite database cannot be backed up")
            return cls("sqlite", where, sqlite_path=Path(url.database).resolve())
        if backend == "postgresql":
            query = dict(url.query)
            if "ssl" in query:  # asyncpg's name for libpq's sslmode
                query["sslmode"] = query.pop("ssl")
            plain = url.set(drivername="postgresql", password=None, query=query)
            return cls(
                "postgresql",
                where,
                dsn=plain.render_as_string(hide_password=False),
                password=url.password if isinstance(url.password, str) else None,
            )
        raise BackupError(f"cannot back up a {backend} database ({where})")

    @property
    def name(self) -> str:
        return KIND_NAMES[self.kind]

    @property
    def member(self) -> str:
        return SQLITE_MEMBER if self.kind == "sqlite" else POSTGRES_MEMBER


# -- backing up ----------------------------------------------------------------------------


async def dump_database(db: Database, out: Path) -> DatabasePart:
    """Write the database's dump to `out` (mode 0600: it holds password hashes and camera
    credentials); what it holds."""
    os.close(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    if db.sqlite_path is not None:
        return await asyncio.to_thread(_dump_sqlite, db.sqlite_path, out)
    pg_dump, tool = await _tool("pg_dump")
    async with _postgres(db) as conn:
        server = await _server_version(conn)
        if _major(tool) < _major(server):
            raise BackupError(
                f"{tool} cannot dump a PostgreSQL {server} server: install the client tools "
                f"of version {_major(server)} or newer (postgresql-client-{_major(server)})"
            )
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
            revision, counts = await _postgres_facts(conn)
            await _run_tool(
                db,
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={out}"],
                doing="dumping",
            )
    return DatabasePart(
        kind="postgresql",
        file=db.member,
        schema_revision=revision,
        counts=counts,
        server_version=server,
        dump_tool=tool,
    )


def _dump_sqlite(source: Path, out: Path) -> DatabasePart:
    if not source.is_file() or source.stat().st_size == 0:
        raise BackupError(f"no database at {source}: nothing to back up")
    try:
        with (
            contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
            contextlib.closing(sqlite3.connect(out)) as dst,
        ):
            src.backup(dst)  # in one step: one read snapshot, never restarted by writers
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            revision, counts = _sqlite_facts(dst)
    except sqlite3.Error as exc:
        raise BackupError(
            f"backing up the SQLite database {source} into {out.parent} failed: {exc}"
        ) from exc
    return DatabasePart(
        kind="sqlite",
        file=SQLITE_MEMBER,
        schema_revision=revision,
        counts=counts,
        dump_tool=f"sqlite {sqlite3.sqlite_version}",
    )


# -- restoring -----------------------------------------------------------------------------


async def table_count(db: Database) -> int:
    """Tables in the target database (0: empty, ready for a restore)."""
    if db.sqlite_path is not None:
        return await asyncio.to_thread(_sqlite_table_count, db.sqlite_path)
    async with _postgres(db, target=True) as conn:
        return len(await conn.fetch(_TABLES_PG))


def _sqlite_table_count(path: Path) -> int:
    if not path.is_file() or path.stat().st_size == 0:
        return 0
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn:
            return len(conn.execute(_TABLES_SQLITE).fetchall())
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the SQLite database at {path}: {exc}") from exc


async def check_restore_tools(db: Database, part: DatabasePart) -> None:
    """Refuse before anything is written when pg_restore cannot read the dump."""
    if db.kind != "postgresql":
        return
    _, tool = await _tool("pg_restore")
    if part.dump_tool is not None and _major(tool) < _major(part.dump_tool):
        raise BackupError(
            f"the archive was dumped by {part.dump_tool}, which {tool} cannot read: install "
            f"the client tools of version {_major(part.dump_tool)} or newer"
        )


async def restore_postgresql(db: Database, dump: Path, part: DatabasePart, *, force: bool) -> None:
    """Load the dump in one transaction (all of it or nothing), then compare the rows."""
    pg_restore, _ = await _tool("pg_restore")
    args = [pg_restore, "--no-owner", "--no-privileges", "--single-transaction"]
    if force:
        args += ["--clean", "--if-exists"]
    await _run_tool(db, [*args, str(dump)], doing="restoring")
    async with _postgres(db, target=True) as conn:
        _, counts = await _postgres_facts(conn)
    _compare_counts(part.counts, counts, db.where)


def check_sqlite_dump(dump: Path, part: DatabasePart) -> None:
    """The unpacked SQLite file opens, passes its quick check and holds the counted rows."""
    try:
        with contextlib.closing(sqlite3.connect(dump)) as conn:
            (verdict,) = conn.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise BackupError(f"the archive's SQLite database is damaged: {verdict}")
            _, counts = _sqlite_facts(conn)
    except sqlite3.Error as exc:
        raise BackupError(f"the archive's SQLite database does not open: {exc}") from exc
    _compare_counts(part.counts, counts, "the archive's SQLite database")


def place_sqlite(staged: Path, target: Path) -> None:
    """Put the restored file at `target`, dropping the replaced database's journal files
    (a stale WAL would otherwise be replayed onto the restored database)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for suffix in SQLITE_SIDE_FILES:
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.move(staged, partial)  # a rename when on the same disk
    partial.chmod(0o600)
    os.replace(partial, target)


# -- shared --------------------------------------------------------------------------------


def _sqlite_facts(conn: sqlite3.Connection) -> tuple[str | None, dict[str, int]]:
    tables = [name for (name,) in conn.execute(_TABLES_SQLITE).fetchall()]
    counts = {
        t: int(conn.execute(f"SELECT count(*) FROM {_quoted(t)}").fetchone()[0]) for t in tables
    }
    revision = None
    if "alembic_version" in counts:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
    return revision, counts


async def _postgres_facts(conn: asyncpg.Connection) -> tuple[str | None, dict[str, int]]:
    tables = [str(row["tablename"]) for row in await conn.fetch(_TABLES_PG)]
    counts = {t: int(await conn.fetchval(f"SELECT count(*) FROM {_quoted(t)}")) for t in tables}
    revision = None
    if "alembic_version" in counts:
        value = await conn.fetchval("SELECT version_num FROM alembic_version")
        revision = None if value is None else str(value)
    return revision, counts


def _compare_counts(expected: dict[str, int], found: dict[str, int], where: str) -> None:
    if expected != found:
        differ = sorted(
            f"{t}: {expected.get(t, 'none')} expected, {found.get(t, 'none')} found"
            for t in set(expected) | set(found)
            if expected.get(t) != found.get(t)
        )
        raise BackupError(f"{where} does not hold the backed-up rows ({'; '.join(differ)})")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.asynccontextmanager
async def _postgres(db: Database, *, target: bool = False) -> AsyncIterator[asyncpg.Connection]:
    try:
        conn = await asyncpg.connect(db.dsn, password=db.password, timeout=30)
    except asyncpg.InvalidCatalogNameError as exc:
        hint = ": create it first (createdb)" if target else ""
        raise BackupError(f"the database at {db.where} does not exist{hint}") from exc
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"cannot connect to the database at {db.where}: {exc}") from exc
    try:
        yield conn
    except asyncpg.PostgresError as exc:
        raise BackupError(f"the database at {db.where} failed: {exc}") from exc
    finally:
        await conn.close()


async def _server_version(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SHOW server_version")).split()[0]


async def _tool(name: str) -> tuple[str, str]:
    """The PostgreSQL client program's path and its `--version` line."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools")
    process = await asyncio.create_subprocess_exec(
        path, "--version", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    return path, output.decode(errors="replace").strip()


def _major(version: str) -> int:
    """15 from "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" or "16.4"."""
    found = re.search(r"(?:^|\s)(\d+)(?:\.\d+)?", version)
    if found is None:
        raise BackupError(f"cannot tell the PostgreSQL version from {version!r}")
    return int(found.group(1))


async def _run_tool(db: Database, args: list[str], *, doing: str) -> None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "30"}
    if db.password is not None:
        env["PGPASSWORD"] = db.password  # not on the command line, where `ps` shows it
    process = await asyncio.create_subprocess_exec(
        args[0],
        *args[1:],
        f"--dbname={db.dsn}",
        "--no-password",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, errors = await asyncio.wait_for(process.communicate(), TOOL_TIMEOUT_S)
    except TimeoutError as exc:
        process.kill()
        await process.wait()
        raise BackupError(f"{Path(args[0]).name} took over {TOOL_TIMEOUT_S:.0f} s") from exc
    if process.returncode != 0:
        text = errors.decode(errors="replace").strip()
        raise BackupError(
            f"{doing} the PostgreSQL database at {db.where} failed "
            f"({Path(args[0]).name} exited {process.returncode}): {text[-2000:]}"
        )
