"""The edge-ratio bootstrap interval (issue 12, item 5): resamples with an undefined ratio are dropped and counted,
never kept with a rounding-noise denominator; a one-event wallet's interval is undefined, not zero-width."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from copytrader.scoring.engine import evidence_from_rows
from copytrader.scoring_settings import ScoringSettings
from copytrader.stats.bootstrap import ratio_ci
from tests.support.event_worlds import AS_OF, hedged_event, spread_wallet


def test_resamples_without_a_trade_are_dropped_and_counted() -> None:
    """Ten days, trades (3 of them, edge 0.1 each) on one: the IID bootstrap (b = 1) misses that day with
    probability 0.9^10 = 0.34868, so about 3,487 +- 48 (1 sd) of 10,000 resamples have no trade. Every other
    resample has ratio 0.1 exactly, so the interval is [0.1, 0.1]. Before the fix their centred denominators came
    out as rounding noise, none was dropped and the interval was [-0.125, 0.1]."""
    num, den = np.array([0.0] * 9 + [0.3]), np.array([0.0] * 9 + [3.0])
    ci = ratio_ci(num, den, reps=10_000, level=0.9, rng=np.random.default_rng(1), block_size=1.0)
    expected = 10_000 * 0.9**10
    assert abs(ci.dropped - expected) < 4 * math.sqrt(expected * (1 - 0.9**10))
    assert (ci.low, ci.high) == pytest.approx((0.1, 0.1), abs=1e-12)
    # two trade days (20 % of the calendar): 0.8^10 = 10.7 % of resamples have none
    num2, den2 = np.array([0.0] * 6 + [0.3, 0, 0, -0.7]), np.array([0.0] * 6 + [3.0, 0, 0, 7.0])
    ci2 = ratio_ci(num2, den2, reps=10_000, level=0.9, rng=np.random.default_rng(2), block_size=1.0)
    assert abs(ci2.dropped - 10_000 * 0.8**10) < 4 * math.sqrt(10_000 * 0.8**10 * (1 - 0.8**10))
    assert -0.1 - 1e-12 <= ci2.low <= ci2.high <= 0.1 + 1e-12


def test_a_wallet_interval_stays_inside_its_trade_edges_and_counts_what_it_dropped() -> None:
    """Two events 1 day apart on a 12-day calendar (edges +0.4 won, -0.6 lost): a ratio of edge sums to counts
    must lie in [-0.6, 0.4]; resamples that miss both trade days are dropped and counted."""
    rows, markets = spread_wallet("0x" + "34" * 20, [0, 1], first_market=0, wins=[True, False], price=0.6, n0=0)
    (e,) = evidence_from_rows(rows, markets, ScoringSettings(), as_of=AS_OF).evidence
    assert e.independent_events == 2 and e.days == 12
    assert -0.6 - 1e-12 <= e.edge_ci_low <= e.edge <= e.edge_ci_high <= 0.4 + 1e-12
    assert e.edge_ci_dropped > 0


def test_a_one_event_wallet_has_no_interval() -> None:
    """The hedged neg-risk wallet (one event, 34 trades in one day) had the zero-width interval [0.115, 0.115]."""
    rows, markets = hedged_event()
    (e,) = evidence_from_rows(rows, markets, ScoringSettings(), as_of=AS_OF).evidence
    assert e.independent_events == 1 and e.edge == pytest.approx(0.115)
    assert math.isnan(e.edge_ci_low) and math.isnan(e.edge_ci_high)
    record = json.loads(json.dumps(e.as_record()))
    assert record["edge_ci_low"] is None and record["edge_ci_high"] is None
