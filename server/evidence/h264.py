"""H.264 framing for remuxing: packets from MP4 files carry length-prefixed NAL units and
keep SPS/PPS out of band (avcC); RTSP packets carry start codes. The MP4 muxer takes
start-code (Annex B) packets with SPS/PPS in the keyframes and builds its own avcC, so a
clip is written from any H.264 camera without re-encoding: only the framing changes."""

from __future__ import annotations

START = b"\x00\x00\x00\x01"


class H264FormatError(ValueError):
    """Bytes that are not the H.264 framing they claim to be."""


def parameter_sets(extradata: bytes | None) -> tuple[bytes, int | None]:
    """The stream's SPS/PPS as Annex B bytes, and the NAL length size of its packets (None
    when the packets use start codes, as RTSP's do)."""
    if not extradata:
        return b"", None
    if extradata[0] != 1:  # already Annex B (RTSP, MPEG-TS)
        return extradata, None
    if len(extradata) < 7:
        raise H264FormatError("avcC extradata is truncated")
    length_size = (extradata[4] & 3) + 1
    sets, at = [], 5
    for count_mask in (0x1F, 0xFF):  # SPS count (low 5 bits), then PPS count
        if at >= len(extradata):
            raise H264FormatError("avcC extradata is truncated")
        count, at = extradata[at] & count_mask, at + 1
        for _ in range(count):
            size = int.from_bytes(extradata[at : at + 2], "big")
            unit = extradata[at + 2 : at + 2 + size]
            if len(unit) != size:
                raise H264FormatError("avcC extradata is truncated")
            sets.append(START + unit)
            at += 2 + size
    return b"".join(sets), length_size


def to_annexb(data: bytes, length_size: int | None) -> bytes:
    """A packet's NAL units with start codes (unchanged when it has them already)."""
    if length_size is None:
        return data
    out, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at : at + length_size], "big")
        unit = data[at + length_size : at + length_size + size]
        if size == 0 or len(unit) != size:
            raise H264FormatError("a NAL unit runs past the end of its packet")
        out.append(START + unit)
        at += length_size + size
    return b"".join(out)
