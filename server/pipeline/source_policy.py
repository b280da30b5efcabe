"""What a camera source may make the server open: per source kind, only the FFmpeg protocols
that kind needs (no `concat:`, `subfile:`, `data:` or `pipe:`), and file sources only inside
the configured media folders."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from server.errors import InvalidRequest
from shared.schemas.cameras import SourceKind

PROTOCOLS: dict[SourceKind, str] = {
    SourceKind.rtsp: "rtsp,rtsps,tcp,udp,rtp,tls",
    SourceKind.http: "http,https,tcp,tls",
    SourceKind.file: "file",
}


def kind_of(url: str) -> SourceKind:
    """The kind a stored source string is opened as."""
    lowered = url.lower()
    if lowered.startswith(("rtsp://", "rtsps://")):
        return SourceKind.rtsp
    if lowered.startswith(("http://", "https://")):
        return SourceKind.http
    if url.isdigit() or url.startswith("/dev/video"):
        return SourceKind.usb
    return SourceKind.file


def check_file_source(path: str, folders: Sequence[Path]) -> Path:
    """The file's resolved path, when it lies inside one of `folders`.

    Raises:
        InvalidRequest: it lies elsewhere (symbolic links are followed first), or it is no
            path at all.
    """
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # ~unknown-user, a NUL, a link loop
        raise InvalidRequest(f"a file source must be a path on this server ({exc})") from exc
    if not any(resolved.is_relative_to(folder) for folder in folders):
        allowed = ", ".join(str(folder) for folder in folders)
        raise InvalidRequest(
            f"a file source must be inside a media folder ({allowed}); put the clip there, "
            "or add its folder to the media_dirs setting"
        )
    return resolved
