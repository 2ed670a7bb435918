"""What the fault-injected demo (`copytrader demo --faults`) found in the sweep and in redemptions, each reproduced.

1. A SELL whose answer was lost (UNKNOWN: the venue sold, we do not know yet) when its market resolved: the
   redemption paid out every share the books still held, including those already sold, and the SELL could then never
   be settled (the position held fewer shares than it sold): its proceeds never reached the books and the sweep
   raised on it at every run.
2. The sweep raised on the first entry it could not settle, so every younger unsettled order behind it stayed
   unsettled (with its reservation) until an operator stepped in.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.model import ExecutionStatus, RiskDecision, Side
from copytrader.risk.rules import screen
from copytrader.workflows.books.steps import audit_report
from copytrader.workflows.copy import steps
from copytrader.workflows.copy.settlement import settle_resolved
from tests.support import builders as b
from tests.support.copy_runs import TimeoutAfterFillVenue, list_market

pytestmark = pytest.mark.integration
D = Decimal


def _bought(deps, clock, key: str, market: str, shares: str, cost: str):
    order = b.sized_order(key, market=market, shares=shares, limit_price="0.5", max_cost=cost)
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, clock())
    return order


def _execute(deps, order, decision: RiskDecision | None = None) -> dict:
    risk = decision or RiskDecision(approved=True, day="2026-11-02")
    return steps.execute({"order": order.model_dump(mode="json"), "risk": risk.model_dump(mode="json")}, deps)


def test_a_sell_pending_when_its_market_resolves_is_settled_before_the_position_is_redeemed(
    make_deps, clock, polymarket
):
    # GIVEN 100 shares of m1 bought for 40, and a SELL of 60 that filled at 0.49 whose answer was lost (UNKNOWN)
    deps = make_deps()
    market = b.market("m1")
    list_market(polymarket, market)
    _bought(deps, clock, "b1", "m1", "100", "40")
    sell = b.sized_order("s1", side=Side.SELL, shares="60", limit_price="0.01")
    deps.venue = TimeoutAfterFillVenue(deps.venue)
    assert _execute(deps, sell)["status"] == "UNKNOWN"
    # WHEN the market resolves YES and the redemption runs before the SELL is reconciled
    yes, no = market.tokens
    resolved = market.model_copy(update={"closed": True, "payouts": {yes.token_id: D(1), no.token_id: D(0)}})
    polymarket.markets[market.condition_id] = resolved
    clock.now = b.T0 + timedelta(minutes=1)
    assert settle_resolved(resolved, deps) == []  # THEN it waits: 60 of the 100 shares may be sold already
    assert deps.positions.held_shares(yes.token_id) == 100
    # WHEN the sweep settles the SELL, and the redemption runs again
    clock.now = b.T0 + timedelta(minutes=5)
    assert steps.sweep({"sweep": {}}, deps)["settled"] == {"FILLED": 1}
    redeemed = settle_resolved(resolved, deps)
    # THEN the 60 shares sold are booked as sold (29.4 pUSD) and only the 40 still held are redeemed (40 pUSD)
    assert [(r.shares, r.payout) for r in redeemed] == [(D(40), D(40))]
    state = deps.account.reads.state(clock())
    assert (state.cash, state.open_cost, deps.positions.held_shares(yes.token_id)) == (
        D(10000) - 40 + D("29.4") + 40,
        0,
        0,
    )
    assert [c.name for c in audit_report(deps) if not c.ok] == []


def test_an_entry_the_sweep_cannot_settle_does_not_stop_it_settling_the_younger_ones(
    make_deps, clock, polymarket, monkeypatch
):
    # GIVEN two BUYs whose answers were lost (UNKNOWN, both filled at the venue), k1 the older
    deps = make_deps()
    list_market(polymarket, b.market("m1"))
    deps.venue = TimeoutAfterFillVenue(deps.venue)
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    for key in ("k1", "k2"):
        order = b.sized_order(key, shares="10", limit_price="0.5", max_cost="5")
        decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
        assert _execute(deps, order, decision)["status"] == "UNKNOWN"
        clock.now += timedelta(seconds=1)
    # AND k1's settlement failing (whatever the cause: here the store refuses it)
    record = deps.ledger.record

    def refuse_k1(order, result, reserved, now, stop_at_entry=None):
        if order.idempotency_key == "k1":
            raise RuntimeError("k1 cannot be settled")
        record(order, result, reserved, now, stop_at_entry)

    monkeypatch.setattr(deps.ledger, "record", refuse_k1)
    # WHEN the sweep runs, THEN k2 is settled, and k1 is reported as failed, still unsettled
    report = steps.sweep({"sweep": {}}, deps)
    assert (report["settled"], report["unresolved"], report["failed"]) == ({"FILLED": 1}, 1, 1)
    failed = next(e for e in report["entries"] if e["idempotency_key"] == "k1")
    assert failed["status"] == "UNKNOWN" and "k1 cannot be settled" in failed["detail"]
    assert deps.account.reads.state(clock()).reserved == D(5)  # k1's reservation waits for its settlement
