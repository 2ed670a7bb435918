"""Reservations under the risk caps as conditional writes in DynamoDB (moto server over real HTTP), under real
concurrency: market, total, group, category and whale caps, cash, open orders, the order rate, idempotent retries."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.model import SizedOrder
from copytrader.reasons import Reason
from copytrader.risk.rules import Scope, screen
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from tests.support import builders as b

D = Decimal


def _order(
    key: str, amount: str, market: str = "m1", *, group: str = "", category: str = "", wallet: str = ""
) -> SizedOrder:
    """A BUY of 10 shares at 0.5 in the YES token of `b.market(market)` that reserves `amount` pUSD."""
    return b.sized_order(key, market=market, max_cost=amount, risk_group=group, category=category, wallet=wallet)


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


def test_a_retried_reservation_carries_the_stop_it_recorded_not_the_setting_in_force_now(aws):
    # GIVEN a reservation approved while the stop-loss setting was 0.2
    store = AccountStore("paper")
    store.items.open_account(D(1000), b.T0)
    first = store.reservations.reserve(screen(_order("k1", "60"), RiskLimits(stop_loss=D("0.2")), b.T0), b.T0)

    # WHEN risk_check is retried after the setting changed to 0.1
    again = store.reservations.reserve(screen(_order("k1", "60"), RiskLimits(stop_loss=D("0.1")), b.T0), b.T0)

    # THEN both decisions carry the stop the reservation recorded, which execute books on the position
    assert (first.approved, first.stop_loss) == (True, D("0.2"))
    assert (again.approved, again.detail, again.stop_loss) == (True, "already reserved (retry)", D("0.2"))
    assert store.items.reservation("k1").stop_loss == D("0.2")


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
