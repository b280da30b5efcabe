"""The store simulation (`training/store_simulation.py`) and `model train --store-data`: a store
whose thefts look like nothing the base model saw is caught only after its reviews are
learned from; the reviews are kept and read back as the server keeps them; and the train
command fits on the episodes a real server wrote."""

from __future__ import annotations

import json
import pickle
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner

from server.behaviour.classifier import BehaviourModel
from server.cli import app
from server.records.people import TrackHistory
from server.runtime import Runtime
from shared.schemas.episodes import EpisodeLabel, EpisodeSource
from tests.helpers import World
from tests.posetracks.people import expected_rows
from tests.posetracks.test_labelled_episodes import alert_over, fed, review
from tests.training.builders import video
from training.dataset import person_rows
from training.fit import predict
from training.poselift import POSELIFT_FPS, PoseLiftVideo
from training.protocol import EvalData
from training.store_camera import choose_camera, clock, kept_episode, store_of
from training.store_data import load_store_videos, store_video
from training.store_simulation import main
from training.store_training import StoreEpisodes, with_store_episodes

FAST = ("--folds", "2", "--no-evaluate")  # model train without the protocol's repeat

# COCO-17 joints of a person standing in a unit box: (x, y), y down
STANDING = np.asarray(
    [
        (0.50, 0.08), (0.47, 0.06), (0.53, 0.06), (0.43, 0.08), (0.57, 0.08),  # head
        (0.35, 0.22), (0.65, 0.22), (0.30, 0.38), (0.70, 0.38),  # shoulders, elbows
        (0.30, 0.52), (0.70, 0.52),  # wrists, hanging
        (0.40, 0.55), (0.60, 0.55), (0.40, 0.75), (0.60, 0.75), (0.40, 0.95), (0.60, 0.95),
    ],
    np.float32,
)  # fmt: skip
WRISTS = (9, 10)
# where the wrists go during a theft: the base cameras' thieves bring both hands together at
# the chest; the store's raise them above the head (a pattern the base model never saw)
GESTURES = {"chest": ((0.48, 0.32), (0.52, 0.32)), "overhead": ((0.30, -0.10), (0.70, -0.10))}
SECONDS = 10  # each cut
EPISODE = (60, 105)  # frames of the labelled clip's theft: 3 s, after 4 s in view


def skeleton(
    n_frames: int, gesture: str | None, seed: int, box: Sequence[float] = (300, 200, 380, 400)
) -> TrackHistory:
    """One person standing in `box` through every frame of a cut, arms swinging a little;
    during `EPISODE` (when `gesture`) the wrists go where `GESTURES` says."""
    rng = np.random.default_rng(seed)
    x1, y1, x2, y2 = box
    points = np.tile(STANDING, (n_frames, 1, 1))
    swing = 0.03 * np.sin(np.arange(n_frames) / 7 + rng.uniform(0, 6))
    points[:, WRISTS, 0] += swing[:, None]
    if gesture is not None:
        for wrist, place in zip(WRISTS, GESTURES[gesture], strict=True):
            points[EPISODE[0] : EPISODE[1], wrist] = place
    points += rng.normal(0, 0.005, points.shape).astype(np.float32)
    scale = np.asarray([x2 - x1, y2 - y1], np.float32)
    frames = np.arange(n_frames)
    return TrackHistory(
        track_id=1,
        ts=frames / POSELIFT_FPS,
        xyxy=np.tile(np.asarray(box, np.float32), (n_frames, 1)),
        keypoints=(points * scale + np.asarray([x1, y1], np.float32)).astype(np.float32),
        keypoint_conf=np.full((n_frames, 17), 0.9, np.float32),
    )


def session(camera: int, first: int, gesture: str | None) -> list[PoseLiftVideo]:
    """A recording of three cuts, `<camera>_<first>` to `+2`: normal, a labelled clip with a
    theft in `gesture` (None: a normal-only recording), normal; the same person throughout."""
    n = round(SECONDS * POSELIFT_FPS)
    out = []
    for k in range(3):
        labelled = k == 1 and gesture is not None
        labels = None
        if labelled:
            labels = np.zeros(n, np.int8)
            labels[EPISODE[0] : EPISODE[1]] = 1
        track = skeleton(n, gesture if labelled else None, seed=camera * 1000 + first + k)
        out.append(
            PoseLiftVideo(f"{camera}_{first + k}", camera, POSELIFT_FPS, n, (track,), labels)
        )
    return out


def store_world() -> list[PoseLiftVideo]:
    """Cameras 1 and 2 (the base: chest thefts in 4 sessions each, 2 normal-only sessions)
    and camera 3, the store: 8 sessions, each with one overhead theft."""
    videos = []
    for camera in (1, 2):
        for k in range(6):
            videos += session(camera, 10 * k + 1, "chest" if k < 4 else None)
    for k in range(8):
        videos += session(3, 10 * k + 1, "overhead")
    return videos


def write_poselift(videos: Sequence[PoseLiftVideo], root: Path) -> Path:
    """`videos` as a folder in PoseLift's layout, in its own format: pickles of
    frame -> person -> [x1 y1 x2 y2, float16 (17, 3) keypoints in (y, x, conf) order]."""
    for folder in ("Train", "Test", "GT"):
        (root / folder).mkdir(parents=True)
    for clip in videos:
        frames: dict[int, dict[int, list[Any]]] = {f: {} for f in range(clip.n_frames)}
        for track in clip.tracks:
            yxc = np.concatenate([track.keypoints[..., ::-1], track.keypoint_conf[..., None]], -1)
            for row, frame in enumerate(clip.frames(track).tolist()):
                frames[frame][track.track_id] = [
                    track.xyxy[row].tolist(),
                    yxc[row].astype(np.float16),
                ]
        split = "Train" if clip.labels is None else "Test"
        (root / split / f"{clip.name}.pkl").write_bytes(pickle.dumps(frames))
        if clip.labels is not None:
            np.save(root / "GT" / f"{clip.name}.npy", clip.labels.astype(np.int64))
    return root


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """The simulation's command on the synthetic world written as PoseLift files: its
    report, the folder it kept the store's episodes in, and the plots folder."""
    root = tmp_path_factory.mktemp("store")
    data = write_poselift(store_world(), root / "poselift")
    code = main(
        [
            "--data",
            str(data),
            "--camera",
            "3",
            "--batches",
            "2",
            "--budget-per-hour",
            "240",
            "--folds",
            "3",
            "--episodes",
            str(root / "episodes"),
            "--out",
            str(root / "report.json"),
            "--plots",
            str(root / "plots"),
        ]
    )
    assert code == 0
    report = json.loads((root / "report.json").read_text(encoding="utf-8"))
    return report, root / "episodes" / "camera-3", root / "plots"


def test_a_theft_new_to_the_base_model_is_caught_once_the_stores_reviews_are_learned(
    simulated: tuple[dict[str, Any], Path, Path],
) -> None:
    report, _, plots = simulated
    [store] = report["stores"]
    assert store["store_camera"] == 3 and store["base_cameras"] == [1, 2]
    first, second = store["batches"]
    assert first["sessions"] == ["3_1-3", "3_11-13", "3_21-23", "3_31-33"]  # time order
    assert second["sessions"] == ["3_41-43", "3_51-53", "3_61-63", "3_71-73"]
    # batch 1: one model, nothing reviewed yet, its own threshold; every theft missed
    assert first["before"] == first["after"]
    assert first["before"]["threshold_source"] == "model"
    assert first["episodes"] == 4 and first["before"]["episodes_caught"] == 0
    assert first["after"]["reviews"] == {
        "theft": 0,
        "false_alarm": 0,
        "unclear": 0,
        "missed_marked": 4,  # the supervisor marks the four missed thefts
    }
    # batch 2: the budget sets both thresholds from batch 1's peaks; the base model still
    # misses the overhead thefts, the retrained one catches every one, without false alerts
    for arm in ("before", "after"):
        assert second[arm]["threshold_source"] == "budget"
    assert second["before"]["threshold"] <= second["after"]["threshold"]  # not held stricter
    assert second["before"]["episodes_caught"] == 0
    assert second["after"]["episodes_caught"] == second["episodes"] == 4
    assert second["after"]["false_alerts"] == 0
    assert second["after"]["reviews"]["theft"] == 4  # its alerts, confirmed
    assert report["total"]["before"]["episodes_caught"] == 0
    assert report["total"]["after"]["episodes_caught"] == 4
    assert report["total"]["episodes"] == 8
    assert (plots / "store-adaptation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_retraining_adds_exactly_what_the_reviews_labelled(
    simulated: tuple[dict[str, Any], Path, Path],
) -> None:
    report, episodes, _ = simulated
    first, second = report["stores"][0]["batches"]
    # the four marked thefts: their labelled frames, one person each, no margin frame
    theft_frames = EPISODE[1] - EPISODE[0]
    assert first["after_model_store_rows"] == 0
    assert second["after_model_store_rows"] == 4 * theft_frames
    grown = second["after_model_training_rows"] - first["after_model_training_rows"]
    assert grown == 4 * theft_frames

    # the files are the server's episodes, read back by the trainer's reader
    kept = load_store_videos(episodes)
    assert [(v.label, v.meta.source, v.meta.camera_id) for v in kept] == [
        (EpisodeLabel.theft, EpisodeSource.missed_theft, 3)
    ] * 4
    clips = {v.name: v for v in store_world() if v.camera == 3 and v.labels is not None}
    for number, episode in zip((2, 12, 22, 32), kept, strict=True):
        assert episode.video.labels is not None
        assert int(episode.video.labels.sum()) == int(episode.care.sum()) == theft_frames
        assert episode.meta.end - episode.meta.start == pytest.approx(
            (theft_frames - 1) / POSELIFT_FPS
        )
        assert episode.meta.kept_from == pytest.approx(episode.meta.start - 10.0)  # margins
        # the poses kept are the store camera's own: the clip's person, every frame of it
        # within the margins (the neighbouring cuts' tracks were never seen in the span)
        [track] = episode.video.tracks
        [source] = clips[f"3_{number}"].tracks
        written = source.keypoints.astype(np.float16).astype(np.float32)  # PoseLift's files
        np.testing.assert_array_equal(track.keypoints, written)
        assert episode.meta.track_ids == (number * 1000 + 1,)
    assert report["stores"][0]["store_episodes_kept"]["rows"] == 4 * theft_frames


def test_the_store_is_the_camera_with_most_episodes_in_time_ordered_batches() -> None:
    videos = []
    for camera, sessions, thefts in ((1, 8, 2), (2, 8, 5), (4, 6, 6)):
        for k in range(sessions):
            labelled = k < thefts
            videos.append(
                video(
                    f"{camera}_{10 * k + 1}",
                    30 * (k + 1),
                    [(5, 10)] if labelled else None,
                    people=[],
                )
            )
    rows = person_rows(videos)
    data = EvalData.of(rows, rows)
    assert choose_camera(data, batches=4) == 2  # camera 4 has too few sessions for 4 batches
    assert choose_camera(data, batches=3) == 4
    store = store_of(data, 2, batches=4)  # 5 episodes, in the first 5 of 8 sessions
    names = [[data.sessions.items[s].name for s in batch] for batch in store.batches]
    assert [n for batch in names for n in batch] == [f"2_{10 * k + 1}" for k in range(8)]
    assert [len(batch) for batch in names] == [1, 1, 2, 4]  # episodes 1, 1, 2, 1
    by_time = store_of(data, 2, batches=4, split="time")  # sessions of 30, 60, ... frames:
    assert [len(batch) for batch in by_time.batches] == [4, 1, 2, 1]  # a session's middle
    starts = [store.start[s] for s in store.sessions]
    assert starts == sorted(starts) and min(np.diff(starts)) > 3600  # an hour apart at least


def test_an_episode_holds_the_frames_of_all_its_poses_whatever_the_clock_rounds() -> None:
    """Unix times near 1.8e9 s round frame times by a few 1e-7 s: every span's poses must
    still lie on the episode's frames (the reader refuses poses outside them)."""
    empty = video("3_1", 1, people=[])  # 1/15 s: the next session starts off the second
    rows = person_rows([empty, *session(3, 11, "overhead")])
    data = EvalData.of(rows, rows)
    store = store_of(data, 3, batches=1)
    line = data.timelines[1]
    for start in range(len(line) - 15):
        span = clock(store, line, 1, start, start + 15)
        found = kept_episode(
            data,
            store,
            1,
            span,
            [11001, 12001, 13001],  # the person in each cut: poses in every frame
            theft=True,
            alert_id=None,
            episode_id=1,
            labelled_at=span[1],
            margin_s=10.0,
        )
        assert found is not None
        meta, kept = found
        assert kept.frame_ts[0] <= kept.ts[0] and kept.ts[-1] <= kept.frame_ts[-1]
        episode = store_video(meta, kept)  # refuses poses outside the video's frames
        assert episode.video.labels is not None and episode.video.labels.sum() == 15, start


async def test_model_train_with_store_data_fits_on_the_episodes_a_server_kept(
    client: httpx.AsyncClient, world: World, runtime: Runtime, tiny: Path, tmp_path: Path
) -> None:
    camera, admin = world.cameras[0], world.headers["admin"]
    start = time.time() - 150
    everyone = expected_rows(camera, await fed(runtime, camera, start, 140))
    theft_span, false_span = (start + 20.1, start + 35.1), (start + 80.1, start + 95.1)
    thieves = everyone.between(*theft_span).track_ids
    theft = await alert_over(runtime, camera, theft_span, thieves)
    false = await alert_over(runtime, camera, false_span, everyone.between(*false_span).track_ids)
    await review(client, admin, theft.id, outcome="confirmed_theft")
    await review(client, admin, false.id, outcome="false_alarm")

    def train(out: Path, *extra: str) -> BehaviourModel:
        result = CliRunner().invoke(
            app,
            ["model", "train", "--data", str(tiny), "--out", str(out), *FAST, *extra],
        )
        assert result.exit_code == 0, result.output
        if extra:
            assert "adding 2 store episodes (1 theft, 1 normal)" in result.output
        return BehaviourModel.load(out)

    model = train(tmp_path / "store.json", "--store-data", str(runtime.settings.data_dir))
    summary = model.info["store_data"]
    theft_poses = len(everyone.between(*theft_span).of_tracks(thieves))
    assert (summary["episodes"], summary["theft"], summary["normal"]) == (2, 1, 1)
    assert summary["theft_rows"] == theft_poses  # the labelled span's poses, margins left out
    assert summary["folder"] == str(runtime.settings.data_dir)
    # the fit learned them: the confirmed theft's poses score far higher than without them,
    # and higher than the false alarm's (the same street's walkers: only a little higher)
    plain = train(tmp_path / "plain.json")
    assert plain.info["store_data"] is None
    episodes = StoreEpisodes.load(runtime.settings.data_dir)
    stolen = episodes.care & (episodes.rows.label == 1)
    normal = np.asarray([v.label is EpisodeLabel.normal for v in episodes.videos])[
        episodes.rows.video
    ]
    assert stolen.sum() == theft_poses and normal.any()
    with_store, without = (
        predict(model.booster, episodes.rows),
        predict(plain.booster, episodes.rows),
    )
    assert with_store[stolen].mean() > without[stolen].mean() + 0.2
    assert with_store[stolen].mean() > with_store[normal].mean()


def test_store_data_without_episodes_is_refused(tmp_path: Path) -> None:
    rows = person_rows([video("1_1", 30, [(5, 10)])])
    with pytest.raises(ValueError, match="no labelled store episodes"):
        with_store_episodes(rows, np.ones(len(rows), bool), tmp_path, lambda _: None)
    unchanged = with_store_episodes(rows, np.ones(len(rows), bool), None, lambda _: None)
    assert unchanged[0] is rows and unchanged[2] is None
    arguments = ["model", "train", "--data", str(tmp_path), "--out", str(tmp_path / "m.json")]
    refused = CliRunner().invoke(app, [*arguments, "--store-data", str(tmp_path)])
    assert refused.exit_code == 1 and "no labelled store episodes" in refused.output
    assert "loaded" not in refused.output  # refused before reading PoseLift or training
    missing = CliRunner().invoke(app, [*arguments, "--store-data", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such folder" in missing.output
