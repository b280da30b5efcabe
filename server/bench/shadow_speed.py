"""What a candidate model in shadow adds to scoring, per scored frame, on one core:

    .venv/bin/python -m server.bench.shadow_speed [--model weights/behaviour-xgb.json]

A camera's scorers (`pipeline.scorers.CameraScorers`) score N real pedestrians (recorded
vtest poses, walking, as `behaviour_speed` replays them) through a real `Tracker` at 5 fps
with the active model and, in shadow, a candidate (the same model at another threshold: the
same work as any XGBoost candidate of the same size). Each scored frame is timed whole and
in its candidate's share (what the shadow adds), so both are measured on the same frames
(a busy machine disturbs both alike). Prints the medians for 1, 5, 10 and 20 people, the
lowest of `--rounds` rounds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from server.behaviour.classifier import BehaviourModel
from server.behaviour.ensemble import member_files
from server.behaviour.live import CameraScorers, LiveModels
from server.behaviour.models import MODEL_FILE
from server.behaviour.registry import ModelRegistry
from server.bench.behaviour_speed import people_at, walking_person
from server.pipeline.tracking import Tracker
from server.records.people import TrackHistory
from server.weights import DEFAULT_WEIGHTS_DIR, sha_path


def per_frame_ms(models: LiveModels, person: TrackHistory, count: int) -> tuple[float, float]:
    """Median ms of the active model's and of the candidate's share of
    `CameraScorers.score` with `count` people, once the windows have filled."""
    tracker = Tracker(fps=5.0, history_s=models.pair.history_s())
    scorers = CameraScorers(models, tracker)
    window = models.pair.history_s()
    active: list[float] = []
    shadow: list[float] = []
    for step in range(80):
        ts = step / 5.0
        tracks = tracker.update(people_at(person, count, ts % person.span_s), ts)
        if not scorers.due(ts):
            continue
        before = scorers.shadow_time.total_s
        started = time.perf_counter()
        scorers.score(tracks, tracker)
        whole = time.perf_counter() - started
        share = scorers.shadow_time.total_s - before
        if ts >= window:
            active.append((whole - share) * 1000)
            shadow.append(share * 1000)
    return statistics.median(active), statistics.median(shadow)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--model", type=Path, default=DEFAULT_WEIGHTS_DIR / MODEL_FILE)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    person = walking_person()
    with tempfile.TemporaryDirectory() as folder:
        registry = ModelRegistry(Path(folder), args.model)
        model = BehaviourModel.load(args.model)  # the main file: for an ensemble, its policy
        policy = replace(model.policy, threshold=model.policy.threshold / 2)
        candidate = registry.candidate_path
        for member in member_files(args.model):  # an ensemble's network, beside it
            candidate.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(member, candidate.with_name(member.name))
            shutil.copyfile(sha_path(member), candidate.with_name(sha_path(member).name))
        BehaviourModel(model.booster, model.spec, policy, model.info, model.members).save(candidate)
        models = LiveModels(registry)
        models.load()
        assert models.pair.candidate is not None, models.candidate_error
        for count in (1, 5, 10, 20):
            rounds = [per_frame_ms(models, person, count) for _ in range(args.rounds)]
            active = min(a for a, _ in rounds)
            shadow = min(s for _, s in rounds)
            sys.stdout.write(
                f"{count} people: active model {active:.2f} ms, candidate in shadow "
                f"+{shadow:.2f} ms per scored frame\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
