"""PSR / DSR on per-event returns (issue 12, item 4): one return per resolved event, the higher moments only where
the sample supports them, and a one-winning-event wallet never ACTIVE."""

from __future__ import annotations

import math

import numpy as np
import pytest

from copytrader.scoring.engine import evidence_from_rows
from copytrader.scoring.universe import MIN_EVENTS_FOR_MOMENTS, score_universe
from copytrader.scoring_settings import ScoringSettings
from copytrader.stats.sharpe_inference import (
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probabilistic_sharpe_ratio,
    sharpe_moments,
)
from tests.support.event_worlds import (
    AS_OF,
    DAY0,
    HEDGER,
    gamma_market,
    hedged_event,
    spread_wallet,
    trade_row,
)
from tests.unit.scoring.test_universe import evidence, population


def test_one_return_per_event_by_hand() -> None:
    """Four events, one 100-share YES BUY at 0.6 each, three won: r = 0.4 / 0.6 = 2/3 three times and -1 once.
    mean 1/4, std(ddof 1) = sqrt((3 (5/12)^2 + (5/4)^2) / 3) = 5/6, so SR = 0.3; T = 4 events, not days.
    A fifth event with two legs, YES at 0.5 (won) and NO at 0.2 (lost), pays (50 - 20) / (50 + 20) = 3/7: the
    legs of one event make one return."""
    wallet = "0x" + "12" * 20
    rows, markets = spread_wallet(wallet, [0, 1, 2, 3], first_market=0, wins=[True, True, True, False], price=0.6, n0=0)
    (e,) = evidence_from_rows(rows, markets, ScoringSettings(), as_of=AS_OF).evidence
    assert e.event_returns == 4 and e.independent_events == 4
    assert e.sharpe_event == pytest.approx(0.3, rel=1e-12)
    ref = sharpe_moments([2 / 3, 2 / 3, 2 / 3, -1.0])
    assert (e.skew_event, e.kurtosis_event) == pytest.approx((ref.skew, ref.kurtosis), rel=1e-12)

    extra = [gamma_market(4, yes_wins=True, event_id="ev4"), gamma_market(5, yes_wins=True, event_id="ev4")]
    more = [
        trade_row(wallet, 4, yes=True, price=0.5, at=DAY0 + 5 * 86_400, n=4),
        trade_row(wallet, 5, yes=False, price=0.2, at=DAY0 + 5 * 86_400 + 60, n=5),
    ]
    (e,) = evidence_from_rows([*rows, *more], [*markets, *extra], ScoringSettings(), as_of=AS_OF).evidence
    assert e.event_returns == 5 and e.independent_events == 5 and e.scored_markets == 6
    assert e.sharpe_event == pytest.approx(sharpe_moments([2 / 3, 2 / 3, 2 / 3, -1.0, 3 / 7]).sharpe, rel=1e-12)


def test_a_one_winning_event_wallet_never_reaches_active() -> None:
    """The hedged neg-risk wallet won its one event: on main its daily P&L (12 days, one winning) gave DSR 0.93,
    next to ACTIVE's 0.95. Per event it has one return: no Sharpe ratio, PSR / DSR undefined, never ACTIVE, even
    with the evidence floors at their minimum."""
    rows, markets = hedged_event()
    (e,) = evidence_from_rows(rows, markets, ScoringSettings(), as_of=AS_OF).evidence
    assert e.event_returns == 1 and math.isnan(e.sharpe_event)
    loose = ScoringSettings(min_independent_events=2, min_scored_trades=2, min_markets=1, dsr_active=0.0)
    universe = score_universe([*population(np.random.default_rng(7), k=50), e], loose, as_of=AS_OF)
    w = next(w for w in universe.wallets if w.evidence.wallet == HEDGER)
    assert math.isnan(w.psr) and math.isnan(w.dsr)
    assert w.status.value != "active" and not w.selected
    # the DSR gate on its own: a wallet that passes everything else but has one per-event return is PROBATION
    lucky = evidence(900, edge=0.10, sharpe=0.6, days=365, event_returns=1, sharpe_event=math.nan)
    crowd = population(np.random.default_rng(8))
    chosen = {w.evidence.wallet: w for w in score_universe([*crowd, lucky], ScoringSettings(), as_of=AS_OF).selected}
    assert chosen[lucky.wallet].status.value == "probation" and math.isnan(chosen[lucky.wallet].dsr)
    assert "probation: deflated Sharpe undefined < 0.95" in chosen[lucky.wallet].reasons


@pytest.mark.parametrize("events", [MIN_EVENTS_FOR_MOMENTS - 1, MIN_EVENTS_FOR_MOMENTS])
def test_skew_and_kurtosis_count_only_from_thirty_events(events: int) -> None:
    """Below 30 per-event returns the PSR uses the normal-returns form (skew 0, kurtosis 3); from 30 on, the
    sample's own population skew and non-excess kurtosis."""
    w = evidence(900, edge=0.1, event_returns=events, sharpe_event=0.4, skew_event=-2.0, kurtosis_event=9.0)
    (scored,) = score_universe([w], ScoringSettings(), as_of=AS_OF).wallets
    moments = (-2.0, 9.0) if events >= MIN_EVENTS_FOR_MOMENTS else (0.0, 3.0)
    assert scored.psr == pytest.approx(float(probabilistic_sharpe_ratio(0.4, 0.0, events, *moments)), rel=1e-12)
    assert scored.dsr == scored.psr  # one trial: SR0 = 0


def test_dsr_with_equal_records_is_bailey_lopez_de_prado_and_standardises_unequal_ones() -> None:
    """Equal T: SR0 = sqrt(V) E[max] with V the cross-sectional variance of SR (the paper's DSR, whose known
    answers `copytrader.stats.sharpe_inference` matches). Unequal T: the variance is taken of SR sqrt(T - 1) and
    each wallet's benchmark scaled back by its own sqrt(T - 1)."""
    rng = np.random.default_rng(11)
    sr = rng.normal(0.0, 0.07, 60)
    same = [evidence(i, edge=0.0, n=200, sharpe=float(s)) for i, s in enumerate(sr)]
    universe = score_universe(same, ScoringSettings(), as_of=AS_OF, trials=500)
    classic = deflated_sharpe_ratio(sr, 200, 0.0, 3.0, n_trials=500, trial_variance=float(np.var(sr, ddof=1)))
    assert [w.dsr for w in universe.wallets] == pytest.approx(classic.tolist(), rel=1e-10)

    t = np.where(np.arange(60) % 2 == 0, 50, 800)
    mixed = [evidence(i, edge=0.0, n=int(n), sharpe=float(s)) for i, (s, n) in enumerate(zip(sr, t, strict=True))]
    universe = score_universe(mixed, ScoringSettings(), as_of=AS_OF, trials=500)
    s0 = expected_max_sharpe(500, float(np.var(sr * np.sqrt(t - 1.0), ddof=1)))
    expected = probabilistic_sharpe_ratio(sr, s0 / np.sqrt(t - 1.0), t, 0.0, 3.0)
    assert [w.dsr for w in universe.wallets] == pytest.approx(expected.tolist(), rel=1e-10)
    assert universe.summary["dsr_expected_max_sharpe"] == pytest.approx(s0)
