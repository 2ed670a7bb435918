"""False-discovery control across many simultaneous tests (one per candidate wallet).

Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57(1):289-300: with m p-values sorted
ascending p_(1) <= ... <= p_(m), reject the k smallest where k = max{i : p_(i) <= i q / m}. For independent (or
positively regression-dependent, Benjamini & Yekutieli 2001) tests the expected share of false discoveries among
the rejections is at most q m0 / m <= q. Adjusted p-values ("q-values"): p_adj_(i) = min_{j >= i} min(1, p_(j) m / j),
so a hypothesis is rejected at level q exactly when p_adj <= q.

Conventions: NaN p-values mark hypotheses that were not tested (too little evidence); they are neither rejected
nor counted in m. Rejecting nothing is a legitimate, and common, answer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def bh_adjusted(p_values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN; m counts the non-NaN entries)."""
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    if m == 0:
        return adjusted
    if np.any((p[tested] < 0) | (p[tested] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return adjusted


def benjamini_hochberg(p_values: npt.ArrayLike, q: float) -> npt.NDArray[np.bool_]:
    """Which hypotheses the BH step-up procedure rejects at false-discovery rate `q` (0 < q < 1)."""
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got {q}")
    adjusted = bh_adjusted(p_values)
    return np.asarray(np.nan_to_num(adjusted, nan=2.0) <= q, dtype=np.bool_)
