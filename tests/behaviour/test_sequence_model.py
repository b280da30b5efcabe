"""The temporal model files: a real ONNX model (sigmoid of its input's mean, built with
`onnx` here, no torch) and its metadata load and score; every way the pair can be wrong
is refused with a message naming the file and the fault; the shipped model loads."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from server.behaviour.sequence import (
    CHANNELS,
    DEFAULT_SEQUENCE_SPEC,
    INPUT_NAME,
    OUTPUT_NAME,
    SEQUENCE_MODEL_NAME,
    SequenceModel,
    SequenceSpec,
    metadata_document,
    metadata_path,
    sequence_inputs,
)
from server.errors import ModelError
from server.weights import record_sha, sha256_of
from training.poselift import load_split

WEIGHTS = Path(__file__).parents[2] / "weights"
MINI = Path(__file__).parents[1] / "data" / "poselift_mini"
SPEC = replace(DEFAULT_SEQUENCE_SPEC, steps=10)


def write_mean_model(
    path: Path,
    shape: tuple[str | int, int, int] = ("batch", len(CHANNELS), SPEC.steps),
    spec: SequenceSpec = SPEC,
    channels: list[str] | None = None,
) -> Path:
    """An ONNX model scoring sigmoid(mean of the input), its metadata and sha256 files."""
    x = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [shape[0], 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [2], [1, 2])
    nodes = [
        helper.make_node("ReduceMean", [INPUT_NAME, "axes"], ["mean"], keepdims=1),
        helper.make_node("Flatten", ["mean"], ["flat"], axis=1),
        helper.make_node("Sigmoid", ["flat"], [OUTPUT_NAME]),
    ]
    graph = helper.make_graph(nodes, "mean", [x], [y], initializer=[axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    onnx.save(model, str(path))
    record_sha(path)
    document = metadata_document(spec, sha256_of(path), {"note": "test"})
    if channels is not None:
        document["input"]["channels"] = channels
    write_metadata(path, document)
    return path


def write_metadata(model: Path, document: Any) -> None:
    meta = metadata_path(model)
    meta.write_text(json.dumps(document), encoding="utf-8")
    record_sha(meta)


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    return write_mean_model(tmp_path / SEQUENCE_MODEL_NAME)


def test_a_model_loads_with_its_spec_and_scores(model_file: Path) -> None:
    assert metadata_path(model_file).name == "behaviour-tcn.json"
    model = SequenceModel.load(model_file)
    assert model.spec == SPEC and model.info == {"note": "test"}
    x = np.zeros((3, len(CHANNELS), SPEC.steps), np.float32)
    x[1] += 1.0
    x[2] -= 2.0
    np.testing.assert_allclose(
        model.raw_scores(x), 1 / (1 + np.exp(-np.array([0.0, 1.0, -2.0]))), rtol=1e-6
    )
    assert model.raw_scores(x).dtype == np.float64
    assert model.raw_scores(x[:0]).shape == (0,)
    with pytest.raises(ValueError, match="shape"):
        model.raw_scores(np.zeros((1, len(CHANNELS), SPEC.steps + 1), np.float32))
    (video,) = load_split(MINI, "Test")
    track = video.tracks[0]
    direct = model.score([track], [track.ts[-2:]])
    assert direct.shape == (2,)
    np.testing.assert_array_equal(
        direct, model.raw_scores(sequence_inputs([track], [track.ts[-2:]], SPEC))
    )


def test_a_missing_model_or_metadata_is_refused(model_file: Path) -> None:
    metadata_path(model_file).unlink()
    with pytest.raises(ModelError, match=r"behaviour-tcn\.json not found"):
        SequenceModel.load(model_file)
    with pytest.raises(ModelError, match=r"elsewhere\.onnx not found: train one"):
        SequenceModel.load(model_file.with_name("elsewhere.onnx"))


@pytest.mark.parametrize("which", ["model", "metadata"])
def test_a_file_changed_since_its_sha256_is_refused(model_file: Path, which: str) -> None:
    target = model_file if which == "model" else metadata_path(model_file)
    target.write_bytes(target.read_bytes() + b" ")
    with pytest.raises(ModelError, match=rf"{target.name} does not match its sha256"):
        SequenceModel.load(model_file)


def test_a_model_other_than_its_metadata_describes_is_refused(
    model_file: Path, tmp_path: Path
) -> None:
    longer = replace(SPEC, steps=SPEC.steps + 1)
    other = write_mean_model(tmp_path / "other.onnx", ("batch", len(CHANNELS), 11), longer)
    model_file.write_bytes(other.read_bytes())
    record_sha(model_file)
    with pytest.raises(ModelError, match=r"not the file its metadata behaviour-tcn\.json"):
        SequenceModel.load(model_file)


def test_a_corrupt_model_is_refused(model_file: Path) -> None:
    model_file.write_bytes(b"\x08\x07 not a protobuf")
    record_sha(model_file)
    document = json.loads(metadata_path(model_file).read_text())
    write_metadata(model_file, {**document, "model_sha256": sha256_of(model_file)})
    with pytest.raises(ModelError, match=rf"{model_file.name} is unreadable"):
        SequenceModel.load(model_file)


@pytest.mark.parametrize(
    ("shape", "why"),
    [
        (("batch", len(CHANNELS) - 1, SPEC.steps), "channels"),
        (("batch", len(CHANNELS), SPEC.steps + 1), "steps"),
        ((1, len(CHANNELS), SPEC.steps), "fixed batch"),
    ],
)
def test_a_model_of_another_input_shape_is_refused(
    tmp_path: Path, shape: tuple[str | int, int, int], why: str
) -> None:
    path = write_mean_model(tmp_path / SEQUENCE_MODEL_NAME, shape)
    with pytest.raises(ModelError, match=r"input .* expected 'sequence' float of shape"):
        SequenceModel.load(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: {**d, "format": "shopguard.sequence/0"}, "format 'shopguard.sequence/0'"),
        (lambda d: [d], "format None"),
        (lambda d: {k: v for k, v in d.items() if k != "model_sha256"}, "bad or missing field"),
        (
            lambda d: {**d, "input": {**d["input"], "spec": {"steps": 0}}},
            "bad or missing field",
        ),
        (
            lambda d: {**d, "input": {**d["input"], "channels": list(reversed(CHANNELS))}},
            r"channels differ from this code's \(in another order\); retrain it",
        ),
        (
            lambda d: {**d, "input": {**d["input"], "channels": [*CHANNELS[:-1], "box_hue"]}},
            r"missing \['box_seen'\], unknown \['box_hue'\]",
        ),
    ],
)
def test_bad_metadata_is_refused(model_file: Path, change: Any, message: str) -> None:
    document = json.loads(metadata_path(model_file).read_text())
    write_metadata(model_file, change(document))
    with pytest.raises(ModelError, match=message) as refused:
        SequenceModel.load(model_file)
    assert "behaviour-tcn" in str(refused.value)


def test_metadata_that_is_not_json_is_refused(model_file: Path) -> None:
    meta = metadata_path(model_file)
    meta.write_text("{not json", encoding="utf-8")
    record_sha(meta)
    with pytest.raises(ModelError, match=r"behaviour-tcn\.json is not JSON"):
        SequenceModel.load(model_file)


def test_the_shipped_model_loads_and_scores_poselift_tracks() -> None:
    model = SequenceModel.load(WEIGHTS / SEQUENCE_MODEL_NAME)
    assert model.spec == DEFAULT_SEQUENCE_SPEC
    assert model.info["parameters"] < 20_000 and model.info["data"]["labelled_videos"] > 0
    videos = load_split(MINI, "Train") + load_split(MINI, "Test")
    tracks = [t for v in videos for t in v.tracks]
    raw = model.score(tracks)
    assert raw.shape == (sum(len(t) for t in tracks),)
    assert np.isfinite(raw).all() and (raw >= 0).all() and (raw <= 1).all()
    assert raw.std() > 0  # it tells moments apart


def test_loading_and_scoring_never_imports_torch() -> None:
    """The server runs the network with ONNX Runtime alone."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from server.behaviour.sequence import SequenceModel\n"
        "from training.poselift import load_split\n"
        f"model = SequenceModel.load(Path({str(WEIGHTS / SEQUENCE_MODEL_NAME)!r}))\n"
        f"model.score(load_split(Path({str(MINI)!r}), 'Test')[0].tracks)\n"
        "print('torch' in sys.modules)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert found.stdout.strip() == "False"
