"""False-discovery control across many simultaneous tests (one per candidate wallet).

Benjamini & Hochberg (1995), "Controlling the false discovery rate", JRSS B 57(1):289-300: with m p-values sorted
ascending p_(1) <= ... <= p_(m), reject the k smallest where k = max{i : p_(i) <= i q / m}. For independent (or
positively regression-dependent, Benjamini & Yekutieli 2001) tests the expected share of false discoveries among
the rejections is at most q m0 / m <= q. Adjusted p-values ("q-values"): p_adj_(i) = min_{j >= i} min(1, p_(j) m / j),
so a hypothesis is rejected at level q exactly when p_adj <= q.

Benjamini & Yekutieli (2001), "The control of the false discovery rate in multiple testing under dependency",
Ann. Statist. 29(4):1165-1188, Theorem 1.3: the same step-up at q / c(m), c(m) = sum_{j=1}^m 1/j, controls the FDR
at q under ANY dependence between the tests. Adjusted: p_adj_(i) = min_{j >= i} min(1, p_(j) m c(m) / j). The
scorer uses it: wallets' p-values are dependent (they trade the same outcomes; the buyer and the seller of one
token are negatively dependent), which is outside BH's positive-regression-dependence guarantee.

Conventions: NaN p-values mark hypotheses that were not tested (too little evidence); they are never rejected.
By default they are not counted in m either; pass `m` (at least the number tested) to count every hypothesis that
was screened - e.g. every wallet a leaderboard looked at, tested or not - which treats the untested ones as
p = 1 (the conservative choice: selection among m cannot be undone by testing fewer). Rejecting nothing is a
legitimate, and common, answer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _step_up(p_values: npt.ArrayLike, m: int | None, dependence: bool) -> npt.NDArray[np.float64]:
    p = np.asarray(p_values, dtype=np.float64)
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    total = tested.size if m is None else int(m)
    if total < tested.size:
        raise ValueError(f"m = {total} is smaller than the {tested.size} hypotheses tested")
    if tested.size == 0:
        return adjusted
    if np.any((p[tested] < 0) | (p[tested] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    factor = float(np.sum(1.0 / np.arange(1, total + 1))) if dependence else 1.0
    order = tested[np.argsort(p[tested], kind="stable")]
    scaled = p[order] * total * factor / np.arange(1, tested.size + 1)
    adjusted[order] = np.minimum(1.0, np.minimum.accumulate(scaled[::-1])[::-1])
    return adjusted


def bh_adjusted(p_values: npt.ArrayLike, m: int | None = None) -> npt.NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN; m defaults to the number of non-NaN entries)."""
    return _step_up(p_values, m, dependence=False)


def by_adjusted(p_values: npt.ArrayLike, m: int | None = None) -> npt.NDArray[np.float64]:
    """Benjamini-Yekutieli adjusted p-values, valid under any dependence (NaN stays NaN; m as in `bh_adjusted`)."""
    return _step_up(p_values, m, dependence=True)


def benjamini_hochberg(p_values: npt.ArrayLike, q: float) -> npt.NDArray[np.bool_]:
    """Which hypotheses the BH step-up procedure rejects at false-discovery rate `q` (0 < q < 1)."""
    if not 0 < q < 1:
        raise ValueError(f"q must lie in (0, 1), got {q}")
    adjusted = bh_adjusted(p_values)
    return np.asarray(np.nan_to_num(adjusted, nan=2.0) <= q, dtype=np.bool_)
