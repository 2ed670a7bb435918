"""Sharpe, Sortino, drawdown, CAGR, Calmar (empyrical's test-suite values) and EWMA moments (pandas oracle values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.stats.moments import ewma_moments, halflife_weights, kish_n_eff_infinite, weighted_moments
from copytrader.stats.performance import (
    annual_return,
    annual_volatility,
    calmar_ratio,
    downside_risk,
    max_drawdown,
    max_drawdown_additive,
    sharpe_ratio,
    sortino_ratio,
)
from tests.support.handbook import vector


def _returns(raw: list[float | str]) -> np.ndarray:
    return np.array([float("nan") if x == "nan" else x for x in raw], dtype=float)


def test_empyrical_mixed_returns() -> None:
    v = vector("empyrical_metrics_mixed_returns")
    r, e, tol = _returns(v["inputs"]["returns"]), v["expected"], v["tolerance"]["abs"]
    assert sharpe_ratio(r, periods_per_year=252) == pytest.approx(e["sharpe"], abs=tol)
    assert sortino_ratio(r, periods_per_year=252) == pytest.approx(e["sortino"], abs=tol)
    assert downside_risk(r, periods_per_year=252) == pytest.approx(e["downside_risk"], abs=tol)
    assert max_drawdown(r) == pytest.approx(e["max_drawdown"], abs=tol)
    assert annual_return(r, periods_per_year=252) == pytest.approx(e["annual_return"], abs=tol)
    assert calmar_ratio(r, periods_per_year=252) == pytest.approx(e["calmar"], abs=tol)
    assert annual_volatility(r, periods_per_year=252) == pytest.approx(e["annual_volatility"], abs=tol)


def test_empyrical_edge_cases() -> None:
    v = vector("empyrical_metrics_edge_cases")
    i, e, tol = v["inputs"], v["expected"], v["tolerance"]["abs"]
    assert sharpe_ratio(i["positive_returns"], periods_per_year=252) == pytest.approx(
        e["sharpe_positive_returns"], abs=tol
    )
    assert sharpe_ratio(i["negative_returns"], periods_per_year=252) == pytest.approx(
        e["sharpe_negative_returns"], abs=tol
    )
    assert sortino_ratio(i["negative_returns"], periods_per_year=252) == pytest.approx(
        e["sortino_negative_returns"], abs=tol
    )
    assert max_drawdown(i["negative_returns"]) == pytest.approx(e["max_drawdown_negative_returns"], abs=tol)
    assert max_drawdown(i["all_negative_returns"]) == pytest.approx(e["max_drawdown_all_negative_returns"], abs=tol)
    assert max_drawdown(i["udu_returns"]) == pytest.approx(e["max_drawdown_udu_returns"], abs=tol)


def test_empyrical_weekly_and_monthly_annualisation() -> None:
    v = vector("empyrical_metrics_weekly_monthly")
    r, e, tol = np.array(v["inputs"]["returns"]), v["expected"], v["tolerance"]["abs"]
    assert calmar_ratio(r, periods_per_year=52) == pytest.approx(e["calmar_weekly"], abs=tol)
    assert calmar_ratio(r, periods_per_year=12) == pytest.approx(e["calmar_monthly"], abs=tol)
    assert sortino_ratio(r, periods_per_year=52) == pytest.approx(e["sortino_weekly"], abs=tol)
    assert sortino_ratio(r, periods_per_year=12) == pytest.approx(e["sortino_monthly"], abs=tol)
    assert annual_return(r, periods_per_year=52) == pytest.approx(e["annual_return_weekly"], abs=tol)
    assert annual_volatility(r, periods_per_year=12) == pytest.approx(e["annual_volatility_monthly"], abs=tol)


def test_additive_drawdown_counts_the_start_as_a_peak() -> None:
    assert max_drawdown_additive([-5.0, 2.0, 10.0, -4.0, -3.0, 1.0]) == -7.0
    assert max_drawdown_additive([-5.0, 1.0]) == -5.0
    assert max_drawdown_additive([1.0, 2.0]) == 0.0


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-0.5, 0.5, allow_nan=False), min_size=3, max_size=60), st.floats(0.1, 10.0))
def test_sharpe_is_scale_free_and_drawdowns_bounded(r: list[float], c: float) -> None:
    x = np.array(r)
    s = sharpe_ratio(x)
    if math.isfinite(s) and np.std(x) > 1e-9:
        assert sharpe_ratio(c * x) == pytest.approx(s, rel=1e-9, abs=1e-12)
    assert -1.0 <= max_drawdown(x) <= 0.0
    assert max_drawdown_additive(c * x) == pytest.approx(c * max_drawdown_additive(x), rel=1e-9, abs=1e-12)


def test_ewma_halflife_against_pandas_values() -> None:
    v = vector("ewma_halflife_observation_count")
    x = np.array(v["inputs"]["x_oldest_to_newest"])
    age = np.arange(len(x))[::-1]  # newest has age 0
    m = ewma_moments(x, age, v["inputs"]["halflife_obs"])
    e, tol = v["expected"], v["tolerance"]["abs"]
    assert m.mean == pytest.approx(e["mean"], abs=tol)
    assert m.var_biased == pytest.approx(e["var_biased"], abs=tol)
    assert m.var_unbiased == pytest.approx(e["var_unbiased_reliability"], abs=tol)
    assert m.n_eff == pytest.approx(e["n_eff_kish"], abs=1e-12)
    assert kish_n_eff_infinite(3.0) == pytest.approx(e["n_eff_infinite_history"], abs=1e-12)
    w = halflife_weights(age, 3.0)
    assert w[-2] == pytest.approx(e["lambda"], abs=1e-15)
    # numpy's reliability-weighted covariance is the same estimator
    assert np.cov(x, aweights=w, ddof=1) == pytest.approx(m.var_unbiased, abs=1e-15)


def test_reliability_weights_are_not_frequency_weights() -> None:
    v = vector("weighted_variance_frequency_vs_reliability")
    x = np.array(v["inputs"]["x"])
    w = halflife_weights(np.arange(len(x))[::-1], 3.0)
    m = weighted_moments(x, w)
    assert m.var_unbiased == pytest.approx(v["expected"]["reliability_weights_var"], abs=1e-15)
    frequency = float(np.dot(w, (x - m.mean) ** 2) / (w.sum() - 1))
    assert frequency == pytest.approx(v["expected"]["frequency_weights_var_ddof1"], abs=1e-15)
    assert abs(m.var_unbiased - frequency) > 1e-4


def test_look_ahead_is_refused_and_n_eff_is_scale_free() -> None:
    with pytest.raises(ValueError, match="look-ahead"):
        halflife_weights([1.0, -0.5], 30.0)
    x = np.array([0.1, -0.2, 0.3])
    w = np.array([1.0, 0.5, 0.25])
    assert weighted_moments(x, w).n_eff == pytest.approx(weighted_moments(x, 7 * w).n_eff)
    empty = weighted_moments(np.array([]), np.array([]))
    assert math.isnan(empty.mean) and empty.n_eff == 0.0
