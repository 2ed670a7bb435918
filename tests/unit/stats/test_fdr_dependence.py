"""Benjamini-Yekutieli (FDR under any dependence) against hand-derived adjusted p-values, and m = every screened."""

from __future__ import annotations

import math

import numpy as np
import pytest

from copytrader.stats.multiple_testing import bh_adjusted, by_adjusted

P = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]  # Benjamini & Hochberg's style of example, m = 8


def test_by_adjusted_by_hand() -> None:
    """c(8) = 1 + 1/2 + ... + 1/8 = 761/280. Raw p_(i) m c / i = c x (.008, .032, .104, .082, .0672, .08, .592/7,
    .205); the running minimum from the top turns the 3rd and 4th into the 5th's .0672 c."""
    c = 761 / 280
    expected = [0.008 * c, 0.032 * c, 0.0672 * c, 0.0672 * c, 0.0672 * c, 0.08 * c, 0.592 / 7 * c, 0.205 * c]
    assert by_adjusted(P).tolist() == pytest.approx(expected, rel=1e-12)
    # BY is BH with q / c(m): the same ordering, every adjusted value c(m) times BH's (before the cap at 1)
    assert (by_adjusted(P) / bh_adjusted(P)).tolist() == pytest.approx([c] * 8, rel=1e-12)
    assert (by_adjusted(P) <= 0.1).tolist() == [True, True] + [False] * 6


def test_m_counts_every_screened_hypothesis_and_untested_stay_nan() -> None:
    """m = 20 screened, two tested: c(20) = H_20; p_(1) 20 c / 1 and p_(2) 20 c / 2."""
    h20 = sum(1 / j for j in range(1, 21))
    out = by_adjusted([0.001, math.nan, 0.01], m=20)
    assert out[0] == pytest.approx(0.02 * h20, rel=1e-12) and out[2] == pytest.approx(0.1 * h20, rel=1e-12)
    assert math.isnan(out[1])
    assert by_adjusted([0.5, 0.9], m=2).tolist() == pytest.approx([1.0, 1.0])  # capped at 1
    with pytest.raises(ValueError, match="smaller than"):
        by_adjusted([0.1, 0.2, 0.3], m=2)
    assert np.isnan(by_adjusted([math.nan], m=5)).all()
