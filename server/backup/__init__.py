"""Backups: the database and the data folder in one archive, and back again.

An archive is a tar file (gzipped when its name ends in `.gz`) holding, in this order:

    database/shopguard.db | database/shopguard.pgdump   SQLite's online backup, or pg_dump -Fc
    data/<path>                                         the data folder: keys, evidence, models,
                                                        kept poses (not logs, not the database)
    manifest.json                                       what is in it, with each file's sha256

The manifest comes last because it holds the sha256 of every file before it, taken while the
file was written in. A restore reads the archive twice: once to check every file against the
manifest (nothing is touched until the whole archive checks out), once to unpack into a
folder inside the data folder, from which the files are renamed into place.

Example:
    >>> manifest = await create_backup(settings, Path("nightly.tar"))
    >>> await restore_backup(other_settings, Path("nightly.tar"), force=False)
"""

from server.backup.archive import create_backup, default_archive_name, restore_backup
from server.backup.manifest import BackupError, Manifest
from server.backup.progress import NO_PROGRESS, Progress

__all__ = [
    "NO_PROGRESS",
    "BackupError",
    "Manifest",
    "Progress",
    "create_backup",
    "default_archive_name",
    "restore_backup",
]
