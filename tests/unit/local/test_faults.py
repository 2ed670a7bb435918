"""The faulted demo's plan (`copytrader.local.faults`) and its injectors (`copytrader.local.injectors`), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from copytrader.errors import VenueAmbiguous
from copytrader.execution.paper import PaperVenue
from copytrader.local import faults
from copytrader.local.faults import FaultPlan, Targets, next_midnight, plan_faults
from copytrader.local.injectors import FaultyLedger, FaultyVenue, Injected, InjectedCrash, transaction_phase
from copytrader.model import ExecutionStatus, Market, WhaleTrade
from copytrader.store.tables import OrderModel, RiskStateModel
from copytrader.workflows.copy.steps import parse_trade
from tests.support import builders as b
from tests.support.clock import Clock

DAY = datetime(2026, 11, 2, tzinfo=UTC)
CATEGORIES = ["crypto", "sports", "politics"]


def _day() -> tuple[list[WhaleTrade], dict[str, Market]]:
    """36 BUYs over four markets (one neg-risk) across the day, then SELLs: two of tokens bought, one not."""
    markets = {m.condition_id: m for m in (b.market(f"m{i}", category="sports") for i in range(3))}
    group = b.market("g1", neg_risk=True, neg_risk_market_id=b.hex_id("nr", 32))
    markets[group.condition_id] = group
    listed = list(markets.values())
    feed = [b.trade(listed[i % 4], f"w{i % 3}", at=DAY + timedelta(minutes=20 * i + 5), tx=f"b{i}") for i in range(36)]
    feed += [
        b.trade(listed[0], "w0", side="SELL", at=DAY + timedelta(hours=14), tx="s1"),
        b.trade(listed[1], "w1", side="SELL", at=DAY + timedelta(hours=20), tx="s2"),
        b.trade(b.market("never-bought"), "w2", side="SELL", at=DAY + timedelta(hours=22), tx="s3"),
    ]
    return feed, markets


def test_the_same_seed_and_day_give_the_same_plan_and_another_seed_another():
    feed, markets = _day()
    first = plan_faults(7, feed, markets, CATEGORIES)
    assert plan_faults(7, feed, markets, CATEGORIES) == first
    assert plan_faults(7, feed, markets, CATEGORIES).describe() == first.describe()
    assert plan_faults(8, feed, markets, CATEGORIES) != first


@pytest.mark.parametrize("seed", range(6))
def test_each_kind_aims_at_a_few_buys_of_its_own(seed):
    feed, markets = _day()
    plan = plan_faults(seed, feed, markets, CATEGORIES)
    buys = {t.key for t in feed if t.side.value == "BUY"}
    pools = [plan.targets(k) for k in (faults.VENUE_TIMEOUT, faults.VENUE_5XX, faults.CRASH_BEFORE_LEDGER,
                                       faults.CRASH_AFTER_VENUE, faults.THROTTLE)]  # fmt: skip
    keys = [k for pool in pools for k in pool.candidates]
    assert len(keys) == len(set(keys)) and set(keys) <= buys  # each fill is aimed at by one kind at most
    for pool in pools:
        assert 2 <= pool.count <= 4 and pool.count <= len(pool.candidates) <= 3 * pool.count
    assert 2 <= len(plan.redeliveries) <= 4 and 2 <= len(plan.malformed) <= 4
    assert all(20 <= r.after_s <= 240 for r in plan.redeliveries)  # inside the 300 s freshness window


def test_the_midnight_sells_are_the_last_sells_of_tokens_bought_that_day():
    feed, markets = _day()
    plan = plan_faults(1, feed, markets, CATEGORIES)
    sells = [t.key for t in feed if t.side.value == "SELL"]
    assert plan.sells_at_midnight == Targets((sells[0], sells[1]), 2)
    assert plan.midnight == DAY + timedelta(days=1) == next_midnight(feed[-1].detected_at)


def test_a_retag_moves_a_market_bought_before_and_after_to_a_new_event_and_another_category():
    feed, markets = _day()
    for seed in range(5):
        plan = plan_faults(seed, feed, markets, CATEGORIES)
        assert 1 <= len(plan.retags) <= 2
        for retag in plan.retags:
            market = markets[retag.condition_id]
            bought = [t.detected_at for t in feed if t.condition_id == retag.condition_id and t.side.value == "BUY"]
            assert not market.neg_risk and retag.category != market.category and retag.event_id != market.event_id
            assert min(bought) < retag.at < max(bought)


def test_every_malformed_body_is_refused_by_the_score_steps_parser():
    feed, _ = _day()
    for shape in ("not_a_trade", "absurd_epoch", "not_json", "absurd_epoch_ms"):
        refused = parse_trade({"body": faults.malformed_body(feed[0], shape)})
        assert isinstance(refused, str), shape


# ------------------------------------------------------------------------------------------------ injectors
def _plan(**targets: Targets) -> FaultPlan:
    none = Targets((), 0)
    names = ("venue_timeout", "venue_5xx", "crash_before_ledger", "crash_after_venue", "throttled", "sells_at_midnight")
    fields = {name: targets.get(name, none) for name in names}
    return FaultPlan(seed=0, midnight=b.T0 + timedelta(hours=12), redeliveries=(), retags=(), malformed=(), **fields)


def _venue(plan: FaultPlan, clock: Clock) -> tuple[FaultyVenue, Injected]:
    m = b.market("m1")
    yes = m.tokens[0].token_id
    book = b.book(yes, bids=[("0.49", "300")], asks=[("0.50", "500")])
    injected = Injected(plan, clock)
    return FaultyVenue(PaperVenue(lambda _: book), injected, clock), injected


def test_only_the_first_count_candidates_that_get_there_are_faulted():
    injected = Injected(_plan(venue_5xx=Targets(("a", "b", "c"), 2)), Clock())
    claimed = [injected.claim(faults.VENUE_5XX, k) for k in ("x", "b", "b", "c", "a")]
    assert claimed == [False, True, False, True, False]
    assert injected.fired(faults.VENUE_5XX) == ["b", "c"]


def test_a_timeout_after_fill_fills_then_raises_and_the_venue_knows_the_order():
    clock = Clock()
    venue, injected = _venue(_plan(venue_timeout=Targets(("t1",), 1)), clock)
    order = b.sized_order("k1", trade_key="t1", shares="20", limit_price="0.5")
    prepared = venue.prepare(order, clock())
    with pytest.raises(VenueAmbiguous, match="read timeout"):
        venue.place(order, prepared)
    found = venue.lookup(order, prepared.venue_order_id, clock())
    assert found is not None and found.filled_shares == Decimal(20)
    assert injected.counts[faults.VENUE_TIMEOUT] == 1


def test_a_5xx_before_fill_places_nothing():
    clock = Clock()
    venue, injected = _venue(_plan(venue_5xx=Targets(("t1",), 1)), clock)
    order = b.sized_order("k1", trade_key="t1", shares="20", limit_price="0.5")
    prepared = venue.prepare(order, clock())
    with pytest.raises(VenueAmbiguous, match="503"):
        venue.place(order, prepared)
    assert venue.lookup(order, prepared.venue_order_id, clock()) is None
    assert injected.counts[faults.VENUE_5XX] == 1


def test_a_sell_pending_at_midnight_cannot_be_looked_up_before_midnight():
    clock = Clock()
    plan = _plan(sells_at_midnight=Targets(("s1",), 1))
    venue, injected = _venue(plan, clock)
    order = b.sized_order("k1", trade_key="s1", side="SELL", shares="20", limit_price="0.49")
    prepared = venue.prepare(order, clock())
    with pytest.raises(VenueAmbiguous):
        venue.place(order, prepared)
    clock.now = plan.midnight - timedelta(seconds=1)
    with pytest.raises(VenueAmbiguous, match="cannot be reached"):
        venue.lookup(order, prepared.venue_order_id, clock())
    clock.now = plan.midnight
    found = venue.lookup(order, prepared.venue_order_id, clock())
    assert found is not None and found.filled_shares == Decimal(20)
    assert injected.counts[faults.SELL_AT_MIDNIGHT] == 1


class _Ledger:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []

    def begin(self, *args: object, **kwargs: object) -> None:
        self.calls.append(("begin", args[2:], kwargs))

    def record(self, *args: object, **kwargs: object) -> None:
        self.calls.append(("record", args[2:], kwargs))


def test_execute_dies_once_at_each_crash_point_of_a_faulted_copy():
    inner = _Ledger()
    plan = _plan(crash_before_ledger=Targets(("t1",), 1), crash_after_venue=Targets(("t2",), 1))
    ledger = FaultyLedger(inner, Injected(plan, Clock()))  # type: ignore[arg-type]
    first, second = b.sized_order("k1", trade_key="t1"), b.sized_order("k2", trade_key="t2")
    filled = b.execution(second, ExecutionStatus.FILLED, "10", "5")
    with pytest.raises(InjectedCrash):
        ledger.begin(first, Decimal(5), b.T0)
    ledger.begin(first, Decimal(5), b.T0, venue_order_id="v1")  # the copy's next attempt goes through
    with pytest.raises(InjectedCrash):
        ledger.record(second, filled, Decimal(5), b.T0)
    ledger.record(second, filled, Decimal(5), b.T0, Decimal("0.3"))
    # every argument reaches the ledger as given (the real one gained `stop_at_entry` after the wrapper was written)
    assert inner.calls == [
        ("begin", (b.T0,), {"venue_order_id": "v1"}),
        ("record", (Decimal(5), b.T0, Decimal("0.3")), {}),
    ]


def test_a_copys_three_transactions_are_told_apart():
    orders, risk = OrderModel.Meta.table_name, RiskStateModel.Meta.table_name
    reserve = [{"Put": {"TableName": risk, "Item": {"pk": {"S": "paper#RESV#k1"}}}}]
    begin = [{"ConditionCheck": {"TableName": risk, "Key": {"pk": {"S": "paper#RESV#k1"}}}},
             {"Put": {"TableName": orders, "Item": {"idempotency_key": {"S": "k1"}}}}]  # fmt: skip
    settle = [{"Update": {"TableName": orders, "Key": {"idempotency_key": {"S": "k1"}}}}]
    assert [transaction_phase(items, "k1") for items in (reserve, begin, settle)] == ["reserve", "begin", "settle"]
    assert transaction_phase(settle, "k2") is None
