"""Every named branch of the copy state machine under moto, reached by a representative reason of its kind, with
the state it ends in: the stops of the score, size and risk steps, the venue's outcomes, and a stop no branch names.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from copytrader.errors import VenueRejected
from copytrader.model import RiskDecision
from copytrader.store.tables import OrderModel
from copytrader.workflows.copy import branches
from tests.support import builders as b
from tests.support.copy_runs import (
    Emitted,
    FailingVenue,
    list_market,
    one_market_one_whale,
    pipe_message,
    run_with_history,
)


def _stop_scenario(name: str, aws, polymarket, make_deps, clock) -> list[dict[str, Any]]:
    """Set the world up so that one whale fill stops where `name` says; returns the Pipe's records."""
    overrides: dict[str, Any] = {"risk": {"max_orders_per_minute": 1}} if name == "order_rate" else {}
    if name == "account_not_open":  # live, before the execute function opened the account from the wallet
        overrides = {"mode": "live", "live_confirmed": True, "account": "live"}
    market = b.market("m1", closed=True) if name == "closed_market" else b.market("m1")
    list_market(polymarket, market)
    deps = make_deps(**overrides)
    deps.whales.put(b.whale("w1"), clock())
    deps.whales.put(b.whale("no-edge", wins=100), clock())  # 100 of 200 at 0.50: exactly the no-skill rate
    who = {"untracked": "w2", "no_edge": "no-edge"}.get(name, "w1")
    price = "0.40" if name == "price_drift" else "0.50"
    size = "10" if name == "whale_too_small" else "200"
    side = "SELL" if name == "sell_without_position" else "BUY"
    trade = b.trade(market, who, side=side, price=price, size=size)
    clock.now = trade.detected_at + (timedelta(hours=1) if name == "stale" else timedelta(milliseconds=300))
    if name in ("breaker", "kill_switch"):
        deps.account.items.open_account(deps.settings.paper_bankroll, clock())
        if name == "kill_switch":
            deps.account.breakers.set_kill_switch(True, clock())
        else:
            assert deps.account.breakers.trip_breaker_if_needed(clock(), lambda equity: equity)  # any loss floor: open
    if name == "order_rate":  # one order this minute already (another market), so this one is over the rate
        other = b.market("m2")
        list_market(polymarket, other)
        first = b.trade(other, "w1", price="0.50", size="200", tx="first")
        status, output, _ = run_with_history(aws, [pipe_message(first, "m-0")])
        assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED"
    if name == "invalid":
        payload = json.loads(trade.model_dump_json())
        payload["price"] = "1.7"
        return [{"messageId": "m-1", "body": json.dumps(payload), "attributes": {}}]
    return [pipe_message(trade)]


@pytest.mark.parametrize(
    ("scenario", "step", "reason", "branch"),
    [
        ("invalid", "score", "invalid_trade", "SkippedBadInput"),
        ("untracked", "score", "untracked_wallet", "SkippedNotTracked"),
        ("stale", "score", "stale_trade", "SkippedStale"),
        ("closed_market", "score", "market_closed", "SkippedMarketState"),
        ("price_drift", "score", "price_drift", "SkippedPriceOrBook"),
        ("sell_without_position", "score", "sell_without_position", "SkippedPosition"),
        ("whale_too_small", "score", "whale_too_small", "SkippedTooSmall"),
        ("no_edge", "size", "no_edge", "SkippedNoEdge"),
        ("order_rate", "risk_check", "order_rate_limit", "RejectedByLimit"),
        ("breaker", "risk_check", "breaker_open", "RejectedBreaker"),
        ("kill_switch", "risk_check", "kill_switch", "RejectedKillSwitch"),
        ("account_not_open", "score", "account_not_open", "SkippedAccountNotOpen"),
    ],
)
def test_each_kind_of_stop_ends_in_its_named_branch_as_a_success(
    aws, polymarket, make_deps, clock, scenario, step, reason, branch
):
    # GIVEN a whale fill that stops at `step` for `reason`
    records = _stop_scenario(scenario, aws, polymarket, make_deps, clock)
    orders_before = len(list(OrderModel.scan()))

    # WHEN the state machine runs it
    status, output, entered = run_with_history(aws, records)

    # THEN the execution succeeds in the branch of that kind, the state says which step stopped it and why,
    # and no order was placed
    assert status == "SUCCEEDED"
    assert entered[-1] == branch == branches.branch_of(reason)
    state = output[0]
    assert {k: state["stopped"][k] for k in ("step", "reason")} == {"step": step, "reason": reason}
    assert state["stopped"]["detail"]
    stop_state = {"score": "ScoreStopped", "size": "SizeStopped", "risk_check": "RiskStopped"}[step]
    assert entered[-3:] == [stop_state, "WhyStopped", branch]
    assert "result" not in state and "Execute" not in entered
    assert len(list(OrderModel.scan())) == orders_before


@pytest.mark.parametrize(
    ("error", "status", "branch"),
    [
        (TimeoutError("read timed out"), "UNKNOWN", "Unknown"),
        (VenueRejected("INVALID_ORDER_MIN_SIZE", "below the minimum"), "REJECTED", "VenueRejected"),
    ],
)
def test_execution_outcomes_end_in_their_named_branch_and_unknown_is_counted(
    aws, polymarket, make_deps, clock, capsys, error, status, branch
):
    # GIVEN a copy the venue times out on (or refuses)
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
    deps.venue = FailingVenue(deps.venue, error)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    run_status, output, entered = run_with_history(aws, [pipe_message(trade)])

    # THEN the execution succeeds in the outcome's branch; an UNKNOWN is counted for its alarm
    assert run_status == "SUCCEEDED" and entered[-2:] == ["ExecutionOutcome", branch]
    assert output[0]["result"]["status"] == status
    counted = emitted.take()
    assert counted[f"execute_{status.lower()}"] == 1
    assert OrderModel.get(output[0]["order"]["idempotency_key"]).status == status


def test_a_filled_copy_ends_in_filled_and_reports_its_copy_gap_once(aws, polymarket, make_deps, clock, capsys):
    # GIVEN a whale fill detected 2 s after it happened, run by the pipeline 300 ms later
    market, _ = one_market_one_whale(polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    status, output, entered = run_with_history(aws, [pipe_message(trade)])

    # THEN it ends in Filled, and the copy gap is emitted: 2,000 ms detection, 300 ms decision (the simulated
    # clock), our average price vs the whale's 0.50 in ticks, and a fill ratio of 1
    assert status == "SUCCEEDED" and entered[-2:] == ["ExecutionOutcome", "Filled"]
    result, order = output[0]["result"], output[0]["order"]
    counted = emitted.take()
    assert counted["copy_detection_latency_ms"] == 2000.0
    assert counted["copy_decision_latency_ms"] == 300.0
    assert counted["copy_fill_ratio"] == 1.0
    expected_ticks = (Decimal(result["avg_price"]) - Decimal("0.50")) / Decimal(order["tick_size"])
    assert counted["copy_price_gap_ticks"] == pytest.approx(float(expected_ticks))
    assert expected_ticks > 0  # the book's second level is above the whale's price: an adverse gap


def test_a_stop_the_mapping_does_not_know_still_succeeds_in_the_default_branch_and_is_counted(
    aws, polymarket, make_deps, clock, capsys
):
    # GIVEN a risk check that says no without a reason code (as a reason added without a branch would arrive)
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
    deps.account.reservations.reserve = lambda request, now: RiskDecision(approved=False, detail="no code")  # type: ignore[method-assign]
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    status, output, entered = run_with_history(aws, [pipe_message(trade)])

    # THEN the execution succeeds in StoppedOtherReason, and the handler counted the unrouted stop
    assert status == "SUCCEEDED" and entered[-3:] == ["RiskStopped", "WhyStopped", "StoppedOtherReason"]
    assert output[0]["stopped"] == {"step": "risk_check", "reason": None, "detail": "no code"}
    assert emitted.take()["risk_unrouted_reason"] == 1
    assert list(OrderModel.scan()) == []
