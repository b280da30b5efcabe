"""Restores that cannot go on stop with a clear message and leave the target as it was:
a damaged or foreign archive, a database of the other kind, a full disk."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.backup.conftest import Source, cli_env, invoke, shopguard, tree

Damage = Callable[[Path, Path], None]  # (good archive, where to write the damaged one)


def rewritten(good: Path, out: Path, edit: Callable[[dict[str, object]], None]) -> None:
    """The archive with its manifest edited (and an extra member where the edit asks)."""
    with tarfile.open(good) as source, tarfile.open(out, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member)
            assert data is not None
            if member.name != "manifest.json":
                target.addfile(member, data)
                continue
            manifest = json.loads(data.read())
            edit(manifest)
            listed = manifest.pop("_listed", False)
            for name in manifest.pop("_extra_members", []):
                extra = tarfile.TarInfo(name)
                extra.size = 3
                target.addfile(extra, io.BytesIO(b"abc"))
                if listed:
                    files = manifest["files"]
                    assert isinstance(files, list)
                    files.append(
                        {"path": name, "size": 3, "sha256": hashlib.sha256(b"abc").hexdigest()}
                    )
            if manifest.pop("_drop", False):
                continue
            raw = json.dumps(manifest).encode()
            member.size = len(raw)
            target.addfile(member, io.BytesIO(raw))


def flip_in_clip(good: Path, out: Path) -> None:
    shutil.copyfile(good, out)
    with tarfile.open(good) as tar:
        clip = next(m for m in tar.getmembers() if m.name.endswith("clip.mp4"))
    with out.open("r+b") as file:
        file.seek(clip.offset_data + clip.size // 2)
        byte = file.read(1)
        file.seek(-1, io.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0xFF]))


def cut_short(good: Path, out: Path) -> None:
    out.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def damaged_gzip(good: Path, out: Path) -> None:
    packed = bytearray(gzip.compress(good.read_bytes()))
    packed[len(packed) // 2] ^= 0xFF
    out.write_bytes(bytes(packed))


def writes(data: bytes) -> Damage:
    def damage(good: Path, out: Path) -> None:
        out.write_bytes(data)

    return damage


def edit(change: Callable[[dict[str, object]], None]) -> Damage:
    return lambda good, out: rewritten(good, out, change)


def newer_schema(manifest: dict[str, object]) -> None:
    database = manifest["database"]
    assert isinstance(database, dict)
    database["schema_revision"] = "9999"


DAMAGES: list[tuple[str, Damage, str]] = [
    # a bit flipped in the middle of the clip: caught by its sha256
    ("bit rot", flip_in_clip, "does not match its sha256 in the manifest"),
    # a copy that stopped half way: no manifest at the end, or a torn member
    ("cut short", cut_short, "is damaged or not a ShopGuard backup"),
    # a gzipped archive with a damaged byte: a member's sha256 or the stream's CRC
    ("damaged gzip", damaged_gzip, "is damaged or not a ShopGuard backup"),
    # some other file named like a backup
    ("not an archive", writes(b"\x89PNG\r\n" * 200), "it cannot be read"),
    ("empty file", writes(b""), "it cannot be read"),
    # a tar without the manifest (someone's own tar of the folder)
    ("no manifest", edit(lambda m: m.update(_drop=True)), "it has no manifest.json"),
    # a member the manifest does not list
    (
        "smuggled file",
        edit(lambda m: m.update(_extra_members=["data/extra.bin"])),
        "data/extra.bin is not in its manifest",
    ),
    # a path that would climb out of the data folder, listed with its right sha256
    (
        "escaping path",
        edit(lambda m: m.update(_extra_members=["data/../../outside.txt"], _listed=True)),
        "not a plain path under database/ or data/: 'data/../../outside.txt'",
    ),
    # made by a later ShopGuard
    ("newer format", edit(lambda m: m.update(version=2)), "made by a newer ShopGuard"),
    ("newer schema", edit(newer_schema), "schema revision 9999, which this ShopGuard"),
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_damaged_or_foreign_archive_is_refused_and_the_target_left_as_it_was(
    source: Source, database_url: str, tmp_path: Path
) -> None:
    good = tmp_path / "good.tar"
    made = await shopguard(
        cli_env(source.settings.data_dir, database_url), "backup", "-o", str(good)
    )
    assert made.returncode == 0, made.stderr
    target = tmp_path / "target"
    first = await invoke(target, None, "restore", str(good))
    assert first.exit_code == 0, first.output
    before = tree(target)
    assert "shopguard.db" in before and "jwt_secret.key" in before

    for case, damage, message in [
        *DAMAGES,
        ("missing", lambda g, o: None, "there is no backup archive at"),
    ]:
        bad = tmp_path / f"{case.replace(' ', '-')}.tar"
        damage(good, bad)
        refused = await invoke(target, None, "restore", "--force", str(bad))
        assert refused.exit_code == 1, (case, refused.output)
        assert refused.stderr.splitlines()[-1].startswith("error: "), (case, refused.stderr)
        assert message in refused.stderr, (case, refused.stderr)
        assert refused.exception is None or isinstance(refused.exception, SystemExit), case
        assert tree(target) == before, case  # the database file included
        assert not [p for p in target.iterdir() if p.name.startswith(".restore-")], case

        fresh = tmp_path / "never-made"
        refused = await invoke(fresh, None, "restore", str(bad))
        assert refused.exit_code == 1 and not fresh.exists(), case


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_archive_of_the_other_database_kind_is_refused(
    database_url: str, empty_database: str | None, tmp_path: Path
) -> None:
    assert empty_database is not None
    for data_dir, url in ((tmp_path / "pg", database_url), (tmp_path / "lite", None)):
        created = await invoke(data_dir, url, "user", "create", "maria")
        assert created.exit_code == 0, created.output
        backed_up = await invoke(data_dir, url, "backup", "-o", str(data_dir.with_suffix(".tar")))
        assert backed_up.exit_code == 0, backed_up.output

    into_sqlite = await invoke(tmp_path / "new", None, "restore", str(tmp_path / "pg.tar"))
    assert into_sqlite.exit_code == 1
    assert "the archive holds a PostgreSQL database, but this server is set up for SQLite" in (
        into_sqlite.stderr
    )
    assert not (tmp_path / "new").exists()

    into_postgres = await invoke(
        tmp_path / "new", empty_database, "restore", str(tmp_path / "lite.tar")
    )
    assert into_postgres.exit_code == 1
    assert "the archive holds a SQLite database, but this server is set up for PostgreSQL" in (
        into_postgres.stderr
    )
    connection = await asyncpg.connect(empty_database)
    try:
        assert (
            await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            == []
        )
    finally:
        await connection.close()


@contextlib.contextmanager
def small_disk(where: Path, size: int) -> Iterator[Path]:
    """A file system of `size` bytes at `where` (tmpfs, mounted for the test: needs root)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_full_disk_is_a_clear_error_on_both_sides(
    source: Source, database_url: str, tmp_path: Path
) -> None:
    data_dir = source.settings.data_dir
    archive = tmp_path / "b.tar"
    made = await invoke(data_dir, database_url, "backup", "-o", str(archive))
    assert made.exit_code == 0, made.output
    with tarfile.open(archive) as tar:
        manifest = tar.extractfile("manifest.json")
        assert manifest is not None
        files = json.loads(manifest.read())["files"]
    dump = next(f["size"] for f in files if f["path"].startswith("database/"))
    total = sum(f["size"] for f in files)
    # room for the staged dump, not for the archive beside it, nor for the restored files
    size = (dump + total) // 2 // 4096 * 4096

    with small_disk(tmp_path / "small", size) as disk:
        too_big = await invoke(data_dir, database_url, "backup", "-o", str(disk / "b.tar"))
        assert too_big.exit_code == 1, too_big.output
        assert f"error: writing {disk / 'b.tar'} failed: the disk is full" in too_big.stderr
        assert list(disk.iterdir()) == []  # no partial archive, no staged dump

        refused = await invoke(disk / "data", None, "restore", str(archive))
        assert refused.exit_code == 1, refused.output
        assert "not enough free space" in refused.stderr
        assert "nothing was changed" in refused.stderr
        assert list(disk.iterdir()) == []
