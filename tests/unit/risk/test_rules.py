from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from copytrader.model import Side
from copytrader.reasons import Reason
from copytrader.risk.affordability import Exposures, room
from copytrader.risk.rules import (
    ExitRequest,
    ReservationRequest,
    breaker_floor,
    breaker_should_trip,
    drawdown_breached,
    drawdown_floor,
    screen,
    stop_price,
    stop_triggered,
    stops_hit,
    utc_day,
)
from copytrader.settings import RiskLimits
from tests.support import builders as b

D = Decimal


def _order(max_cost="100", side=Side.BUY):
    return b.sized_order("k", side=side, max_cost=max_cost if side is Side.BUY else 0)


def test_reservation_thresholds_turn_sums_into_comparisons():
    request = screen(_order("120"), RiskLimits(max_market_exposure=D(500), max_total_exposure=D(5000)), b.T0)
    assert isinstance(request, ReservationRequest)
    assert request.amount == D(120)
    assert request.market_threshold == D(380) and request.committed_threshold == D(4880)
    assert request.day == "2026-11-02"


def test_kill_switch_and_single_order_caps_need_no_state():
    assert screen(_order(), RiskLimits(kill_switch=True), b.T0).reason is Reason.KILL_SWITCH
    assert screen(_order("600"), RiskLimits(max_market_exposure=D(500)), b.T0).reason is Reason.MARKET_CAP
    whale = screen(_order("600"), RiskLimits(max_market_exposure=D(1000), max_whale_exposure=D(550)), b.T0)
    assert whale.reason is Reason.WHALE_CAP and whale.detail == "order worst case 600.00 > whale cap 550"
    group = RiskLimits(max_market_exposure=D(100), max_group_exposure=D(100), max_category_exposure=D(100))
    assert screen(_order("101"), group, b.T0).reason is Reason.MARKET_CAP
    assert screen(_order("0"), RiskLimits(), b.T0).reason is Reason.INVALID_TRADE  # a BUY must reserve something


def test_a_buy_whose_worst_case_exceeds_the_per_copy_cap_is_refused():
    # sizing's cap on one copy, checked again where the money is reserved: an order sized elsewhere (or by a bug
    # that capped the cost at the best ask instead of the limit) cannot reserve more than one copy may cost
    over = screen(_order("100.0000001"), RiskLimits(), b.T0, per_copy_cap=D(100))
    assert over.reason is Reason.COPY_CAP and over.approved is False
    assert over.detail == "order worst case 100.000001 > per-copy cap 100"
    at_cap = screen(_order("100"), RiskLimits(), b.T0, per_copy_cap=D(100))
    assert isinstance(at_cap, ReservationRequest) and at_cap.amount == D(100)
    # the per-copy cap is checked first: it is the smallest cap a single order can breach
    tight = screen(_order("600"), RiskLimits(max_market_exposure=D(500)), b.T0, per_copy_cap=D(100))
    assert tight.reason is Reason.COPY_CAP
    # a SELL reserves nothing: the cap does not apply
    assert isinstance(screen(_order(side=Side.SELL), RiskLimits(), b.T0, per_copy_cap=D(1)), ExitRequest)


def test_sells_need_no_reservation_but_count_against_the_order_rate_and_respect_the_kill_switch():
    assert screen(_order(side=Side.SELL), RiskLimits(max_orders_per_minute=7), b.T0) == ExitRequest(
        key="k", day="2026-11-02", minute="2026-11-02T12:00", rate_threshold=6
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


def _scoped(max_cost="100", *, group="event:e1", category="politics", wallet="0xABC"):
    return b.sized_order("k", max_cost=max_cost, risk_group=group, category=category, wallet=wallet)


def test_every_cap_gets_its_threshold_and_counts_become_n_minus_one():
    limits = RiskLimits(
        max_market_exposure=D(400),
        max_group_exposure=D(900),
        max_category_exposure=D(2000),
        max_whale_exposure=D(1200),
        max_total_exposure=D(4000),
        max_open_orders=7,
        max_orders_per_minute=12,
        stop_loss=D("0.2"),
    )
    request = screen(_scoped("100.0000001"), limits, b.T0)
    assert isinstance(request, ReservationRequest)
    assert request.amount == D("100.000001")  # rounded UP to the micro grid: reserving more is the safe side
    assert (request.market_threshold, request.group_threshold, request.category_threshold) == (
        D("299.999999"),
        D("799.999999"),
        D("1899.999999"),
    )
    assert (request.whale_threshold, request.committed_threshold) == (D("1099.999999"), D("3899.999999"))
    assert (request.open_orders_threshold, request.rate_threshold) == (6, 11)
    assert (request.group, request.category, request.wallet) == ("event:e1", "politics", "0xabc")
    assert request.minute == "2026-11-02T12:00" and request.stop_loss == D("0.2")


def test_orders_without_group_category_or_wallet_are_still_counted():
    order = _scoped(group="", category="", wallet="")
    request = screen(order, RiskLimits(), b.T0)
    assert isinstance(request, ReservationRequest)
    assert request.group == f"market:{order.condition_id}"
    assert (request.category, request.wallet) == ("other", "unattributed")


def test_nested_caps_are_validated():
    with pytest.raises(ValueError, match="max_market_exposure \\(600\\) must not exceed max_group_exposure"):
        RiskLimits(max_market_exposure=D(600), max_group_exposure=D(500))
    with pytest.raises(ValueError, match="max_whale_exposure"):
        RiskLimits(max_whale_exposure=D(6000))
    defaults = RiskLimits()
    assert defaults.max_market_exposure <= defaults.max_group_exposure <= defaults.max_total_exposure
    assert (defaults.max_open_orders, defaults.max_orders_per_minute, defaults.max_drawdown) == (20, 30, D("0.2"))


def test_room_is_the_tightest_cap_and_never_negative():
    limits = RiskLimits()  # 500 market, 1000 group, 2500 category, 1500 whale, 5000 total
    roomy = Exposures(market=D(100), group=D(300), category=D(0), whale=D(0), committed=D(0), available=D(10000))
    assert room(roomy, limits) == D(400)  # the market cap binds
    assert room(Exposures(D(0), D(800), D(0), D(0), D(0), D(10000)), limits) == D(200)  # the group
    assert room(Exposures(D(0), D(0), D(2400), D(0), D(0), D(10000)), limits) == D(100)  # the category
    assert room(Exposures(D(0), D(0), D(0), D("1499.5"), D(0), D(10000)), limits) == D("0.5")  # the whale
    assert room(Exposures(D(0), D(0), D(0), D(0), D(4990), D(10000)), limits) == D(10)  # the total
    assert room(Exposures(D(0), D(0), D(0), D(0), D(0), D("3.1234567")), limits) == D("3.123456")  # cash, floored
    assert room(Exposures(D(600), D(0), D(0), D(0), D(0), D(10000)), limits) == 0  # over a cap: zero, not negative


def test_drawdown_halts_strictly_below_the_floor():
    limits = RiskLimits(max_drawdown=D("0.2"))
    assert drawdown_floor(D(10000), limits) == D(8000)
    assert not drawdown_breached(D(8000), D(10000), limits)
    assert drawdown_breached(D("7999.999999"), D(10000), limits)


class _Pos:
    def __init__(self, token_id, shares, cost_basis, stop_loss=None):
        self.token_id, self.shares, self.cost_basis, self.stop_loss = token_id, D(shares), D(cost_basis), stop_loss


def test_stop_loss_is_the_entry_fraction_below_average_cost():
    # 100 shares at 0.50 average cost (fees included): a 15 % stop sits at 0.425
    position = _Pos("a", 100, 50)
    assert stop_price(position, D("0.15")) == D("0.425")
    assert stop_triggered(position, D("0.425")) and not stop_triggered(position, D("0.43"))
    # the fraction recorded at entry wins over today's setting
    recorded = _Pos("b", 100, 50, stop_loss=D("0.30"))
    assert stop_price(recorded, D("0.15")) == D("0.35")
    assert not stop_triggered(recorded, D("0.40"), D("0.15"))
    assert not stop_triggered(_Pos("c", 0, 0), D("0"))  # a closed position has no stop


def test_stops_hit_lists_only_positions_with_a_mark_at_or_below_their_stop():
    positions = [_Pos("a", 100, 50), _Pos("b", 10, 8), _Pos("c", 20, 10)]
    marks = {"a": D("0.40"), "b": D("0.79")}  # c has no mark: no decision
    assert [p.token_id for p in stops_hit(positions, marks)] == ["a"]
    assert [p.token_id for p in stops_hit(positions, {"a": D("0.9"), "b": D("0.68")})] == ["b"]
