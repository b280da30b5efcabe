"""What a backup archive holds: `manifest.json`, its last member, and the names inside it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server.errors import ShopGuardError

FORMAT: Literal["shopguard-backup"] = "shopguard-backup"
VERSION = 1
MANIFEST_NAME = "manifest.json"
DATABASE_PREFIX = "database/"
DATA_PREFIX = "data/"
MAX_MANIFEST_BYTES = 64 * 1024 * 1024

DatabaseKind = Literal["sqlite", "postgresql"]
KIND_NAMES: dict[str, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


class BackupError(ShopGuardError):
    """A backup or restore that cannot go on; the message says why and what to do."""

    code = "backup_error"


class CorruptArchive(BackupError):
    """The archive is not a ShopGuard backup, is cut short, or a file differs from its sha256."""

    code = "corrupt_archive"


class ArchivedFile(BaseModel):
    """One member of the archive: `database/<dump>` or `data/<path in the data folder>`."""

    model_config = ConfigDict(extra="forbid")

    path: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("path")
    @classmethod
    def _plain_relative(cls, path: str) -> str:
        parts = path.split("/")
        if (
            not path.startswith((DATABASE_PREFIX, DATA_PREFIX))
            or (path.startswith(DATABASE_PREFIX) and len(parts) != 2)
            or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts)
        ):
            raise ValueError(f"not a plain path under database/ or data/: {path!r}")
        return path


class DatabasePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: DatabaseKind
    file: str = Field(description="The member holding the dump.")
    schema_revision: str | None = Field(description="Alembic revision the database was at.")
    counts: dict[str, int] = Field(description="Rows per table at the moment of the backup.")
    server_version: str | None = Field(None, description="PostgreSQL's version.")
    dump_tool: str | None = Field(None, description="pg_dump's or SQLite's version.")

    @property
    def file_member(self) -> str:
        return DATABASE_PREFIX + self.file


class S3Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoint: str
    bucket: str
    prefix: str


class EvidencePart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    backend: Literal["local", "s3"]
    files: int = Field(ge=0, description="Evidence files in this archive (data/evidence/).")
    bytes: int = Field(ge=0)
    clips: int = Field(ge=0, description="Of which MP4 clips (annotated copies included).")
    snapshots: int = Field(ge=0, description="Of which JPEG snapshots.")
    s3: S3Location | None = Field(
        None, description="Where the evidence lives when it is in S3: not in this archive."
    )


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["shopguard-backup"] = FORMAT
    version: int = VERSION
    created_at: datetime
    shopguard_version: str
    database: DatabasePart
    evidence: EvidencePart
    files: list[ArchivedFile] = Field(description="Every member but this manifest.")
    outside: list[str] = Field(
        default_factory=list,
        description="Files the settings name outside the data folder: not in this archive.",
    )

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def summary(self) -> list[str]:
        """What the archive holds, in a few lines for the command line."""
        counts = self.database.counts
        rows = ", ".join(
            f"{counts.get(table, 0)} {table}" for table in ("users", "stores", "cameras", "alerts")
        )
        evidence = self.evidence
        lines = [
            f"{KIND_NAMES[self.database.kind]} database at schema revision "
            f"{self.database.schema_revision}: {rows}",
            f"{evidence.files} evidence files ({evidence.clips} clips, {evidence.snapshots} "
            f"snapshots, {evidence.bytes / 1e6:.1f} MB); "
            f"{len(self.files) - 1 - evidence.files} other files of the data folder",
        ]
        if evidence.s3 is not None:
            lines.append(
                f"evidence is kept in S3 bucket {evidence.s3.bucket!r} at {evidence.s3.endpoint} "
                f"(prefix {evidence.s3.prefix!r}): it is NOT in this archive; back the bucket "
                "up with the object store's own tools"
            )
        lines.extend(f"not in the archive (back it up yourself): {item}" for item in self.outside)
        return lines


def parse_manifest(raw: bytes) -> Manifest:
    """The manifest of an archive; `CorruptArchive` when it is not one this version reads."""
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CorruptArchive(f"its manifest.json is not JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CorruptArchive("its manifest.json is not a ShopGuard backup manifest")
    version = document.get("version")
    if isinstance(version, int) and version > VERSION:
        raise BackupError(
            f"the archive is in backup format {version}, made by a newer ShopGuard "
            f"(this one reads format {VERSION} and older): restore it with that version"
        )
    try:
        return Manifest.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CorruptArchive(f"its manifest.json is not valid ({where}: {first['msg']})") from exc
