"""Per-category resolved-BUY records: stage-1 evidence splits the wallet's own figures, profiles carry them."""

from __future__ import annotations

import json
import math

from copytrader.scoring.engine import profiles
from copytrader.scoring.evidence_record import WalletEvidence
from tests.support.scored_worlds import scored_world


def test_category_records_add_up_to_the_wallet_and_reach_the_profiles() -> None:
    _, run = scored_world(seed=7, wallets=60, skilled=4, days=30)
    checked = 0
    for w in run.universe.wallets:
        e = w.evidence
        if not e.scored_buys:
            continue
        cats = e.categories.values()
        assert sum(c.buys for c in cats) == e.scored_buys
        assert sum(c.wins for c in cats) == e.wins
        assert math.isclose(sum(c.paid for c in cats) / e.scored_buys, e.breakeven_win_rate, rel_tol=1e-12)
        assert all(c.wins <= c.buys <= c.trades for c in cats)
        checked += 1
    assert checked >= 20
    # the records survive the JSON round trip of the scoring workflow (old records without them read as 0)
    e = next(w.evidence for w in run.universe.wallets if w.evidence.scored_buys)
    assert WalletEvidence.from_record(json.loads(json.dumps(e.as_record()))).categories == e.categories
    for p in profiles(run.universe):
        assert sum(c.resolved_trades for c in p.categories.values()) == p.resolved_trades
        assert sum(c.wins for c in p.categories.values()) == p.wins
        assert all(c.resolved_trades > 0 for c in p.categories.values())
