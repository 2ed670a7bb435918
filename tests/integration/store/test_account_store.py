"""Risk limits as conditional writes in DynamoDB (moto server over real HTTP), under real concurrency."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.model import ExecutionResult, ExecutionStatus, OutcomeToken, Side, SizedOrder
from copytrader.reasons import Reason
from copytrader.risk.changes import AccountDelta, Changes
from copytrader.risk.rules import Scope, breaker_floor, drawdown_floor, screen
from copytrader.runtime.alerts import NoAlerts
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from copytrader.store.orders import OrderLedger
from copytrader.workflows.copy import steps
from tests.support import builders as b

D = Decimal


def _order(
    key: str, amount: str, market: str = "m1", *, group: str = "", category: str = "", wallet: str = ""
) -> SizedOrder:
    return SizedOrder(
        action="PLACE",
        idempotency_key=key,
        token_id=b.token_id(market),
        condition_id=b.hex_id(f"condition:{market}", 32),
        risk_group=group,
        category=category,
        wallet=wallet,
        side=Side.BUY,
        shares=D(10),
        limit_price=D("0.5"),
        max_cost=D(amount),
    )


def _reserve_all(orders, limits, workers=50):
    barrier = threading.Barrier(min(workers, len(orders)))

    def one(order):
        store = AccountStore("paper")
        request = screen(order, limits, b.T0)
        barrier.wait()  # release every thread at once
        return store.reservations.reserve(request, b.T0)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, orders))


def test_fifty_concurrent_approvals_never_exceed_the_market_cap(aws):
    # GIVEN a 10,000 pUSD account and a 500 pUSD market cap
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(max_market_exposure=D(500), max_total_exposure=D(5000))

    # WHEN 50 copies of 30 pUSD each ask for a reservation in the same market at the same moment
    decisions = _reserve_all([_order(f"k{i}", "30") for i in range(50)], limits)

    # THEN exactly floor(500 / 30) = 16 are approved and the rest name the market cap
    approved = [d for d in decisions if d.approved]
    assert len(approved) == 16
    assert {d.reason for d in decisions if not d.approved} == {Reason.MARKET_CAP}
    assert store.reads.exposure(Scope.MARKET, b.hex_id("condition:m1", 32)) == D(480)
    state = store.reads.state(b.T0)
    assert state.reserved == D(480) and state.cash == D(10000)


def test_fifty_concurrent_approvals_never_exceed_the_total_cap_across_markets(aws):
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(
        max_market_exposure=D(500),
        max_group_exposure=D(1000),
        max_category_exposure=D(1000),
        max_whale_exposure=D(1000),
        max_total_exposure=D(1000),
    )
    orders = [_order(f"k{i}", "70", market=f"m{i}", category=f"c{i}", wallet=b.wallet(f"w{i}")) for i in range(50)]
    decisions = _reserve_all(orders, limits)
    assert sum(d.approved for d in decisions) == 14  # floor(1000 / 70)
    assert {d.reason for d in decisions if not d.approved} == {Reason.TOTAL_CAP}
    assert store.reads.state(b.T0).reserved == D(980)


def test_cash_limit_and_idempotent_retries(aws):
    store = AccountStore("paper")
    store.items.open_account(D(100), b.T0)
    limits = RiskLimits()
    first = store.reservations.reserve(screen(_order("k1", "60"), limits, b.T0), b.T0)
    again = store.reservations.reserve(screen(_order("k1", "60"), limits, b.T0), b.T0)
    poor = store.reservations.reserve(screen(_order("k2", "60", market="m2"), limits, b.T0), b.T0)
    assert first.approved and again.approved and again.detail.startswith("already reserved")
    assert store.reads.state(b.T0).reserved == D(60)  # the retry reserved nothing more
    assert not poor.approved and poor.reason is Reason.INSUFFICIENT_CASH
    assert store.settlements.release("k1", b.hex_id("condition:m1", 32), D(60), b.T0) is True
    assert store.settlements.release("k1", b.hex_id("condition:m1", 32), D(60), b.T0) is False  # only once
    assert (
        store.reads.state(b.T0).reserved == 0 and store.reads.exposure(Scope.MARKET, b.hex_id("condition:m1", 32)) == 0
    )


def test_breaker_trips_once_blocks_buys_and_a_new_day_starts_closed(aws):
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits()
    store.items.day_item(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.items.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-500))])
    floor = lambda equity: breaker_floor(equity, limits)  # noqa: E731
    with ThreadPoolExecutor(max_workers=10) as pool:
        trips = list(pool.map(lambda _: AccountStore("paper").breakers.trip_breaker_if_needed(b.T0, floor), range(10)))
    assert trips.count(True) == 1  # one alert, however many settle at once
    blocked = store.reservations.reserve(screen(_order("k9", "10"), limits, b.T0), b.T0)
    assert not blocked.approved and blocked.reason is Reason.BREAKER_OPEN
    tomorrow = b.T0 + timedelta(days=1)
    assert store.reservations.reserve(screen(_order("k10", "10"), limits, tomorrow), tomorrow).approved


def test_operator_kill_switch_and_breaker_reset(aws):
    # GIVEN an account with an open breaker
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits()
    store.items.day_item(b.T0)
    from copytrader.store.tables import RiskStateModel as R

    R.get(store.items.day_key("2026-11-02")).update(actions=[R.day_realized_pnl.set(D(-600))])
    assert store.breakers.trip_breaker_if_needed(b.T0, lambda equity: breaker_floor(equity, limits))

    # WHEN the operator resets it by hand, THEN buys pass again
    store.breakers.reset_breaker(b.T0)
    assert store.reads.state(b.T0).breaker_open is False
    assert store.reservations.reserve(screen(_order("k1", "10"), limits, b.T0), b.T0).approved

    # WHEN the operator turns the account's kill switch on, THEN nothing more is reserved until it is off
    store.breakers.set_kill_switch(True, b.T0)
    stopped = store.reservations.reserve(screen(_order("k2", "10"), limits, b.T0), b.T0)
    assert not stopped.approved and stopped.reason is Reason.KILL_SWITCH
    store.breakers.set_kill_switch(False, b.T0)
    assert store.reservations.reserve(screen(_order("k3", "10"), limits, b.T0), b.T0).approved
    assert store.reads.state(b.T0).reserved == D(20)


def test_a_cancelled_transaction_leaves_nothing_behind(aws):
    # GIVEN a reservation whose market condition fails after the account update succeeded in moto's loop
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(max_market_exposure=D(50))
    assert store.reservations.reserve(screen(_order("k1", "40"), limits, b.T0), b.T0).approved

    # WHEN a second reservation in the same market is refused by the market cap
    refused = store.reservations.reserve(screen(_order("k2", "40"), limits, b.T0), b.T0)

    # THEN no part of it stayed: no reservation item, the account's reserved/available untouched
    assert refused.reason is Reason.MARKET_CAP
    assert store.items.reservation("k2") is None
    state = store.reads.state(b.T0)
    assert state.reserved == D(40) and state.available_cash == D(9960)
    assert store.reads.exposure(Scope.MARKET, b.hex_id("condition:m1", 32)) == D(40)


# ------------------------------------------------------------------ group, category, whale, counts, rate

WIDE = {  # caps that do not bind unless a test lowers one
    "max_market_exposure": D(500),
    "max_group_exposure": D(5000),
    "max_category_exposure": D(5000),
    "max_whale_exposure": D(5000),
    "max_total_exposure": D(5000),
    "max_open_orders": 100,
    "max_orders_per_minute": 100,
}


@pytest.mark.parametrize(
    ("binding", "reason", "scope_of"),
    [
        ("max_group_exposure", Reason.GROUP_CAP, lambda i: {"group": "negrisk:one", "category": f"c{i}"}),
        ("max_category_exposure", Reason.CATEGORY_CAP, lambda i: {"group": f"event:{i}", "category": "sports"}),
        ("max_whale_exposure", Reason.WHALE_CAP, lambda i: {"group": f"event:{i}", "category": f"c{i}"}),
    ],
)
def test_fifty_concurrent_approvals_across_markets_never_exceed_a_group_category_or_whale_cap(
    aws, binding, reason, scope_of
):
    # GIVEN a 300 pUSD cap on one group, one category or one whale, every other cap wide open
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(**{**WIDE, "max_market_exposure": D(100), binding: D(300)})
    whale = b.wallet("whale")

    # WHEN 50 copies of 20 pUSD in 50 different markets ask at the same moment (the same whale throughout)
    orders = [_order(f"k{i}", "20", market=f"m{i}", wallet=whale, **scope_of(i)) for i in range(50)]
    decisions = _reserve_all(orders, limits)

    # THEN exactly floor(300 / 20) = 15 are approved, every other one names the binding cap
    assert sum(d.approved for d in decisions) == 15
    assert {d.reason for d in decisions if not d.approved} == {reason}
    assert store.reads.exposure(Scope.WHALE, whale) == D(300)
    if binding == "max_group_exposure":
        assert store.reads.exposure(Scope.GROUP, "negrisk:one") == D(300)
    if binding == "max_category_exposure":
        assert store.reads.exposure(Scope.CATEGORY, "sports") == D(300)
    assert store.reads.state(b.T0).reserved == D(300) and store.reads.open_orders() == 15


def test_fifty_concurrent_approvals_in_one_group_category_and_whale_respect_every_cap(aws):
    # GIVEN caps that all come close: group 700, category 800, whale 600, total 900, market 100
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(
        **{
            **WIDE,
            "max_market_exposure": D(100),
            "max_group_exposure": D(700),
            "max_category_exposure": D(800),
            "max_whale_exposure": D(600),
            "max_total_exposure": D(900),
        }
    )
    whale = b.wallet("whale")
    # WHEN 50 copies of uneven amounts in 10 markets of one group, one category, one whale arrive together
    amounts = [D(7 + (i * 13) % 41) for i in range(50)]
    orders = [
        _order(f"k{i}", str(amount), market=f"m{i % 10}", group="event:e", category="politics", wallet=whale)
        for i, amount in enumerate(amounts)
    ]
    decisions = _reserve_all(orders, limits)

    # THEN nothing exceeds its cap, the books agree with the approvals, and every rejection has a cap reason
    approved = [amount for amount, d in zip(amounts, decisions, strict=True) if d.approved]
    assert store.reads.exposure(Scope.WHALE, whale) == sum(approved) <= D(600)
    assert store.reads.exposure(Scope.GROUP, "event:e") == sum(approved) and store.reads.exposure(
        Scope.CATEGORY, "politics"
    ) == sum(approved)
    for m in range(10):
        in_market = [a for i, (a, d) in enumerate(zip(amounts, decisions, strict=True)) if d.approved and i % 10 == m]
        assert store.reads.exposure(Scope.MARKET, b.hex_id(f"condition:m{m}", 32)) == sum(in_market) <= D(100)
    assert {d.reason for d in decisions if not d.approved} <= {Reason.WHALE_CAP, Reason.MARKET_CAP}
    assert sum(approved) > D(600) - D(47)  # nearly full: a refusal means the next amount would not have fitted
    exposures = store.reads.exposures(b.hex_id("condition:m0", 32), "event:e", "politics", whale)
    assert exposures.whale == sum(approved) and exposures.committed == sum(approved)
    assert exposures.available == D(10000) - sum(approved)


def test_open_orders_limit_holds_exactly_under_concurrency_and_a_settled_order_frees_a_slot(aws):
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(**{**WIDE, "max_open_orders": 7})
    orders = [_order(f"k{i}", "10", market=f"m{i}", wallet=b.wallet(f"w{i}")) for i in range(50)]
    decisions = _reserve_all(orders, limits)
    assert sum(d.approved for d in decisions) == 7
    assert {d.reason for d in decisions if not d.approved} == {Reason.OPEN_ORDERS_LIMIT}
    assert store.reads.open_orders() == 7 and store.reads.state(b.T0).reserved == D(70)

    # WHEN one order settles with nothing filled, THEN its slot (and its exposure) comes back
    first = next(o for o, d in zip(orders, decisions, strict=True) if d.approved)
    assert store.settlements.release(first.idempotency_key, first.condition_id, D(10), b.T0)
    assert store.reads.open_orders() == 6 and store.reads.exposure(Scope.WHALE, first.wallet) == 0
    assert store.reservations.reserve(screen(_order("again", "10", market="m99"), limits, b.T0), b.T0).approved
    refused = store.reservations.reserve(screen(_order("over", "10", market="m98"), limits, b.T0), b.T0)
    assert refused.reason is Reason.OPEN_ORDERS_LIMIT and refused.detail == "7 open orders (max 7)"


def test_order_rate_limit_holds_exactly_per_utc_minute(aws):
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(**{**WIDE, "max_orders_per_minute": 9})
    orders = [_order(f"k{i}", "10", market=f"m{i}") for i in range(50)]
    decisions = _reserve_all(orders, limits)
    assert sum(d.approved for d in decisions) == 9
    assert {d.reason for d in decisions if not d.approved} == {Reason.ORDER_RATE_LIMIT}
    assert store.reads.orders_in_minute(b.T0) == 9

    # a retry of an approved copy is not a new order: approved again, nothing more counted
    retried = next(o for o, d in zip(orders, decisions, strict=True) if d.approved)
    assert store.reservations.reserve(screen(retried, limits, b.T0), b.T0).detail == "already reserved (retry)"
    assert store.reads.orders_in_minute(b.T0) == 9
    # the same second of the next minute starts a new window; the counter item expires by TTL
    later = b.T0 + timedelta(seconds=59)
    assert (
        store.reservations.reserve(screen(_order("late", "10", "m60"), limits, later), later).reason
        is Reason.ORDER_RATE_LIMIT
    )
    next_minute = b.T0 + timedelta(minutes=1)
    assert store.reservations.reserve(screen(_order("next", "10", "m61"), limits, next_minute), next_minute).approved
    from copytrader.store.tables import RiskStateModel as R

    counter = R.get(store.items.rate_key("2026-11-02T12:00"))
    assert counter.order_count == 9 and counter.expires_at == b.T0 + timedelta(days=1)


# ----------------------------------------------------------------- conversion and release of exposure


def _fill(order: SizedOrder, status: ExecutionStatus, shares: str, cash: str, side: Side = Side.BUY):
    return ExecutionResult(
        idempotency_key=order.idempotency_key,
        status=status,
        side=side,
        filled_shares=D(shares),
        avg_price=D(cash) / D(shares) if D(shares) > 0 else None,
        cash_amount=D(cash),
        executed_at=b.T0,
    )


def _settled(
    store: AccountStore, ledger: OrderLedger, order: SizedOrder, limits: RiskLimits, status, shares: str, cash: str
):
    decision = store.reservations.reserve(screen(order, limits, b.T0), b.T0)
    assert decision.approved
    assert ledger.begin(order, decision.reserved, b.T0) is None
    ledger.record(order, _fill(order, status, shares, cash, order.side), decision.reserved, b.T0)
    return decision


def test_fills_sells_and_redemptions_convert_and_release_every_cap_item(aws):
    # GIVEN two whales copied into the same token of a market in group "event:e", category "politics"
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    ledger = OrderLedger(store)
    limits = RiskLimits(stop_loss=D("0.2"))
    w1, w2 = b.wallet("w1"), b.wallet("w2")
    condition = b.hex_id("condition:m1", 32)

    def buy(key: str, wallet: str, amount: str) -> SizedOrder:
        return _order(key, amount, group="event:e", category="politics", wallet=wallet)

    def exposures() -> tuple[Decimal, ...]:
        return (
            store.reads.exposure(Scope.MARKET, condition),
            store.reads.exposure(Scope.GROUP, "event:e"),
            store.reads.exposure(Scope.CATEGORY, "politics"),
            store.reads.exposure(Scope.WHALE, w1),
            store.reads.exposure(Scope.WHALE, w2),
        )

    # WHEN w1's copy reserves 100 and fills 60 pUSD (120 shares), THEN every item holds the fill's cost
    _settled(store, ledger, buy("b1", w1, "100"), limits, ExecutionStatus.PARTIAL, "120", "60")
    assert exposures() == (D(60), D(60), D(60), D(60), D(0))
    # WHEN w2's copy reserves 50 and fills 40 (80 shares), THEN w2 holds its own 40
    _settled(store, ledger, buy("b2", w2, "50"), limits, ExecutionStatus.FILLED, "80", "40")
    assert exposures() == (D(100), D(100), D(100), D(60), D(40))
    # WHEN a copy finds nothing to fill, THEN its reservation comes back from every item
    _settled(store, ledger, buy("b3", w1, "30"), limits, ExecutionStatus.UNFILLED, "0", "0")
    assert exposures() == (D(100), D(100), D(100), D(60), D(40))
    assert store.reads.open_orders() == 0 and store.reads.state(b.T0).reserved == 0

    position = store.positions.get(b.token_id("m1"))
    assert position is not None and position.whales == {w1, w2}
    assert (position.risk_group, position.category, position.stop_loss) == ("event:e", "politics", D("0.2"))

    # WHEN half the position (100 of 200 shares, cost 50) is sold, THEN each whale releases half its part
    sell = SizedOrder(
        action="PLACE",
        idempotency_key="s1",
        token_id=b.token_id("m1"),
        condition_id=condition,
        risk_group="event:e",
        category="politics",
        wallet=w2,
        side=Side.SELL,
        shares=D(100),
        limit_price=D("0.4"),
    )
    assert ledger.begin(sell, D(0), b.T0) is None
    ledger.record(sell, _fill(sell, ExecutionStatus.FILLED, "100", "45", Side.SELL), D(0), b.T0)
    assert exposures() == (D(50), D(50), D(50), D(30), D(20))

    # WHEN the market resolves, THEN the redemption releases the rest everywhere
    yes = OutcomeToken(token_id=b.token_id("m1"), outcome="Yes")
    no = OutcomeToken(token_id=b.token_id("no"), outcome="No")
    resolved = b.market("m1", tokens=(yes, no), closed=True, payouts={yes.token_id: D(1), no.token_id: D(0)})
    assert [r.token_id for r in store.settlements.redeem(resolved, b.T0)] == [b.token_id("m1")]
    assert exposures() == (0, 0, 0, 0, 0)
    state = store.reads.state(b.T0)
    assert state.open_cost == 0 and state.cash == D(10000) - 100 + 45 + 100
    assert store.reads.risk_status(b.T0)["equity"] == str(state.cash)


# ----------------------------------------------------------------------------- the drawdown halt


def _lose(store: AccountStore, amount: str) -> None:
    store.settlements.commit(Changes(account=AccountDelta(cash=-D(amount))), b.T0)


def test_drawdown_halts_buys_once_and_the_operator_reset_rebases_the_mark(aws):
    # GIVEN a 10,000 pUSD account whose equity rose to 12,000 (the high-water mark follows)
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    limits = RiskLimits(max_drawdown=D("0.2"))
    _lose(store, "-2000")
    assert store.breakers.update_high_water_mark(b.T0) and not store.breakers.update_high_water_mark(b.T0)
    assert store.reads.risk_status(b.T0)["equity_high_water_mark"] == "12000"

    # WHEN equity falls to 9,600 (the floor, 0.8 x 12,000): still trading; to 9,599: halted, by one caller
    floor = lambda mark: drawdown_floor(mark, limits)  # noqa: E731
    _lose(store, "2400")
    assert not store.breakers.trip_drawdown_if_needed(b.T0, floor)
    _lose(store, "1")
    with ThreadPoolExecutor(max_workers=10) as pool:
        trips = list(pool.map(lambda _: AccountStore("paper").breakers.trip_drawdown_if_needed(b.T0, floor), range(10)))
    assert trips.count(True) == 1
    assert not store.breakers.update_high_water_mark(b.T0)  # a lower equity never lowers the mark

    # THEN buys are refused with the reason, nothing is reserved
    halted = store.reservations.reserve(screen(_order("k1", "10"), limits, b.T0), b.T0)
    assert not halted.approved and halted.reason is Reason.DRAWDOWN_HALT
    assert store.reads.state(b.T0).reserved == 0 and store.reads.open_orders() == 0

    # WHEN the operator resets, THEN buys pass and the mark is today's equity (no immediate re-halt)
    store.breakers.reset_drawdown(b.T0)
    status = store.reads.risk_status(b.T0)
    assert status["drawdown_halt"] is False and status["equity_high_water_mark"] == "9599"
    assert not store.breakers.trip_drawdown_if_needed(b.T0, floor)
    assert store.reservations.reserve(screen(_order("k2", "10"), limits, b.T0), b.T0).approved


def test_the_pipeline_alerts_once_on_a_drawdown_and_still_lets_exits_through(aws, make_deps, clock):
    deps = make_deps(risk={"max_drawdown": "0.1"})
    recorder = NoAlerts()
    deps.alerts = recorder
    deps.account.items.open_account(deps.settings.paper_bankroll, clock.now)
    _lose(deps.account, "1500")  # equity 8,500 < 0.9 x 10,000
    limits, now = deps.settings.risk, clock.now
    assert deps.account.breakers.check_drawdown(limits, recorder, now)
    assert not deps.account.breakers.check_drawdown(limits, recorder, now)
    assert [subject for subject, _ in recorder.sent] == ["copytrader: drawdown halt"]
    assert recorder.sent[0][1]["equity"] == "8500" and recorder.sent[0][1]["equity_high_water_mark"] == "10000"

    buy = steps.risk_check({"order": _order("k1", "10").model_dump(mode="json")}, deps)
    assert buy["approved"] is False and buy["reason"] == "drawdown_halt"
    sell = _order("k2", "0").model_copy(update={"side": Side.SELL, "max_cost": D(0)})
    assert steps.risk_check({"order": sell.model_dump(mode="json")}, deps)["approved"] is True
    broken = steps.risk_check({"order": {"action": "PLACE", "shares": "-1"}}, deps)
    assert broken["approved"] is False and broken["reason"] == "invalid_trade"


def test_an_account_from_before_the_drawdown_rule_gets_its_equity_and_mark_once(aws):
    from copytrader.store.tables import RiskStateModel as R

    # GIVEN an account item written without equity fields (cash 900, 100 open at cost)
    legacy = AccountStore("paper")
    R(
        pk=legacy.items.account_key(), cash=D(900), reserved=D(0), open_cost=D(100), committed=D(100), available=D(900)
    ).save()
    # WHEN a process ensures the account, THEN equity = cash + open cost and the mark starts there
    legacy.items.open_account(D(10000), b.T0)
    status = legacy.reads.risk_status(b.T0)
    assert (status["equity"], status["equity_high_water_mark"], status["drawdown_halt"]) == ("1000", "1000", False)
    # and a second process changes nothing
    AccountStore("paper").items.open_account(D(10000), b.T0)
    assert legacy.reads.risk_status(b.T0)["equity"] == "1000"
