"""The data directory: private to the server's user (keys, database, evidence live here)."""

import logging
import os
import stat

from server.config import SQLITE_FILE, Settings

logger = logging.getLogger(__name__)


def prepare_data_dir(settings: Settings) -> None:
    """Create the data directory (0700) and the embedded database file (0600) if missing.

    An existing directory open to others is left as it is, with a warning: it may be a
    mounted volume that the operator set up on purpose.
    """
    path = settings.data_dir
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "data directory %s is open to other users (mode %o); chmod 700 it", path, mode
        )
    if settings.database_url is None:
        fd = os.open(path / SQLITE_FILE, os.O_WRONLY | os.O_CREAT, 0o600)
        os.close(fd)
