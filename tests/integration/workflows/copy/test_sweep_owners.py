"""Every reservation has an owner, and every settlement path checks the halts (issue 10, classes 3 and 4).

A reservation is owned by its orders-ledger entry once execute has begun it; before that, by nobody: execute may
crash, be throttled or time out between risk_check and its first write, and the redelivery comes after the trade's
freshness window (skipped as stale). The sweep gives such a reservation back once it is older than the bound, and
the release and the entry's first write exclude each other in DynamoDB.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.model import ExecutionStatus, RiskDecision, Side
from copytrader.reasons import Reason
from copytrader.risk.rules import Scope, screen
from copytrader.workflows.copy import steps
from tests.support import builders as b
from tests.support.copy_runs import TimeoutAfterFillVenue, list_market

pytestmark = pytest.mark.integration
D = Decimal


def _reserved(deps, key: str, amount: str = "40"):
    order = b.sized_order(key, max_cost=amount, limit_price="0.5", shares="80")
    deps.account.items.open_account(deps.settings.paper_bankroll, deps.clock())
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, deps.clock()), deps.clock())
    assert decision.approved
    return order, decision


def _held(deps) -> tuple[Decimal, int, Decimal]:
    state = deps.account.reads.state(deps.clock())
    condition = b.sized_order("x").condition_id
    return state.reserved, deps.account.reads.open_orders(), deps.account.reads.exposure(Scope.MARKET, condition)


def test_a_reservation_whose_execute_crashed_before_the_ledger_write_is_released_by_the_sweep(make_deps, clock):
    # GIVEN a reservation made by risk_check, and execute crashing before it wrote the ledger entry
    deps = make_deps()
    order, decision = _reserved(deps, "k1")
    assert _held(deps) == (D(40), 1, D(40))
    # WHEN the sweep runs inside the bound, THEN the reservation is kept (execute may still be coming)
    clock.now = b.T0 + timedelta(seconds=deps.settings.risk.orphan_reservation_after_s - 1)
    assert steps.sweep({"sweep": {}}, deps)["released"] == 0
    assert _held(deps) == (D(40), 1, D(40))
    # WHEN it runs after the bound, THEN the reservation, the open order and the exposure are given back, once
    clock.now = b.T0 + timedelta(seconds=deps.settings.risk.orphan_reservation_after_s + 1)
    report = steps.sweep({"sweep": {}}, deps)
    assert (report["released"], report["entries"][0]["idempotency_key"]) == (1, "k1")
    assert _held(deps) == (0, 0, 0)
    assert steps.sweep({"sweep": {}}, deps)["released"] == 0
    # AND an execute arriving after all (a late retry) places nothing: the reservation is no longer there to use
    placed = []
    deps.venue = type("Counting", (), {"prepare": deps.venue.prepare, "place": lambda *a: placed.append(a)})()
    result = steps.execute({"order": order.model_dump(mode="json"), "risk": decision.model_dump(mode="json")}, deps)
    assert (result["status"], result["reason"], placed) == ("REJECTED", Reason.RESERVATION_RELEASED.value, [])
    assert _held(deps) == (0, 0, 0)


def test_a_reservation_owned_by_an_unsettled_ledger_entry_is_left_to_reconciliation(make_deps, clock, polymarket):
    # GIVEN a BUY whose send was ambiguous (the order filled at the venue; the answer was lost): entry UNKNOWN
    deps = make_deps()
    list_market(polymarket, b.market("m1"))
    deps.venue = TimeoutAfterFillVenue(deps.venue)
    order, decision = _reserved(deps, "k1")
    state = {"order": order.model_dump(mode="json"), "risk": decision.model_dump(mode="json")}
    assert steps.execute(state, deps)["status"] == "UNKNOWN"
    # WHEN the orphan bound has passed, THEN the sweep settles the entry from the venue and never frees it blindly
    clock.now = b.T0 + timedelta(seconds=deps.settings.risk.orphan_reservation_after_s + 1)
    report = steps.sweep({"sweep": {}}, deps)
    assert (report["settled"], report["released"]) == ({"FILLED": 1}, 0)
    assert deps.account.reads.state(clock()).reserved == 0
    assert deps.positions.held_shares(order.token_id) == 80


def test_a_loss_settled_by_the_sweep_trips_the_breaker(make_deps, clock, polymarket):
    # GIVEN a 0.9% daily-loss limit (floor -90 on 10000) and 400 shares held at 0.80 (cost 320)
    deps = make_deps(risk={"daily_loss_limit": "0.009"})
    list_market(polymarket, b.market("m1"))  # bids: 300 @ 0.49
    order, decision = _reserved(deps, "b1", amount="320")
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, "400", "320"), decision.reserved, clock())
    # WHEN a SELL of 300 shares fills at 0.49 (realized 147 - 240 = -93) but its answer is lost (UNKNOWN)
    sell = b.sized_order("s1", side=Side.SELL, shares="300", limit_price="0.01")
    deps.venue = TimeoutAfterFillVenue(deps.venue)
    risk = RiskDecision(approved=True, day="2026-11-02").model_dump(mode="json")
    assert steps.execute({"order": sell.model_dump(mode="json"), "risk": risk}, deps)["status"] == "UNKNOWN"
    assert deps.account.reads.state(clock()).breaker_open is False
    # AND the sweep settles it after the grace period, THEN the sweep runs the same halts execute would
    clock.now = b.T0 + timedelta(seconds=deps.settings.venue.reconcile_after_s + 1)
    assert steps.sweep({"sweep": {}}, deps)["settled"] == {"FILLED": 1}
    state = deps.account.reads.state(clock())
    assert state.day_realized_pnl <= D(-90) and state.breaker_open is True
