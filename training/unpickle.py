"""A pickle reader that rebuilds numpy arrays and plain Python containers, and nothing else."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy._core.multiarray import _reconstruct

# (module, name) -> the object a pickle of numpy arrays may reference; numpy 1.x pickles
# name `numpy.core`, which numpy 2 still maps but deprecates, so it is answered here directly
_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class ForbiddenPickleError(pickle.UnpicklingError):
    """The pickle references something other than numpy's array machinery."""


class NumpyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, tuples, numbers, strings and numpy arrays only.

    Any other global (a function, a class, `os.system` …) raises `ForbiddenPickleError`
    before it is looked up, so nothing of it runs. Persistent ids are refused by the base
    class, which defines no `persistent_load`.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            allowed = ", ".join(f"{m}.{n}" for m, n in _ALLOWED)
            raise ForbiddenPickleError(
                f"refusing to load global {module}.{name}: only {allowed} are allowed"
            ) from None


def load_numpy_pickle(source: Path | bytes) -> object:
    """Read a pickle file (or its bytes) with `NumpyUnpickler`.

    Raises:
        ForbiddenPickleError: it references anything but numpy arrays and dtypes.
        pickle.UnpicklingError, EOFError, ValueError: it is truncated or corrupt.
    """
    data = source if isinstance(source, bytes) else source.read_bytes()
    return NumpyUnpickler(io.BytesIO(data)).load()
