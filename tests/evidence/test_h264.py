"""H.264 framing: avcC parameter sets and length-prefixed NAL units to start codes."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from server.evidence.h264 import START, H264FormatError, parameter_sets, to_annexb
from tests.pipeline.media import read_packets, synthetic_video


def test_mp4_packets_become_start_code_packets_with_the_same_nal_units(tmp_path: Path) -> None:
    source = synthetic_video(tmp_path / "cam.mp4", frames=10)
    with av.open(str(source)) as container:
        extradata = bytes(container.streams.video[0].codec_context.extradata or b"")
    sets, length_size = parameter_sets(extradata)
    assert length_size == 4 and sets.startswith(START) and sets.count(START) == 2  # SPS, PPS
    first = bytes(read_packets(source)[0])
    converted = to_annexb(first, length_size)
    assert converted.startswith(START)
    assert len(converted) == len(first)  # 4-byte lengths became 4-byte start codes


def test_start_code_streams_pass_through_and_broken_bytes_are_refused() -> None:
    annexb = START + b"\x67abc" + START + b"\x68de"
    assert parameter_sets(annexb) == (annexb, None)  # RTSP-style extradata
    assert parameter_sets(None) == (b"", None)
    assert to_annexb(b"\x00\x00\x00\x01\x65xyz", None) == b"\x00\x00\x00\x01\x65xyz"
    with pytest.raises(H264FormatError, match="truncated"):
        parameter_sets(b"\x01\x64\x00\x1f\xff\xe1\x00\x20\x67")
    with pytest.raises(H264FormatError, match="runs past"):
        to_annexb(b"\x00\x00\x00\x09\x65ab", 4)
