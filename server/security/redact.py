"""Masking credentials in camera URLs before they reach responses or logs.

DVR passwords are typed raw, so a URL may hold `#`, `/` or `?` inside its password; the
user info therefore ends at the LAST `@` of the URL. Vendors also put `password=` pairs in
the path or after `;`. When in doubt this masks more, never less, and it never raises.
"""

import re

MASK = "***"
SECRET_PAIR = re.compile(
    r"(?i)(?<![a-z0-9_])((?:password|passwd|pass|pwd|token|auth|key|secret)=)[^&;/?#\s]*"
)


def _split_user_info(url: str) -> tuple[str, str, str | None, str] | None:
    """(scheme://, user, password or None, host and the rest), or None without user info."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    user_info, at, host = rest.rpartition("@")
    if not at:
        return None
    user, colon, password = user_info.partition(":")
    if "/" in user or "?" in user or "#" in user:  # an `@` further on, not user info
        return None
    return f"{scheme}://", user, password if colon else None, host


def has_credentials(url: str) -> bool:
    parts = _split_user_info(url)
    return bool(parts and parts[2]) or SECRET_PAIR.search(url) is not None


def redact_url(url: str) -> str:
    """`rtsp://admin:p#w@dvr/ch1?password=x` → `rtsp://admin:***@dvr/ch1?password=***`."""
    parts = _split_user_info(url)
    if parts is not None and parts[2] is not None:
        prefix, user, _, rest = parts
        url = f"{prefix}{user}:{MASK}@{rest}"
        head_length = len(prefix) + len(user) + len(MASK) + 2
        return url[:head_length] + SECRET_PAIR.sub(rf"\g<1>{MASK}", url[head_length:])
    return SECRET_PAIR.sub(rf"\g<1>{MASK}", url)


def keep_secret(sent: str, stored: str | None) -> str:
    """`stored` when `sent` is its masked form (a client echoing what it was shown), so an
    edit that leaves the URL alone does not overwrite the password with `***`."""
    if stored and MASK in sent and sent == redact_url(stored):
        return stored
    return sent
