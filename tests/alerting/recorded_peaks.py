"""Recorded track peaks: the shipped behaviour model's scores on PoseLift, one row per track.

`tests/data/poselift_track_peaks.csv` holds, for every person track of the PoseLift videos
here (104 Train, 39 Test), the track's first and last second, its peak alerting score (raw
scores smoothed over the model's smoothing window and calibrated, as the live scorer makes
them and the model card measures them) and whether it is in a labelled shoplifting frame.
Videos are laid end to end in name order (`offset_s`), so the file reads as one camera's
recording of about 1.75 hours: the budget tests replay it as a camera's days
(`seed_recording` stores it as a camera's history in a running server's database).

Regenerate (about 30 s, after the model changes; the tests only read the file):

    .venv/bin/python -m tests.alerting.recorded_peaks
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from server.alerting.budget import DAY_S, PeakHistory
from server.runtime import Runtime
from server.storage.models import ScoredSpan, TrackPeak

ROOT = Path(__file__).resolve().parents[2]
RECORDED_PEAKS = ROOT / "tests" / "data" / "poselift_track_peaks.csv"
POSELIFT = Path("/work/shared/data/poselift")
COLUMNS = ("video", "offset_s", "track", "first_s", "last_s", "peak", "shoplifting")


@dataclass(frozen=True, slots=True)
class RecordedPeaks:
    """N recorded tracks, seconds from the recording's start."""

    first_s: npt.NDArray[np.float64]  # (N,)
    last_s: npt.NDArray[np.float64]  # (N,)
    peak: npt.NDArray[np.float64]  # (N,) 0..1
    shoplifting: npt.NDArray[np.bool_]  # (N,) in a labelled shoplifting frame
    length_s: float  # the recording's length

    def __len__(self) -> int:
        return int(self.peak.shape[0])


def load_recorded_peaks(path: Path = RECORDED_PEAKS) -> RecordedPeaks:
    with path.open(newline="") as source:
        rows = list(csv.DictReader(source))
    offset = np.asarray([float(r["offset_s"]) for r in rows])
    first = offset + np.asarray([float(r["first_s"]) for r in rows])
    last = offset + np.asarray([float(r["last_s"]) for r in rows])
    return RecordedPeaks(
        first_s=first,
        last_s=last,
        peak=np.asarray([float(r["peak"]) for r in rows]),
        shoplifting=np.asarray([r["shoplifting"] == "1" for r in rows]),
        length_s=float(np.ceil(last.max())) if rows else 0.0,
    )


async def seed_recording(runtime: Runtime, camera_id: int) -> PeakHistory:
    """The recording as what the camera saw over its last two days of scoring (one replay,
    starting 36 hours ago), stored under the server's model; the history it makes. Track
    ids start at 100000, apart from live ones."""
    facts = runtime.thresholds.facts
    assert facts is not None  # the shipped model file is read even with the pipeline off
    recorded = load_recorded_peaks()
    now = time.time()
    start = now - 1.5 * DAY_S
    async with runtime.sessionmaker() as session:
        session.add_all(
            TrackPeak(
                camera_id=camera_id,
                model=facts.identity,
                track_id=100_000 + track,
                first_seen=_when(start + first),
                last_seen=_when(start + last),
                peak=float(peak),
            )
            for track, (first, last, peak) in enumerate(
                zip(recorded.first_s, recorded.last_s, recorded.peak, strict=True)
            )
        )
        session.add(
            ScoredSpan(
                camera_id=camera_id,
                model=facts.identity,
                started_at=_when(now - 2 * DAY_S),
                ended_at=_when(now),
            )
        )
        await session.commit()
    return PeakHistory(start + recorded.first_s, start + recorded.last_s, recorded.peak, 2 * DAY_S)


def _when(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def record(poselift: Path = POSELIFT, out: Path = RECORDED_PEAKS) -> int:
    """Score every PoseLift track with the shipped model; write one row per track."""
    from server.behaviour.classifier import MODEL_NAME, BehaviourModel
    from server.weights import DEFAULT_WEIGHTS_DIR
    from training.dataset import person_rows, smoothed_scores
    from training.poselift import load_split

    model = BehaviourModel.load(DEFAULT_WEIGHTS_DIR / MODEL_NAME)
    videos = sorted(
        load_split(poselift, "Train") + load_split(poselift, "Test"), key=lambda v: v.name
    )
    rows = person_rows(videos, model.spec)
    raw = model.raw_scores(rows.features)
    score = model.policy.calibration.apply(smoothed_scores(rows, raw, model.policy.smoothing_s))
    offsets = np.concatenate([[0.0], np.cumsum([v.n_frames / v.fps for v in videos])])
    written = 0
    with out.open("w", newline="") as sink:
        writer = csv.writer(sink)
        writer.writerow(COLUMNS)
        for index, video in enumerate(videos):
            mine = rows.video == index
            for track in np.unique(rows.track[mine]).tolist():
                at = mine & (rows.track == track)
                seconds = rows.frame[at] / video.fps
                writer.writerow(
                    [
                        video.name,
                        f"{offsets[index]:.3f}",
                        track,
                        f"{seconds.min():.3f}",
                        f"{seconds.max():.3f}",
                        f"{score[at].max():.5f}",
                        int(rows.label[at].max()),
                    ]
                )
                written += 1
    return written


if __name__ == "__main__":
    count = record()
    print(f"{count} tracks written to {RECORDED_PEAKS}")  # noqa: T201
