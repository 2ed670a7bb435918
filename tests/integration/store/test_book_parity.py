"""The two account books agree: the DynamoDB store (moto server over HTTP) and the in-memory `AccountBook` end in
the same state, item for item, after the same reservations, fills, sells, releases and redemptions.

Both apply `copytrader.risk.changes`; this checks everything around it (which items are read, which conditions
hold, rounding on the micro grid) with a seeded random sequence of operations, compared after every step.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal as D
from typing import Any

from copytrader.model import ExecutionStatus, Market, Side, SizedOrder
from copytrader.money import MICRO, SIZE_STEP
from copytrader.risk.book import AccountBook
from copytrader.risk.rules import ReservationRequest, breaker_floor, drawdown_floor, screen
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from copytrader.store.orders import OrderLedger
from copytrader.store.tables import LedgerEntryModel, PositionModel, RiskStateModel
from tests.support import builders as b

ACCOUNT = "paper"
MARKETS = ("m1", "m2", "m3")
WHALES = ("w1", "w2", "w3")
LIMITS = RiskLimits(max_market_exposure=D(400), max_group_exposure=D(600), max_drawdown=D("0.02"))


def _store_state(store: AccountStore) -> dict[str, Any]:
    account = store.items.account_item()
    items: dict[str, Any] = {}
    for item in RiskStateModel.scan(RiskStateModel.pk.startswith(f"{ACCOUNT}#")):
        parts = item.pk.split("#", 2)
        kind, name = (parts[1], parts[2]) if len(parts) == 3 else (parts[-1], "")
        if kind in ("MARKET", "GROUP", "CATEGORY", "WHALE", "PART"):
            items[f"{kind}#{name}"] = item.exposure
        elif kind == "RESV":
            items[f"RESV#{name}"] = (item.amount, bool(item.settled), item.stop_loss)
        elif kind == "RATE":
            items[f"RATE#{name}"] = int(item.order_count)
        elif kind == "DAY":
            items[f"DAY#{name}"] = (item.day_start_equity, item.day_realized_pnl, item.breaker == "OPEN")
    positions = {
        p.token_id: (p.shares, p.cost_basis, p.fees_paid, p.realized_pnl, p.risk_group, p.category,
                     frozenset(p.whales or ()), frozenset(p.groups or ()), frozenset(p.categories or ()), p.stop_loss,
                     p.opened_at, p.closed)
        for p in PositionModel.query(ACCOUNT)
    }  # fmt: skip
    ledger = {e.entry_id: (e.kind, e.shares_delta, e.cash_delta, e.fee) for e in LedgerEntryModel.query(ACCOUNT)}
    return {
        "account": (account.cash, account.reserved, account.open_cost, int(account.open_orders), account.committed,
                    account.available, account.equity, account.equity_hwm, bool(account.drawdown_halt)),
        "items": {k: v for k, v in items.items() if v not in (0, None)},
        "positions": positions,
        "ledger": ledger,
    }  # fmt: skip


def _book_state(book: AccountBook) -> dict[str, Any]:
    a = book.account
    assert a is not None
    items: dict[str, Any] = {f"{scope.value}#{name}": v for (scope, name), v in book.exposure.items()}
    items |= {f"RESV#{k}": (r.record.amount, r.settled, r.record.stop_loss) for k, r in book.reservations.items()}
    items |= {f"RATE#{m}": n for m, n in book.rate.items()}
    items |= {f"DAY#{d}": (day.start_equity, day.realized, day.breaker_open) for d, day in book.days.items()}
    positions = {
        t: (p.shares, p.cost_basis, p.fees_paid, p.realized_pnl, p.risk_group, p.category, frozenset(p.whales),
            frozenset(p.groups), frozenset(p.categories), p.stop_loss, p.opened_at, p.closed)
        for t, p in book.positions.items()
    }  # fmt: skip
    ledger = {k: (line.kind, line.shares_delta, line.cash_delta, line.fee) for k, (_, line) in book.ledger.items()}
    return {
        "account": (a.cash, a.reserved, a.open_cost, a.open_orders, a.committed, a.available, a.equity, a.equity_hwm,
                    a.drawdown_halt),
        "items": {k: v for k, v in items.items() if v not in (0, None)},
        "positions": positions,
        "ledger": ledger,
    }  # fmt: skip


class Both:
    """The same operations on both books."""

    def __init__(self) -> None:
        self.store = AccountStore(ACCOUNT)
        self.ledger = OrderLedger(self.store)
        self.book = AccountBook()
        self.store.items.open_account(D(10000), b.T0)
        self.book.open(D(10000))
        self.pending: dict[str, tuple[SizedOrder, D]] = {}

    def reserve(self, order: SizedOrder) -> D:
        request = screen(order, LIMITS, b.T0)
        assert isinstance(request, ReservationRequest)
        ours, theirs = self.store.reservations.reserve(request, b.T0), self.book.reserve(request, b.T0)
        assert (ours.approved, ours.reason, ours.reserved, ours.detail, ours.stop_loss) == (
            theirs.approved, theirs.reason, theirs.reserved, theirs.detail, theirs.stop_loss,
        )  # fmt: skip
        return ours.reserved if ours.approved else D(-1)

    def settle(self, order: SizedOrder, status: ExecutionStatus, shares: D, cash: D, reserved: D) -> None:
        result = b.execution(order, status, shares, cash, fee=(cash * D("0.01")).quantize(MICRO))
        assert self.ledger.begin(order, reserved, b.T0) is None
        self.ledger.record(order, result, reserved, b.T0)
        self.book.settle(order, result, reserved, b.T0)

    def redeem(self, market: Market) -> None:
        ours = self.store.settlements.redeem(market, b.T0)
        assert ours == self.book.redeem(market, b.T0)

    def breakers(self) -> None:
        for trip in ("trip_breaker_if_needed", "trip_drawdown_if_needed"):
            floor = (lambda e: breaker_floor(e, LIMITS)) if "breaker" in trip else (lambda m: drawdown_floor(m, LIMITS))
            assert getattr(self.store.breakers, trip)(b.T0, floor) == getattr(self.book, trip)(b.T0, floor)
        assert self.store.breakers.update_high_water_mark(b.T0) == self.book.update_high_water_mark(b.T0)

    def same(self) -> None:
        assert _store_state(self.store) == _book_state(self.book)


def _buy(rng: random.Random, n: int) -> SizedOrder:
    market, whale = rng.choice(MARKETS), rng.choice(WHALES)
    amount = D(rng.randint(5, 250))
    return b.sized_order(
        f"buy{n}", market=market, shares=(amount / D("0.5")).quantize(SIZE_STEP), max_cost=amount,
        wallet=b.wallet(whale), risk_group=f"event:{market[-1] if market != 'm3' else '1'}",
        category="politics" if market != "m2" else "sports",
    )  # fmt: skip


def test_a_random_day_leaves_both_books_identical(aws):
    rng = random.Random(20261207)
    both = Both()
    both.store.items.day_item(b.T0)
    both.book.day(b.T0)
    resolved: set[str] = set()
    done: Counter[str] = Counter()
    for n in range(60):
        action = rng.choice(("buy", "buy", "buy", "buy", "hold", "settle_held", "sell", "sell", "release", "redeem"))
        if action in ("buy", "hold"):
            order = _buy(rng, n)
            if order.condition_id in resolved:
                continue
            reserved = both.reserve(order)
            if reserved < 0:
                continue
            if action == "hold":  # a reservation left open for now (an order still working)
                both.pending[order.idempotency_key] = (order, reserved)
            else:
                fraction = rng.choice((D(0), D("0.5"), D("0.83"), D(1)))
                shares = (order.shares * fraction).quantize(SIZE_STEP)
                cash = (reserved * fraction).quantize(MICRO)
                status = ExecutionStatus.UNFILLED if shares == 0 else ExecutionStatus.FILLED
                both.settle(order, status, shares, cash if shares else D(0), reserved)
        elif action == "settle_held" and both.pending:
            order, reserved = both.pending.pop(sorted(both.pending)[0])
            third = (order.shares / 3).quantize(SIZE_STEP), (reserved / 3).quantize(MICRO)
            both.settle(order, ExecutionStatus.PARTIAL, *third, reserved)
        elif action == "release" and both.pending:
            key = sorted(both.pending)[-1]
            order, reserved = both.pending.pop(key)
            assert both.store.settlements.release(key, order.condition_id, reserved, b.T0)
            assert both.book.release(key, order.condition_id, reserved, b.T0)
        elif action == "sell":
            held = [t for t, p in sorted(both.book.positions.items()) if p.shares >= 1]
            if not held:
                continue
            token = rng.choice(held)
            position = both.book.positions[token]
            shares = position.shares if rng.random() < 0.3 else (position.shares / 2).quantize(SIZE_STEP)
            sell = b.sized_order(
                f"sell{n}", side=Side.SELL, shares=shares, limit_price="0.3", token_id=token,
                condition_id=position.condition_id, wallet=b.wallet("w1"),
            )  # fmt: skip
            price = D(rng.choice(("0.2", "0.45", "0.7")))
            both.settle(sell, ExecutionStatus.FILLED, shares, (shares * price).quantize(MICRO), D(0))
        elif action == "redeem":
            label = rng.choice(MARKETS)
            market = b.market(label)
            yes, no = market.tokens
            payout = rng.choice(((D(1), D(0)), (D(0), D(1)), (D("0.5"), D("0.5"))))
            payouts = dict(zip((yes.token_id, no.token_id), payout, strict=True))
            both.redeem(market.model_copy(update={"closed": True, "payouts": payouts}))
            resolved.add(market.condition_id)
        done[action] += 1
        both.breakers()
        both.same()
    kinds = {line.kind for _, line in both.book.ledger.values()}
    assert kinds == {"DEPOSIT", "FILL_BUY", "FILL_SELL", "REDEEM"} and len(both.book.ledger) >= 15, (done, kinds)
    assert both.book.account is not None and both.book.account.drawdown_halt  # the halt tripped on the way
