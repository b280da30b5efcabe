"""The `shopguard` command: serve, manage users, upgrade, back up and restore the database."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from server.app import create_app
from server.cli_model import model_app
from server.config import Settings, load_settings
from server.datadir import prepare_data_dir
from server.errors import ShopGuardError
from server.logs import configure as configure_logging
from server.security.passwords import Passwords, one_time_password
from server.services import users as user_service
from server.serving import uvicorn_config
from server.storage import audit, migrate, users
from server.storage.db import make_engine, make_sessionmaker
from server.storage.models import User, utcnow
from shared.schemas.auth import Role
from shared.schemas.users import UserUpdate

app = typer.Typer(help="ShopGuard: self-hosted shoplifting detection.", no_args_is_help=True)
user_app = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(db_app, name="db")
bench_app = typer.Typer(help="Measure this box.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
app.add_typer(model_app, name="model")

T = TypeVar("T")
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", envvar="SHOPGUARD_CONFIG_FILE", help="YAML settings file."),
]


class State:
    config_file: Path | None = None


ROLES = ("all", "api", "worker")


@app.callback()
def root(config: ConfigOption = None) -> None:
    State.config_file = config


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(State.config_file, **overrides)
    except (ValidationError, ShopGuardError) as exc:
        typer.echo(f"error: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (server.port).")] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="all: API and cameras in one process (default); api: REST, WebSocket and "
            "push only; worker: cameras claimed by lease (cluster.role)."
        ),
    ] = None,
) -> None:
    """Run the server (migrates the database and creates the first admin if needed)."""
    if role is not None and role not in ROLES:
        typer.echo(f"error: --role must be one of {', '.join(ROLES)}, not {role!r}", err=True)
        raise typer.Exit(2)
    settings = _settings(**({"cluster": {"role": role}} if role is not None else {}))
    if host is not None or port is not None:
        server = settings.server.model_copy(
            update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
        )
        settings = settings.model_copy(update={"server": server})
    prepare_data_dir(settings)
    configure_logging(settings)
    config = uvicorn_config(
        create_app(settings),
        settings.server,
        log_level=settings.log_level.lower(),
        log_config=None,  # uvicorn's loggers go to our handlers (console and file)
    )
    uvicorn.Server(config).run()


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, migrated to the newest schema."""
    prepare_data_dir(settings)
    engine = make_engine(settings.resolved_database_url, settings.database_pool_wait_s)
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except ShopGuardError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    except (OSError, SQLAlchemyError) as exc:
        typer.echo(f"error: database unavailable: {exc}", err=True)
        raise typer.Exit(1) from exc


def _with_session(action: Callable[[AsyncSession, Settings, Passwords], Awaitable[T]]) -> T:
    settings = _settings()

    async def run() -> T:
        async with _database(settings) as engine, make_sessionmaker(engine)() as session:
            passwords = Passwords(memory_kib=settings.auth.password_hash_memory_kib)
            return await action(session, settings, passwords)

    return _run(run())


async def _cli_audit(
    session: AsyncSession, action: str, user_id: int, details: dict[str, object]
) -> None:
    await audit.record(
        session=session,
        user_id=None,
        username="cli",
        action=action,
        target_type="user",
        target_id=user_id,
        details=details,
        client="command line",
    )


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[Role, typer.Option(help="admin, supervisor or viewer.")] = Role.viewer,
    store: Annotated[
        list[int] | None, typer.Option(help="Store id the user may see (repeat).")
    ] = None,
) -> None:
    """Create a user with a one-time password, printed once."""

    async def action(session: AsyncSession, _: Settings, passwords: Passwords) -> str:
        password = one_time_password()
        user = await users.create_user(
            session=session,
            username=username,
            password_hash=await passwords.hash_async(password),
            role=role.value,
            store_ids=store or [],
            must_change_password=True,
        )
        await _cli_audit(
            session, "user.create", user.id, {"username": username, "role": role.value}
        )
        await session.commit()
        return password

    password = _with_session(action)
    typer.echo(f"created {role.value} {username!r}; one-time password: {password}")


@user_app.command("reset-password")
def user_reset_password(username: str) -> None:
    """Give a user a new one-time password and unlock the account."""

    async def action(session: AsyncSession, _: Settings, passwords: Passwords) -> str:
        user = await _find(session, username)
        password = await user_service.reset_password(
            session=session, user=user, passwords=passwords, now=utcnow()
        )
        await _cli_audit(session, "user.reset_password", user.id, {})
        await session.commit()
        return password

    typer.echo(f"one-time password for {username!r}: {_with_session(action)}")


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user and end its sessions."""
    _set_active(username, active=False)
    typer.echo(f"disabled {username!r}")


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user."""
    _set_active(username, active=True)
    typer.echo(f"enabled {username!r}")


@user_app.command("list")
def user_list() -> None:
    """List users with role, state and stores."""

    async def action(session: AsyncSession, _: Settings, __: Passwords) -> list[str]:
        return [
            f"{u.username:<24} {u.role:<10} {'active' if u.is_active else 'disabled':<9} "
            f"stores={u.store_ids}"
            for u in await users.list_users(session=session)
        ]

    for line in _with_session(action):
        typer.echo(line)


def _set_active(username: str, *, active: bool) -> None:
    async def action(session: AsyncSession, _: Settings, passwords: Passwords) -> None:
        user = await _find(session, username)
        await user_service.update_user(
            session=session,
            user=user,
            user_in=UserUpdate(is_active=active),
            passwords=passwords,
            actor_id=None,
            now=utcnow(),
        )
        await _cli_audit(session, "user.update", user.id, {"is_active": active})
        await session.commit()

    _with_session(action)


async def _find(session: AsyncSession, username: str) -> User:
    user = await users.find_user(session=session, username=username)
    if user is None:
        raise ShopGuardError(f"no user named {username!r}")
    return user


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending database migrations."""

    async def run() -> None:
        async with _database(_settings()):
            pass

    _run(run())
    typer.echo("database is up to date")


@db_app.command("revision")
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database."""

    async def run() -> None:
        async with _database(_settings()) as engine:
            await migrate.revision(engine, message)

    _run(run())


@app.command()
def backup(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Archive to write (default: shopguard-backup-<UTC time>.tar here); "
            "a name ending in .gz is gzipped.",
        ),
    ] = None,
) -> None:
    """Back up the database and the data folder (keys, evidence, models) into one archive;
    safe while the server runs."""
    from server.backup import create_backup, default_archive_name
    from server.backup.progress import TerminalProgress

    out = output or default_archive_name()
    manifest = _run(create_backup(_settings(), out, TerminalProgress()))
    typer.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    for line in manifest.summary():
        typer.echo(f"  {line}")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="An archive written by `shopguard backup`.")],
    force: Annotated[
        bool, typer.Option(help="Replace a data folder or database that is not empty.")
    ] = False,
) -> None:
    """Restore a backup into the configured data folder and database (stop the server first);
    they must be empty unless --force."""
    from server.backup import restore_backup
    from server.backup.progress import TerminalProgress

    settings = _settings()
    manifest = _run(restore_backup(settings, archive, force=force, progress=TerminalProgress()))
    typer.echo(f"restored {archive} (made {manifest.created_at:%Y-%m-%d %H:%M:%S} UTC)")
    for line in manifest.summary():
        typer.echo(f"  {line}")


@bench_app.command("pipeline")
def bench_pipeline(
    cameras: Annotated[
        str, typer.Option(help="Camera counts to try for our pipeline, comma-separated.")
    ] = "4,6,8,10,12",
    fps: Annotated[float, typer.Option(help="Analysed frames per second per camera.")] = 5.0,
    warmup: Annotated[float, typer.Option(help="Seconds before measuring each run.")] = 8.0,
    seconds: Annotated[float, typer.Option(help="Seconds measured per run.")] = 20.0,
    naive: Annotated[bool, typer.Option(help="Also run the seeds' naive loop.")] = True,
    naive_max: Annotated[int, typer.Option(help="Most cameras for the naive loop.")] = 6,
    agreement_frames: Annotated[
        int, typer.Option(help="Frames for the keypoint agreement check (0: skip).")
    ] = 60,
    occupancy: Annotated[
        str,
        typer.Option(
            help="Day mixes to run ours on: percent of the time people are in view, "
            "comma-separated, e.g. 25,50,100; each camera its own seed's day clip "
            "(default: every clip full of people)."
        ),
    ] = "",
    presence_gate: Annotated[
        bool | None,
        typer.Option(
            "--presence-gate/--no-presence-gate",
            help="Analyse a camera showing nobody only on motion and a check every few "
            "seconds (default: pipeline.presence_gate).",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the JSON results go.")] = Path(
        "data/bench/pipeline.json"
    ),
) -> None:
    """How many DVR channels (1080p main + 360p sub-stream) this box analyses in real time,
    against the seeds' naive loop, with the pose backend's agreement with Ultralytics."""
    from server.bench.pipeline import BenchPlan, main_cli

    settings = _settings()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        counts = sorted({int(c) for c in cameras.split(",") if c.strip()})
    except ValueError as exc:
        raise typer.BadParameter("--cameras: a comma-separated list of numbers") from exc
    try:
        percents = [float(p) for p in occupancy.split(",") if p.strip()]
    except ValueError as exc:
        raise typer.BadParameter("--occupancy: a comma-separated list of percents") from exc
    if not all(0.0 <= p <= 100.0 for p in percents):
        raise typer.BadParameter("--occupancy: percents from 0 to 100")
    pipeline = settings.pipeline
    if presence_gate is not None:
        pipeline = pipeline.model_copy(update={"presence_gate": presence_gate})
    plan = BenchPlan(
        counts=counts,
        fps=fps,
        warmup_s=warmup,
        measure_s=seconds,
        naive=naive,
        naive_max=naive_max,
        agreement_frames=agreement_frames,
        occupancies=[p / 100.0 for p in percents] or None,
        pipeline=pipeline,
    )
    source = settings.demo_video or Path("media/demo/vtest.mp4")
    try:
        main_cli(plan, source, Path("media/bench"), out, lambda line: typer.echo(f"[bench] {line}"))
    except (FileNotFoundError, RuntimeError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


@bench_app.command("load")
def bench_load(
    clients: Annotated[int, typer.Option(help="Signed-in HTTP clients at once.")] = 200,
    seconds: Annotated[float, typer.Option(help="Seconds measured.")] = 30.0,
    think_s: Annotated[float, typer.Option(help="Each client's pause between requests.")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
) -> None:
    """Many signed-in clients reading /health and the alert list at once from a real server
    (a child process, the pipeline off): p50/p95/p99 and errors per path."""
    from server.bench.load import main as load

    load(
        ["--clients", str(clients), "--seconds", str(seconds), "--think-s", str(think_s)]
        + (["--out", str(out)] if out else [])
    )


@bench_app.command("soak")
def bench_soak(
    minutes: Annotated[float, typer.Option(help="How long.")] = 60.0,
    sample_s: Annotated[float, typer.Option(help="Seconds between samples.")] = 60.0,
    out: Annotated[Path, typer.Option(help="The JSON; the plot goes beside it (.png).")] = Path(
        "data/bench/soak.json"
    ),
) -> None:
    """A real server with 4 file cameras, cameras dropping and returning, alerts, viewers
    coming and going; its memory, open files, threads and tasks sampled (are they flat?)."""
    from server.bench.soak import main as soak

    soak(["--minutes", str(minutes), "--sample-s", str(sample_s), "--out", str(out)])


@bench_app.command("bus")
def bench_bus(
    cameras: Annotated[int, typer.Option(help="Simulated cameras publishing.")] = 500,
    seconds: Annotated[float, typer.Option(help="Seconds measured.")] = 30.0,
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
) -> None:
    """Cameras' events through Redis Streams to 2 API instances (its own redis-server):
    events/s, delivery latency, CPU per 100 cameras."""
    from server.bench.bus import main as bus

    bus(
        ["--cameras", str(cameras), "--seconds", str(seconds)]
        + (["--out", str(out)] if out else [])
    )


@bench_app.command("db-writes")
def bench_db_writes(
    cameras: Annotated[int, typer.Option(help="File cameras playing the clip of people.")] = 4,
    minutes: Annotated[float, typer.Option(help="Minutes measured.")] = 3.0,
    threshold: Annotated[
        float | None, typer.Option(help="The cameras' threshold (0: everyone alerts).")
    ] = None,
    database_url: Annotated[
        str, typer.Option(help="A PostgreSQL server; a scratch database is made there.")
    ] = "postgresql://postgres@127.0.0.1/test",
    out: Annotated[Path | None, typer.Option(help="Also write the JSON here.")] = None,
) -> None:
    """What a camera writes to the shared database: commits and rows per camera and minute,
    per table (for docs/scale.md)."""
    from server.bench.db_writes import main as db_writes

    db_writes(
        ["--cameras", str(cameras), "--minutes", str(minutes), "--database-url", database_url]
        + (["--threshold", str(threshold)] if threshold is not None else [])
        + (["--out", str(out)] if out else [])
    )


def main() -> None:
    app()
