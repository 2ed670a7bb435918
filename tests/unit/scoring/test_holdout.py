"""The selection split: which events each wallet is tested on, hand-derived; and the scorer on a split world."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from copytrader.scoring.engine import score_rows
from copytrader.scoring.holdout import split
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.naming import SelectionWindow, first_naming, lookback
from copytrader.scoring.tape import TradeTape
from copytrader.scoring.universe import INSUFFICIENT_EVENTS
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim import SimConfig, build_world

DAY = 86_400

# (wallet, event, time) of each trade; one market (two tokens) per event, token 2e bought
TRADES = [
    (0, 0, 100), (0, 0, 200),  # e0: resolved at 500, before the window [1000, 2000]: tested
    (0, 1, 900),  # e1: entered before the window, resolved in it (at 1500): the ranking saw it
    (0, 2, 1500),  # e2: traded in the window
    (0, 3, 2500),  # e3: entered after the naming, before the selection (3000): tested, not post-selection
    (0, 4, 3500),  # e4: entered after the selection, unresolved: tested and post-selection
    (0, 5, 800),  # e5: entered before the window, unresolved: still running through it, so seen
    (1, 0, 100), (1, 2, 1500),  # wallet 1 has no window: everything is tested
    (2, 0, 100), (2, 3, 2500),  # wallet 2: an all-time ranking (no start) named at 2000
]  # fmt: skip
RESOLVED = [500, 1500, 4000, 4000, -1, -1]  # per event


def _tape() -> tuple[TradeTape, TokenFacts]:
    wallet, event, time = (np.array(c, dtype=np.int64) for c in zip(*TRADES, strict=True))
    n, events = len(TRADES), len(RESOLVED)
    tape = TradeTape(
        wallets=tuple(f"0x{i:040x}" for i in range(3)),
        tokens=tuple(str(i) for i in range(2 * events)),
        conditions=tuple(f"0x{i:064x}" for i in range(events)),
        wallet=wallet,
        token=2 * event,
        condition=event,
        buy=np.ones(n, dtype=bool),
        price=np.full(n, 0.5),
        size=np.full(n, 10.0),
        fee=np.zeros(n),
        timestamp=time,
        legs=np.ones(n, dtype=np.int64),
        decision=np.ones(n, dtype=bool),
    )
    resolved = np.repeat(np.array(RESOLVED, dtype=np.int64), 2)
    facts = TokenFacts(
        known=np.ones(2 * events, dtype=bool),
        outcome=np.tile([0, 1], events).astype(np.int64),
        payout=np.where(resolved >= 0, np.tile([1.0, 0.0], events), np.nan),
        resolved_at=resolved,
        price_now=np.full(2 * events, np.nan),
        event=np.repeat(np.arange(events), 2).astype(np.int64),
        category=np.zeros(2 * events, dtype=np.int64),
        fee_rate=np.zeros(2 * events),
        events=tuple(f"event:{i}" for i in range(events)),
        categories=("c",),
        mismatched_tokens=0,
    )
    return tape, facts


def test_each_event_is_tested_only_if_the_naming_could_not_see_it() -> None:
    tape, facts = _tape()
    windows = {
        tape.wallets[0]: SelectionWindow(named_at=2000, looked_from=1000, selected_at=3000),
        tape.wallets[2]: SelectionWindow(named_at=2000),
    }
    cut = split(tape, facts, windows)
    assert cut.test.tolist() == [True, True, False, False, True, True, False, True, True, False, True]
    assert cut.post_selection.tolist() == [False, False, False, False, False, True, False, False, False, False, False]
    assert cut.in_sample_events.tolist() == [3, 0, 1]  # wallet 0: e1, e2, e5; wallet 2: e0
    assert cut.has_window.tolist() == [True, False, True]


def test_what_a_source_looked_at() -> None:
    week = "leaderboard:PNL/WEEK/OVERALL#3 pnl=5120.5"
    month = "leaderboard:PNL/MONTH/OVERALL#40 pnl=900"
    assert lookback([week]) == timedelta(days=7)
    assert lookback([week, month]) == timedelta(days=30)  # the widest look
    assert lookback([week, "leaderboard:PNL/ALL/OVERALL#1 pnl=1"]) is None  # an all-time ranking saw everything
    assert lookback(["large_trade:12000.00 tx=0xab"]) == timedelta(days=7)
    assert lookback(["operator list"]) is None and lookback([]) is None
    assert first_naming([week], 10 * DAY) == SelectionWindow(named_at=10 * DAY, looked_from=3 * DAY)
    with pytest.raises(ValueError, match="cannot look at history after it"):
        SelectionWindow(named_at=5, looked_from=6)


def test_a_split_world_is_tested_only_after_the_naming() -> None:
    """Every wallet named 20 days before the as-of time by an all-time ranking: what is tested was entered after
    the naming, and a wallet with nothing after it is still scored, as short of independent evidence."""
    world = build_world(SimConfig(seed=3, n_wallets=120, n_skilled=6, history_days=30))
    as_of = int(world.day_start.timestamp())
    named_at = as_of - 20 * DAY
    rows = world.history_trade_rows()
    everyone = {str(r["proxyWallet"]).lower() for r in rows}
    windows = {w: SelectionWindow(named_at=named_at) for w in everyone}
    run = score_rows(rows, world.history_markets_gamma(), ScoringSettings(), as_of=as_of, windows=windows)
    whole = score_rows(rows, world.history_markets_gamma(), ScoringSettings(), as_of=as_of)
    by_wallet = {w.evidence.wallet: w for w in run.universe.wallets}
    assert set(by_wallet) == everyone  # nobody dropped
    before = {w.evidence.wallet: w.evidence for w in whole.universe.wallets}
    tested = [w.evidence for w in by_wallet.values() if w.evidence.trades]
    assert tested and all(e.first_trade > named_at for e in tested)
    assert all(e.named_at == named_at and e.looked_from is None for e in (w.evidence for w in by_wallet.values()))
    assert all(e.events + e.in_sample_events == before[e.wallet].events for e in tested)
    empty = [w for w in by_wallet.values() if not w.evidence.trades]
    assert all(w.lacks_evidence == INSUFFICIENT_EVENTS and not w.selected for w in empty)
    summary = run.universe.summary
    assert summary["split"] == "selection windows" and summary["split_wallets"] == len(everyone)
    assert summary["without_test_sample"] == sum(1 for w in by_wallet.values() if w.evidence.independent_events == 0)
    assert summary["in_sample_events"] == sum(w.evidence.in_sample_events for w in by_wallet.values()) > 0
    assert whole.universe.summary["split"].startswith("none")
