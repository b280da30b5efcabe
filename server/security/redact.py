"""Masking credentials in camera URLs before they reach responses or logs."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
SECRET_PARAMS = frozenset({"password", "pwd", "pass", "passwd", "token", "auth", "key", "secret"})


def has_credentials(url: str) -> bool:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    return bool(parts.password or any(k.lower() in SECRET_PARAMS for k, _ in query))


def redact_url(url: str) -> str:
    """`rtsp://admin:pw@dvr/ch1?password=x` → `rtsp://admin:***@dvr/ch1?password=***`."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user_info, _, host = netloc.rpartition("@")
        user = user_info.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in SECRET_PARAMS for k, _ in query):
        masked = [(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in query]
        query_text = urlencode(masked, safe="*{}")
    else:
        query_text = parts.query
    return urlunsplit((parts.scheme, netloc, parts.path, query_text, parts.fragment))
