"""The temporal network in training: each row's inputs are the server's for that moment, a
fit learns a planted pattern and repeats exactly, and the exported ONNX file scores in ONNX
Runtime as the torch network does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import torch
from sklearn.metrics import roc_auc_score

from server.behaviour.sequence import (
    CHANNELS,
    DEFAULT_SEQUENCE_SPEC,
    SequenceModel,
    metadata_path,
    sequence_inputs,
)
from server.records.people import NUM_KEYPOINTS, TrackHistory
from server.weights import is_recorded
from tests.behaviour.motion import STANDING, STANDING_BOX
from training.dataset import PersonRows, cut, person_rows
from training.poselift import PoseLiftVideo, load_split
from training.temporal.export import export_sequence
from training.temporal.fit import (
    SequenceFit,
    TrainSettings,
    fit_sequence,
    mirror_map,
    predict_sequence,
)
from training.temporal.learner import SequenceLearner
from training.temporal.network import TemporalNet, parameter_count
from training.temporal.rows import RowTracks

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"
SPEC = DEFAULT_SEQUENCE_SPEC
FPS = 15.0
QUICK = TrainSettings(epochs=10, batch=64, normal_every=1, threads=1)


def mini_rows(normal_piece_s: float | None = None) -> PersonRows:
    return person_rows(
        load_split(MINI, "Train") + load_split(MINI, "Test"), normal_piece_s=normal_piece_s
    )


def until(history: TrackHistory, end: float) -> TrackHistory:
    """What the live tracker holds of `history` at `end`: its last `SPEC.history_s` s."""
    inside = (history.ts <= end + 1e-9) & (history.ts >= end - SPEC.history_s - 1e-9)
    return TrackHistory(
        history.track_id,
        history.ts[inside],
        history.xyxy[inside],
        history.keypoints[inside],
        history.keypoint_conf[inside],
    )


@pytest.mark.parametrize("piece_s", [None, 1.0])
def test_each_rows_inputs_are_the_live_windows_of_its_track(piece_s: float | None) -> None:
    """Rows of the mini release (normal-only tracks whole, or cut in 1 s pieces as training
    cuts them) get the inputs the server makes from the tracker's history at that frame."""
    rows = mini_rows(piece_s)
    made = RowTracks.of(rows).inputs(np.arange(len(rows)))
    assert made.shape == (len(rows), len(CHANNELS), SPEC.steps)
    for i in range(len(rows)):
        video = rows.videos[int(rows.video[i])]
        track_id = int(rows.track[i])
        tracks = {t.track_id: t for t in video.tracks}
        if track_id not in tracks:  # a cut piece: the track's id x 1000 + the piece's number
            assert piece_s is not None and video.labels is None
            whole = tracks[track_id // 1000]
            tracks = {p.track_id: p for p in cut(whole, piece_s)}
        end = float(rows.frame[i] / video.fps)
        live = sequence_inputs([until(tracks[track_id], end)], [[end]])
        np.testing.assert_array_equal(made[i], live[0])
    assert (made[:, CHANNELS.index("box_seen")] == 1).any()
    some = np.asarray([5, 0, 3])
    np.testing.assert_array_equal(RowTracks.of(rows).inputs(some), made[some])


def test_the_network_is_small() -> None:
    assert 10_000 <= parameter_count(TemporalNet(len(CHANNELS))) <= 15_000


def test_a_mirrored_window_swaps_sides_and_mirrored_twice_is_itself() -> None:
    swap, sign = mirror_map()
    x = torch.randn(4, len(CHANNELS), SPEC.steps)
    mirrored = x[:, swap] * sign
    left, right = CHANNELS.index("left_wrist_x"), CHANNELS.index("right_wrist_x")
    torch.testing.assert_close(mirrored[:, left], -x[:, right])
    vy = CHANNELS.index("left_ankle_vy")
    torch.testing.assert_close(mirrored[:, vy], x[:, CHANNELS.index("right_ankle_vy")])
    torch.testing.assert_close(mirrored[:, CHANNELS.index("box_h")], x[:, CHANNELS.index("box_h")])
    torch.testing.assert_close((mirrored[:, swap] * sign), x)


def person(
    n_frames: int,
    pocket_at: list[float],
    shelf_at: list[float],
    rng: np.random.Generator,
    track_id: int = 1,
) -> TrackHistory:
    """A person standing (randomly placed and sized, with pixel noise) whose right wrist
    goes to the right hip (the pocket) at the `pocket_at` times and up to a shelf at the
    `shelf_at` ones: 0.5 s there, 1 s staying, 0.5 s back."""
    ts = np.arange(n_frames) / FPS
    hang, hip, shelf = STANDING[10], STANDING[12] + [0, -5], STANDING[10] + [-90, -150]
    wrist = np.repeat(hang[None], n_frames, axis=0).astype(np.float64)
    for starts, target in ((pocket_at, hip), (shelf_at, shelf)):
        for t0 in starts:
            share = np.interp(ts, [t0, t0 + 0.5, t0 + 1.5, t0 + 2.0], [0, 1, 1, 0])
            wrist += share[:, None] * (target - hang)
    kp = np.repeat(STANDING[None], n_frames, axis=0).astype(np.float64)
    kp[:, 10] = wrist
    kp[:, 8] = (STANDING[6] + wrist) / 2 + [-8, 0]
    scale, shift = rng.uniform(0.5, 2.0), rng.uniform(-300, 300, size=2)
    kp = kp * scale + shift + rng.normal(0, 1.5 * scale, kp.shape)
    box = np.tile(STANDING_BOX * scale + np.tile(shift, 2), (n_frames, 1))
    return TrackHistory(
        track_id=track_id,
        ts=ts,
        xyxy=box.astype(np.float32),
        keypoints=kp.astype(np.float32),
        keypoint_conf=np.full((n_frames, NUM_KEYPOINTS), 0.9, np.float32),
    )


def planted(seed: int, labelled: int, normal: int) -> list[PoseLiftVideo]:
    """Labelled 8 s clips where a hand to the pocket (labelled from its start to 2 s
    later) and a reach to a shelf (not labelled) come in random order, and normal-only 12 s
    videos with shelf reaches alone."""
    rng = np.random.default_rng(seed)
    videos = []
    for number in range(labelled):
        pocket, shelf = (1.0, 5.0) if rng.random() < 0.5 else (5.0, 1.0)
        pocket += rng.uniform(0, 1.5)
        n = int(8 * FPS)
        labels = ((np.arange(n) / FPS >= pocket) & (np.arange(n) / FPS < pocket + 2.0)).astype(
            np.int8
        )
        track = person(n, [pocket], [shelf + rng.uniform(0, 1.5)], rng)
        videos.append(PoseLiftVideo(f"1_{seed * 100 + number}", 1, FPS, n, (track,), labels))
    for number in range(normal):
        n = int(12 * FPS)
        track = person(n, [], [rng.uniform(0.5, 3.0), rng.uniform(6.0, 9.0)], rng)
        videos.append(PoseLiftVideo(f"2_{seed * 100 + number}", 2, FPS, n, (track,), None))
    return videos


def auc(rows: PersonRows, raw: npt.NDArray[np.float64]) -> float:
    labelled = np.array([v.labels is not None for v in rows.videos])[rows.video]
    return float(roc_auc_score(rows.label[labelled], raw[labelled]))


def test_a_fit_learns_a_planted_pattern_and_repeats_exactly() -> None:
    """Hands to the pocket are shoplifting, reaches to a shelf are not: a fit on some
    videos tells them apart in other videos, from keypoints alone."""
    train = person_rows(planted(1, labelled=12, normal=4), normal_piece_s=4.0)
    held = person_rows(planted(2, labelled=8, normal=0))
    lines: list[str] = []
    fitted = fit_sequence(train, settings=QUICK, say=lines.append)
    assert lines[0].startswith("fitting ") and lines[-1].startswith(f"epoch {QUICK.epochs}/")
    assert fitted.epochs[-1].loss < fitted.epochs[0].loss
    raw = predict_sequence(fitted, held)
    assert raw.dtype == np.float64 and raw.shape == (len(held),)
    assert auc(held, raw) > 0.9
    untrained = SequenceFit(TemporalNet(len(CHANNELS)).eval(), SPEC, QUICK, rows=0, epochs=())
    assert auc(held, predict_sequence(untrained, held)) < 0.75
    again = SequenceLearner(QUICK)
    np.testing.assert_array_equal(
        again.predict(again.fit(train, np.ones(len(train), bool)), held), raw
    )


def test_a_fit_needs_both_classes() -> None:
    rows = mini_rows()
    with pytest.raises(ValueError, match="both classes"):
        fit_sequence(rows, rows.label == 0, settings=QUICK)


def test_the_exported_model_scores_in_onnx_runtime_as_in_torch(tmp_path: Path) -> None:
    rows = mini_rows(1.0)
    torch.manual_seed(3)
    net = TemporalNet(len(CHANNELS)).eval()
    x = RowTracks.of(rows).inputs(np.arange(len(rows)))
    std, mean = torch.std_mean(torch.from_numpy(x), dim=(0, 2))
    net.set_scale(mean, std.clamp(min=1e-3))
    with torch.no_grad():
        for p in net.parameters():  # weights large enough to spread the scores out
            p.mul_(3.0)
    fitted = SequenceFit(net, SPEC, QUICK, rows=len(rows), epochs=())
    expected = predict_sequence(fitted, rows)
    assert expected.std() > 0.05
    path = export_sequence(fitted, tmp_path, {"data": {"labelled_videos": 1}})
    assert path.name == "behaviour-tcn.onnx" and is_recorded(path)
    assert is_recorded(metadata_path(path))
    model = SequenceModel.load(path)
    assert model.info["parameters"] == parameter_count(net)
    assert model.info["data"] == {"labelled_videos": 1}
    np.testing.assert_allclose(model.raw_scores(x), expected, atol=1e-5)
    for batch in (1, 5, 10):
        np.testing.assert_allclose(model.raw_scores(x[:batch]), expected[:batch], atol=1e-5)
    assert not list(tmp_path.glob("*.partial"))
