"""PSR, MinTRL, E[max SR] and DSR against the published and library known answers in quant/vectors.json."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from copytrader.stats.sharpe_inference import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    min_track_record_length,
    probabilistic_sharpe_ratio,
    psr_z,
    sharpe_moments,
)
from tests.support.handbook import vector


def test_deflated_sharpe_ratio_paper_example() -> None:
    v = vector("deflated_sharpe_ratio")
    full = vector("deflated_sharpe_ratio_full_precision")["expected"]
    i = v["inputs"]
    q = i["periods_per_year"]
    sr = i["sr_annualized"] / math.sqrt(q)
    sr0 = expected_max_sharpe(i["n_trials"], i["var_trial_sr_annualized"] / q)
    dsr = deflated_sharpe_ratio(
        sr,
        i["T"],
        i["skew"],
        i["kurtosis_nonexcess"],
        n_trials=i["n_trials"],
        trial_variance=i["var_trial_sr_annualized"] / q,
    )
    assert sr0 == pytest.approx(v["expected"]["SR0_per_period"], abs=v["tolerance"]["abs"])
    assert float(dsr) == pytest.approx(v["expected"]["DSR"], abs=v["tolerance"]["abs"])
    assert sr == pytest.approx(full["SR_per_period"], abs=1e-12)
    assert sr0 == pytest.approx(full["SR0_per_period"], abs=1e-9)
    assert sr0 * math.sqrt(q) == pytest.approx(full["SR0_annualized"], abs=1e-9)
    z = psr_z(sr, sr0, i["T"], i["skew"], i["kurtosis_nonexcess"])
    assert float(z) == pytest.approx(full["z"], abs=1e-9)
    assert float(dsr) == pytest.approx(full["DSR"], abs=1e-9)


def test_expected_max_sharpe_false_strategy_theorem() -> None:
    v = vector("expected_max_sharpe_standard_normal")
    for n, approx, exact in zip(
        v["inputs"]["N"], v["expected"]["approx_formula"], v["expected"]["exact_E_max_of_N_iid_N01"], strict=True
    ):
        got = expected_max_sharpe(n, 1.0)
        assert got == pytest.approx(approx, abs=v["tolerance"]["abs"])
        # the approximation is close to, and a little above, the exact expected maximum (Tippett 1925)
        assert 0 < got - exact < 0.04
    assert expected_max_sharpe(1, 0.3, trial_mean=0.1) == 0.1


def test_probabilistic_sharpe_ratio_performanceanalytics() -> None:
    v = vector("probabilistic_sharpe_ratio")
    e, tol = v["expected"], v["tolerance"]
    sr, ref = 2 / math.sqrt(12), 1 / math.sqrt(12)
    i = v["inputs"]
    assert float(probabilistic_sharpe_ratio(sr, ref, i["T"], i["skew"], i["kurtosis_nonexcess"])) == pytest.approx(
        e["PSR_with_kurtosis"], abs=tol["abs"]
    )
    forced = float(probabilistic_sharpe_ratio(sr, ref, i["T"], i["skew"], 3.0))
    assert forced == pytest.approx(e["PSR_kurtosis_forced_3"], abs=tol["abs"])
    assert forced == pytest.approx(e["PerformanceAnalytics_default_PSR_4dp"], abs=tol["abs_vs_4dp"])
    min_trl = min_track_record_length(sr, ref, skew=i["skew"], kurtosis=3.0, alpha=0.05)
    assert min_trl == pytest.approx(e["MinTRL_kurtosis_forced_3_full"], abs=tol["abs"])
    assert min_trl == pytest.approx(e["PerformanceAnalytics_default_MinTRL_4dp"], abs=tol["abs_vs_4dp"])


def test_probabilistic_sharpe_ratio_simple_closed_form() -> None:
    v = vector("probabilistic_sharpe_ratio_simple")
    i = v["inputs"]
    z = psr_z(i["SR"], i["SR_star"], i["T"], i["skew"], i["kurtosis_nonexcess"])
    assert float(z) == pytest.approx(v["expected"]["z"], abs=v["tolerance"]["abs"])
    psr = probabilistic_sharpe_ratio(i["SR"], i["SR_star"], i["T"], i["skew"], i["kurtosis_nonexcess"])
    assert float(psr) == pytest.approx(v["expected"]["PSR"], abs=v["tolerance"]["abs"])


def test_population_moment_convention_differs_from_quantstats() -> None:
    """quantstats' bias-corrected moments give 0.8576534; the population convention pinned here gives 0.85804."""
    v = vector("psr_quantstats_convention")
    r = np.array(v["inputs"]["returns"])
    m = sharpe_moments(r)
    assert m.skew == pytest.approx(sps.skew(r, bias=True), abs=1e-12)
    assert m.kurtosis == pytest.approx(sps.kurtosis(r, fisher=False, bias=True), abs=1e-12)
    ours = float(probabilistic_sharpe_ratio(m.sharpe, 0.0, m.n, m.skew, m.kurtosis))
    assert ours == pytest.approx(0.8580412, abs=5e-7)
    # the quantstats value follows from the bias-corrected moments: proof that only the convention differs
    qs = float(probabilistic_sharpe_ratio(m.sharpe, 0.0, m.n, sps.skew(r, bias=False), sps.kurtosis(r, bias=False) + 3))
    assert qs == pytest.approx(v["expected"]["PSR"], abs=v["tolerance"]["abs"])


def test_undefined_cases_are_nan_not_numbers() -> None:
    # extreme positive skew with a large SR drives the radicand below zero
    assert math.isnan(float(probabilistic_sharpe_ratio(2.0, 0.0, 100, 5.0, 3.0)))
    assert math.isnan(float(probabilistic_sharpe_ratio(0.1, 0.0, 1, 0.0, 3.0)))
    assert math.isnan(sharpe_moments([1.0]).sharpe)
    assert math.isnan(sharpe_moments([2.0, 2.0, 2.0]).sharpe)
    assert min_track_record_length(0.1, 0.2) == math.inf


@settings(max_examples=60, deadline=None)
@given(
    sr=st.floats(-0.5, 0.5),
    n=st.integers(3, 5000),
    skew=st.floats(-1.0, 1.0),
    kurt=st.floats(1.0, 20.0),
)
def test_psr_is_monotone_in_the_benchmark_and_a_probability(sr: float, n: int, skew: float, kurt: float) -> None:
    benchmarks = np.array([-0.2, 0.0, 0.2])
    psr = probabilistic_sharpe_ratio(sr, benchmarks, n, skew, kurt)
    if np.all(np.isfinite(psr)):
        assert np.all((psr >= 0) & (psr <= 1))
        assert np.all(np.diff(psr) <= 1e-15)


def test_deflated_sharpe_is_vectorised_over_candidates() -> None:
    sr = np.array([0.05, 0.10, 0.20])
    dsr = deflated_sharpe_ratio(sr, 250, 0.0, 3.0, n_trials=50, trial_variance=0.002)
    one_by_one = [float(deflated_sharpe_ratio(s, 250, 0.0, 3.0, n_trials=50, trial_variance=0.002)) for s in sr]
    assert dsr.tolist() == pytest.approx(one_by_one, abs=1e-15)
    assert np.all(np.diff(dsr) > 0)
