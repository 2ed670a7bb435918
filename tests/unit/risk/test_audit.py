"""The audit's invariants on the in-memory book: a sound day passes every check, and each corruption is caught by the
check that names it (and only by the checks it must break)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal as D

import pytest

from copytrader.model import ExecutionStatus, Side
from copytrader.risk.audit import Books, audit, books_of, violations
from copytrader.risk.book import AccountBook
from copytrader.risk.rules import Scope, screen
from copytrader.settings import RiskLimits
from tests.support import builders as b

BOUND = timedelta(minutes=15)
MARKET = b.market("m1")
OTHER = b.market("m2")


def _sound_day() -> AccountBook:
    """Two whales' BUYs in m1 under two groups (a re-tag), a partial sell, m2 bought and redeemed, one BUY in
    flight (reserved, no fill yet)."""
    book = AccountBook()
    book.open(D(10000), b.T0)

    def buy(key: str, market: str, cost: str, shares: str, **scope: str) -> None:
        order = b.sized_order(key, market=market, max_cost=cost, **scope)
        decision = book.reserve(screen(order, RiskLimits(), b.T0), b.T0)  # type: ignore[arg-type]
        assert decision.approved
        fill = b.execution(order, ExecutionStatus.FILLED, shares, cost, fee=D("0.3"))
        book.settle(order, fill, decision.reserved, b.T0)

    buy("b1", "m1", "60", "120", risk_group="A", category="politics", wallet=b.wallet("w1"))
    buy("b2", "m1", "40", "80", risk_group="B", category="sports", wallet=b.wallet("w2"))
    sell = b.sized_order("s1", market="m1", side=Side.SELL, shares="50", limit_price="0.4")
    book.settle(sell, b.execution(sell, ExecutionStatus.FILLED, "50", "22"), D(0), b.T0)
    buy("b3", "m2", "30", "60", wallet=b.wallet("w1"))
    yes, no = OTHER.tokens
    book.redeem(OTHER.model_copy(update={"closed": True, "payouts": {yes.token_id: D(1), no.token_id: D(0)}}), b.T0)
    in_flight = b.sized_order("b4", market="m1", max_cost="25")
    assert book.reserve(screen(in_flight, RiskLimits(), b.T0), b.T0).approved  # type: ignore[arg-type]
    return book


def _failing(books: Books, now=b.T0, resolved=()) -> list[str]:
    return [c.name for c in violations(audit(books, now=now, orphan_after=BOUND, resolved=resolved))]


def test_a_sound_day_passes_every_check_with_its_figures():
    books = books_of(_sound_day())
    checks = audit(books, now=b.T0, orphan_after=BOUND)
    assert [c.name for c in checks] == [
        "ledger_cash", "ledger_shares", "reserved", "reservation_owner", "open_orders", "account_totals", "exposure",
        "position_parts", "day_realized", "resolved_settled",
    ]  # fmt: skip
    assert violations(checks) == []
    # cash: 10000 - 60 - 40 + 22 - 30 + 60 (m2 redeemed at 1) = 9952; the ledger says the same
    assert checks[0].figures == {"ledger": "9952", "account": "9952"}
    # realized: the sell released 100 x 50/200 = 25 for 22 (-3); the redemption 60 - 30 (+30)
    assert checks[8].figures["days"] == {"2026-11-02": "27"}
    assert books.reserved == D(25) and books.open_orders == 1


@pytest.mark.parametrize(
    ("corrupt", "caught"),
    [
        (lambda x: dataclasses.replace(x, cash=x.cash + 1), ["ledger_cash", "account_totals"]),
        (
            lambda x: dataclasses.replace(
                x, reserved=x.reserved - 25, committed=x.committed - 25, available=x.available + 25
            ),
            ["reserved"],
        ),
        (lambda x: dataclasses.replace(x, open_orders=0), ["open_orders"]),
        (lambda x: dataclasses.replace(x, days={"2026-11-02": D(28)}), ["day_realized"]),
        (lambda x: dataclasses.replace(x, exposure={**x.exposure, (Scope.GROUP, "A"): D(-5)}), ["exposure"]),
        (lambda x: dataclasses.replace(x, exposure={**x.exposure, (Scope.CATEGORY, "sports"): D(0)}), ["exposure"]),
        (lambda x: dataclasses.replace(x, ledger=x.ledger[:-1]), ["ledger_cash", "ledger_shares", "day_realized"]),
    ],
    ids=["cash", "reserved", "open_orders", "day", "negative_scope", "leaked_scope", "lost_ledger_line"],
)
def test_each_corruption_is_caught_by_the_check_that_names_it(corrupt, caught):
    assert _failing(corrupt(books_of(_sound_day()))) == caught


def test_a_reservation_without_an_entry_is_an_orphan_only_after_the_bound():
    books = books_of(_sound_day())
    assert _failing(books, now=b.T0 + BOUND - timedelta(seconds=1)) == []
    assert _failing(books, now=b.T0 + BOUND) == ["reservation_owner"]
    # an unsettled ledger entry owns it at any age
    owned = dataclasses.replace(books, unsettled_entries={"b4": D(25)})
    assert _failing(owned, now=b.T0 + timedelta(days=3)) == []
    # an unsettled entry that reserved without a reservation is a violation too
    assert _failing(dataclasses.replace(books, unsettled_entries={"b4": D(25), "ghost": D(5)})) == ["reservation_owner"]


def test_shares_held_in_a_resolved_market_are_a_violation():
    assert _failing(books_of(_sound_day()), resolved={MARKET.condition_id}) == ["resolved_settled"]
