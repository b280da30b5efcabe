"""Track peaks: each live track's highest alerting score, per camera, and the time scored.

`PeakTracker.take` is a pipeline sink (on the event loop, quick: dictionary updates). A track
is finished once it has not been seen for `gone_after_s` (the tracker never reuses an id),
or when the camera or server stops (`collect(everything=True)`); `collect` hands finished
tracks and the spans of scored time out in batches, for `thresholds.py` to store. Scores
only: no pixels, no poses.

A span is a stretch of a camera's scored frames (the behaviour model's verdicts, every few
frames, people or not) without a gap over `span_gap_s`; spans are what "days observed"
counts, so a camera that was off or unscored does not dilute its alerts per day.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.records.analysis import FrameAnalysis

GONE_AFTER_S = 5.0  # a track not seen for this long is finished
SPAN_GAP_S = 30.0  # scored frames further apart than this start a new span


@dataclass(frozen=True, slots=True)
class FinishedTrack:
    """One track's peak alerting score, over the seconds it was seen."""

    camera_id: int
    track_id: int
    first_seen: float  # Unix seconds
    last_seen: float
    peak: float  # 0..1


@dataclass(slots=True)
class ScoringSpan:
    """A stretch of time a camera's frames were scored, Unix seconds."""

    camera_id: int
    started: float
    ended: float


@dataclass(slots=True)
class _LiveTrack:
    first_seen: float
    last_seen: float
    peak: float


@dataclass(frozen=True, slots=True)
class PeakBatch:
    """What `collect` hands out: finished tracks, and every span touched since the last
    batch (a span still open comes again, longer, in the next one)."""

    tracks: list[FinishedTrack]
    spans: list[ScoringSpan]


class PeakTracker:
    """Live tracks' peaks and scoring spans of every camera this process runs."""

    def __init__(self, gone_after_s: float = GONE_AFTER_S, span_gap_s: float = SPAN_GAP_S) -> None:
        self.gone_after_s, self.span_gap_s = gone_after_s, span_gap_s
        self._live: dict[tuple[int, int], _LiveTrack] = {}
        self._spans: dict[int, ScoringSpan] = {}  # each camera's open span
        self._closed: list[ScoringSpan] = []
        self._touched: set[int] = set()  # cameras whose open span grew since `collect`

    def take(self, analysis: FrameAnalysis, /) -> None:
        """Fold one analysed frame in."""
        tracks, verdicts = analysis.tracks, analysis.verdicts
        camera, ts = analysis.camera_id, tracks.ts
        for track_id in tracks.track_id.tolist():  # seen, scored this frame or not
            live = self._live.get((camera, track_id))
            if live is not None:
                live.last_seen = max(live.last_seen, ts)
        if verdicts is None:
            return
        self._extend_span(camera, verdicts.ts)
        for track_id, score in zip(
            verdicts.track_id.tolist(), verdicts.score.tolist(), strict=True
        ):
            live = self._live.get((camera, track_id))
            if live is None:
                self._live[(camera, track_id)] = _LiveTrack(verdicts.ts, verdicts.ts, score)
            else:
                live.last_seen = max(live.last_seen, verdicts.ts)
                live.peak = max(live.peak, score)

    @property
    def live_tracks(self) -> int:
        return len(self._live)

    def collect(self, now: float, *, everything: bool = False) -> PeakBatch:
        """Take out the tracks finished by `now` (all of them with `everything`, as when the
        server stops) and the spans touched since the last call."""
        done = [
            key
            for key, live in self._live.items()
            if everything or now - live.last_seen > self.gone_after_s
        ]
        tracks = []
        for camera, track_id in done:
            live = self._live.pop((camera, track_id))
            tracks.append(
                FinishedTrack(camera, track_id, live.first_seen, live.last_seen, live.peak)
            )
        spans = self._closed + [
            ScoringSpan(s.camera_id, s.started, s.ended)
            for camera, s in self._spans.items()
            if camera in self._touched
        ]
        self._closed, self._touched = [], set()
        if everything:
            self._spans.clear()
        return PeakBatch(tracks, spans)

    def _extend_span(self, camera: int, ts: float) -> None:
        span = self._spans.get(camera)
        if span is not None and ts - span.ended <= self.span_gap_s:
            span.ended = max(span.ended, ts)
        else:
            if span is not None:
                self._closed.append(span)
            self._spans[camera] = ScoringSpan(camera, ts, ts)
        self._touched.add(camera)
