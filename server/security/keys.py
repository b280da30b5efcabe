"""The JWT signing key: from settings, or generated once into the data directory (mode 0600)."""

import logging
import os
import secrets
import stat
from pathlib import Path

from server.config import Settings, strong_secret
from server.errors import ConfigError

logger = logging.getLogger(__name__)

KEY_FILE = "jwt_secret.key"


def load_signing_key(settings: Settings) -> str:
    """Return the signing key, creating `<data_dir>/jwt_secret.key` on first start."""
    if settings.auth.jwt_secret is not None:
        return settings.auth.jwt_secret.get_secret_value()
    path = settings.data_dir / KEY_FILE
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_existing(path, production=settings.mode == "production")
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_urlsafe(48))
    logger.info("generated a new token signing key in %s", path)
    return path.read_text().strip()


def _read_existing(path: Path, *, production: bool) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        if production:
            raise ConfigError(f"{path} is readable by others (mode {mode:o}); chmod 600 it")
        logger.warning("%s had mode %o; tightened to 600", path, mode)
        path.chmod(0o600)
    key = path.read_text().strip()
    if not strong_secret(key):
        raise ConfigError(f"{path} holds a weak key; delete it to generate a new one")
    return key
