from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from copytrader.model import RiskDecision, Side
from copytrader.reasons import Reason
from copytrader.risk import ReservationRequest, breaker_floor, breaker_should_trip, screen, utc_day
from copytrader.settings import RiskLimits
from tests.support import builders as b

D = Decimal


def _order(max_cost="100", side=Side.BUY):
    from copytrader.model import SizedOrder

    return SizedOrder(
        action="PLACE",
        idempotency_key="k",
        token_id=b.token_id("t"),
        condition_id=b.hex_id("c", 32),
        side=side,
        shares=D(10),
        limit_price=D("0.5"),
        max_cost=D(max_cost) if side is Side.BUY else 0,
    )


def test_reservation_thresholds_turn_sums_into_comparisons():
    request = screen(_order("120"), RiskLimits(max_market_exposure=D(500), max_total_exposure=D(5000)), b.T0)
    assert isinstance(request, ReservationRequest)
    assert request.amount == D(120)
    assert request.market_threshold == D(380) and request.committed_threshold == D(4880)
    assert request.day == "2026-11-02"


def test_kill_switch_and_single_order_caps_need_no_state():
    assert screen(_order(), RiskLimits(kill_switch=True), b.T0).reason is Reason.KILL_SWITCH
    assert screen(_order("600"), RiskLimits(max_market_exposure=D(500)), b.T0).reason is Reason.MARKET_CAP
    too_big = screen(_order("600"), RiskLimits(max_market_exposure=D(1000), max_total_exposure=D(550)), b.T0)
    assert too_big.reason is Reason.TOTAL_CAP


def test_sells_need_no_reservation_but_respect_the_kill_switch():
    assert screen(_order(side=Side.SELL), RiskLimits(), b.T0) == RiskDecision(
        approved=True, detail="exit: no reservation needed", day="2026-11-02"
    )
    assert screen(_order(side=Side.SELL), RiskLimits(kill_switch=True), b.T0).approved is False


def test_days_are_utc_days():
    late_new_york = datetime(2026, 11, 2, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_day(late_new_york) == "2026-11-03"
    assert utc_day(datetime(2026, 11, 2, 23, 59, tzinfo=UTC)) == "2026-11-02"
    with pytest.raises(ValueError):
        utc_day(datetime(2026, 11, 2))


def test_breaker_trips_at_five_percent_of_start_of_day_equity():
    limits = RiskLimits()
    assert breaker_floor(D(10000), limits) == D(-500)
    assert breaker_should_trip(D(-500), D(10000), limits)
    assert not breaker_should_trip(D("-499.99"), D(10000), limits)
