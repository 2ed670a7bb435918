"""Random series for the statistics tests: AR(1) draws, hypothesis strategies for series, block lengths, seeds
and scales, and the bound of the Monte-Carlo checks."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from scipy.signal import lfilter

Z_BOUND = 5.0  # Monte-Carlo checks: |estimate - truth| <= 5 standard errors


def ar1(rng: np.random.Generator, n: int, phi: float, burn: int = 100) -> np.ndarray:
    """x_t = phi x_{t-1} + e_t, e ~ N(0, 1), after `burn` discarded steps."""
    return np.asarray(lfilter([1.0], [1.0, -phi], rng.standard_normal(n + burn))[burn:])


series = st.lists(
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False), min_size=5, max_size=80
).filter(lambda v: np.ptp(v) > 1e-3 * max(1.0, float(np.max(np.abs(v)))))
blocks = st.floats(min_value=0.5, max_value=40.0)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
scales = st.floats(min_value=1e-3, max_value=1e3)
