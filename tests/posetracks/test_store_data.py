"""The trainer's side: the episodes a store's reviews kept, read from the server's data folder
as labelled training videos whose frames are the poses the pipeline saw."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from server.posetracks.episodes import EpisodeMeta, episode_bytes
from server.posetracks.rows import PoseDataError, PoseRows
from server.records.people import TrackHistory
from server.runtime import Runtime
from shared.schemas.episodes import EpisodeLabel, EpisodeSource
from tests.helpers import World
from tests.posetracks.people import expected_rows, tracked_frames
from tests.posetracks.test_labelled_episodes import (
    API,
    MARGIN_S,
    alert_over,
    fed,
    mark_body,
    review,
)
from training.dataset import person_rows
from training.store_data import describe, episode_fps, load_store_videos, store_video


def assert_video_is_rows(video_tracks: tuple[TrackHistory, ...], rows: PoseRows, t0: float) -> None:
    """Each track of the video holds exactly its written poses, at their times from `t0`."""
    histories = rows.histories()
    assert [h.track_id for h in video_tracks] == [h.track_id for h in histories]
    for got, want in zip(video_tracks, histories, strict=True):
        np.testing.assert_array_equal(got.keypoints, want.keypoints)
        np.testing.assert_array_equal(got.keypoint_conf, want.keypoint_conf)
        np.testing.assert_array_equal(got.xyxy, want.xyxy)
        np.testing.assert_allclose(got.ts, want.ts - t0, atol=1e-6)


async def test_the_stores_reviews_read_back_as_labelled_training_videos(
    client: httpx.AsyncClient, world: World, runtime: Runtime
) -> None:
    camera, admin = world.cameras[0], world.headers["admin"]
    start = time.time() - 150
    everyone = expected_rows(camera, await fed(runtime, camera, start, 140))
    theft_span, false_span, missed_span = (
        (start + 20.1, start + 30.1),
        (start + 60.1, start + 65.1),
        (start + 100.1, start + 110.1),
    )
    theft = await alert_over(runtime, camera, theft_span, everyone.between(*theft_span).track_ids)
    false = await alert_over(
        runtime, camera, false_span, everyone.between(*false_span).track_ids[:1]
    )
    await review(client, admin, theft.id, outcome="false_alarm")
    await review(client, admin, theft.id, outcome="confirmed_theft")  # changed its mind
    await review(client, admin, false.id, outcome="false_alarm")
    response = await client.post(
        f"{API}/cameras/{camera}/missed-thefts", headers=admin, json=mark_body(*missed_span)
    )
    assert response.status_code == 201, response.text
    assert len(runtime.pose_tracks.store.files("episodes/")) == 4  # one replaced, not yet swept

    videos = load_store_videos(runtime.settings.data_dir)
    assert [(v.meta.alert_id, v.label, v.meta.source) for v in videos] == [
        (theft.id, EpisodeLabel.theft, EpisodeSource.alert_review),  # the later review holds
        (false.id, EpisodeLabel.normal, EpisodeSource.alert_review),
        (None, EpisodeLabel.theft, EpisodeSource.missed_theft),
    ]
    for video, span in zip(videos, (theft_span, false_span, missed_span), strict=True):
        kept = everyone.between(span[0] - MARGIN_S, span[1] + MARGIN_S)
        rows = kept.of_tracks(video.meta.track_ids)
        t0 = float(kept.frame_ts[0])
        clip = video.video
        assert clip.name == f"store-c{camera}-e{video.meta.episode_id}" and clip.camera == camera
        assert clip.fps == 5.0 and clip.n_frames == kept.frames  # one grid frame per frame
        assert_video_is_rows(clip.tracks, rows, t0)
        assert clip.labels is not None
        grid = t0 + np.arange(clip.n_frames) / clip.fps
        inside = (grid >= span[0]) & (grid <= span[1])
        if video.label is EpisodeLabel.theft:
            np.testing.assert_array_equal(clip.labels, inside.astype(np.int8))
            np.testing.assert_array_equal(video.care, inside)  # margins: context only
            assert clip.labels.sum() == 50  # 10 s at 5 fps
        else:
            assert not clip.labels.any() and video.care.all()
        # the training rows: one per kept pose, labelled by its frame
        training = person_rows([clip])
        assert len(training) == len(rows)
        labelled = (rows.ts >= span[0]) & (rows.ts <= span[1])
        if video.label is EpisodeLabel.theft:
            assert training.label.sum() == labelled.sum() > 0
        else:
            assert training.label.sum() == 0
    assert describe(videos) == {
        "episodes": 3,
        "theft": 2,
        "normal": 1,
        "cameras": [camera],
        "people": sum(len(v.video.tracks) for v in videos),
        "hours": round((150 + 125 + 150) / 5 / 3600, 4),  # 30, 25 and 30 s kept
    }
    # the pose-tracks folder itself, or a folder of copied episode files, read the same
    assert len(load_store_videos(runtime.settings.data_dir / "pose-tracks")) == 3


def test_jittered_and_dropped_frames_land_on_the_grid(tmp_path: Path) -> None:
    """A live camera's analysis times wobble and frames drop: poses snap to 5 fps frames."""
    frames = tracked_frames(7, 1_800_000_000.0, seconds=20)
    rng = np.random.default_rng(3)
    jitter = rng.uniform(-0.04, 0.04, len(frames))
    kept = [i for i in range(len(frames)) if i % 17 != 5]  # some frames dropped
    rows = expected_rows(7, [frames[i] for i in kept])
    shift = dict(zip(rows.frame_ts.tolist(), jitter[kept].tolist(), strict=True))
    wobbly = PoseRows(
        7,
        rows.frame_ts + np.asarray([shift[t] for t in rows.frame_ts.tolist()]),
        rows.frame_wh,
        rows.ts + np.asarray([shift[t] for t in rows.ts.tolist()]),
        rows.track_id,
        rows.xyxy,
        rows.keypoints,
        rows.keypoint_conf,
        rows.score,
    )
    t0 = float(wobbly.frame_ts[0])
    meta = EpisodeMeta(
        1, 1, 7, EpisodeSource.missed_theft, EpisodeLabel.theft, None,
        t0 + 5.0, t0 + 9.0, t0, t0 + 20.0, tuple(rows.track_ids), time.time(),
    )  # fmt: skip
    assert episode_fps(wobbly.frame_ts) == 5.0
    video = store_video(meta, wobbly)
    assert video.video.n_frames == 100  # 0..19.8 s: every grid frame, dropped ones too
    for track, history in zip(video.video.tracks, rows.histories(), strict=True):
        np.testing.assert_allclose(track.ts, history.ts - rows.frame_ts[0], atol=1e-6)
        np.testing.assert_array_equal(track.keypoints, history.keypoints)
    assert video.video.labels is not None and video.video.labels.sum() == 21  # 5.0 .. 9.0 s
    (tmp_path / "episodes").mkdir()
    (tmp_path / "episodes" / "1-1.npz").write_bytes(episode_bytes(meta, wobbly))
    [read] = load_store_videos(tmp_path)
    assert read.video.n_frames == 100 and read.meta == meta
    (tmp_path / "episodes" / "2-1.npz").write_bytes(wobbly.to_bytes())  # a chunk, not an episode
    with pytest.raises(PoseDataError, match=r"2-1\.npz: a pose file without episode meta"):
        load_store_videos(tmp_path)
