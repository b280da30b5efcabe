"""The numpy-only unpickler: real PoseLift pickles load; any other global is refused unrun."""

from __future__ import annotations

import os
import pickle
import pickletools
from pathlib import Path

import numpy as np
import pytest

from training.unpickle import ForbiddenPickleError, load_numpy_pickle

MINI = Path(__file__).parents[1] / "data" / "poselift_mini"


class _Call:
    """Pickles as a call of `func(*args)`: what a malicious pickle does on load."""

    def __init__(self, func: object, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return self.func, self.args


def test_real_poselift_pickle_loads_through_numpy_core_names() -> None:
    raw = (MINI / "Test" / "5_299.pkl").read_bytes()
    names = {arg for op, arg, _ in pickletools.genops(raw) if op.name == "SHORT_BINUNICODE"}
    assert "numpy.core.multiarray" in names  # written by numpy 1.x: the legacy module path
    data = load_numpy_pickle(raw)
    assert isinstance(data, dict)
    assert len(data) == 15
    _box, keypoints = data[0][1]
    assert keypoints.dtype == np.float16
    assert keypoints.shape == (17, 3)
    assert pickle.loads(raw)[0][1][1].tobytes() == keypoints.tobytes()  # same as pickle's


def test_round_trip_of_arrays_and_containers(tmp_path: Path) -> None:
    data = {0: {3: [[1, 2.5, 3, 4], np.arange(6, dtype=np.float16).reshape(2, 3)]}, 1: {}}
    path = tmp_path / "ok.pkl"
    path.write_bytes(pickle.dumps(data, protocol=4))
    loaded = load_numpy_pickle(path)
    assert isinstance(loaded, dict)
    assert loaded[1] == {}
    np.testing.assert_array_equal(loaded[0][3][1], data[0][3][1])


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_os_system_is_refused_without_running(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "ran"
    payload = pickle.dumps({0: _Call(os.system, f"touch {marker}")}, protocol=protocol)
    with pytest.raises(ForbiddenPickleError, match=r"refusing to load global (posix|os)\.system"):
        load_numpy_pickle(payload)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (eval, ("1 + 1",)),  # builtins
        (np.load, ("x.npy",)),  # an allowed module, another name
        (getattr, (np.ndarray, "tofile")),  # a way around a name check
        (np.frombuffer, (b"\x00" * 8,)),  # numpy, but not array reconstruction
    ],
)
def test_anything_but_array_reconstruction_is_refused(func: object, args: tuple[object]) -> None:
    with pytest.raises(ForbiddenPickleError, match="only numpy"):
        load_numpy_pickle(pickle.dumps(_Call(func, *args), protocol=4))
