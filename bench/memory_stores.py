"""In-memory stand-ins for the stores the copy steps use, so the four handlers can run with no I/O at all.

The account is `copytrader.risk.book.AccountBook`, the in-memory twin of the DynamoDB account (same rules, same
arithmetic, held to it by tests/integration/store/test_book_parity.py); the rest are the smallest fakes of the
interfaces the steps call: the score step's reads (`DecisionReads.prefetch`), whale stances, the orders ledger
(`execution.protocol.Ledger`) and the books the paper venue fills against. `memory_deps` wires them into a
`wiring.Deps`, so `pipeline_costs` can time the real handlers over them (our own work per copy, nothing else).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from copytrader.copying.conflicts import Stance
from copytrader.copying.exits import mirror_sale
from copytrader.execution.paper import PaperVenue
from copytrader.execution.protocol import LedgerEntry
from copytrader.model import (
    ExecutionResult,
    ExecutionStatus,
    Market,
    OrderBook,
    PortfolioState,
    SizedOrder,
    WhaleProfile,
    WhaleTrade,
    risk_group_of,
)
from copytrader.money import ZERO
from copytrader.risk.affordability import Exposures
from copytrader.risk.book import AccountBook
from copytrader.risk.rules import utc_day
from copytrader.settings import Settings
from copytrader.workflows import wiring


class MemoryAccount:
    """The account store's interface the copy steps use, over an `AccountBook` (items, reads, reservations)."""

    def __init__(self, book: AccountBook) -> None:
        self.book = book
        self.items = self
        self.reads = self
        self.reservations = self

    def open_account(self, bankroll: Decimal, now: datetime) -> bool:
        opened = self.book.account is None
        self.book.open(bankroll, now)
        return opened

    def account_item(self) -> Any:
        return self.book._account()

    def state_or_fresh(self, now: datetime, bankroll: Decimal) -> PortfolioState:
        """As the store reads it: an account not opened yet is the one it will open as."""
        if self.book.account is None:
            return PortfolioState(cash=bankroll, day=utc_day(now), day_start_equity=bankroll)
        return self.book.state(now)

    def reserve(self, request: Any, now: datetime) -> Any:
        return self.book.reserve(request, now)

    def count_exit(self, request: Any, now: datetime) -> Any:
        return self.book.count_exit(request, now)

    def exposures(self, condition_id: str, risk_group: str, category: str, wallet: str, *, bankroll: Decimal) -> Any:
        """What the score step read one item at a time before `DecisionReads` (kept to time older code the same way)."""
        if self.book.account is None:
            return Exposures(ZERO, ZERO, ZERO, ZERO, committed=ZERO, available=bankroll)
        return self.book.exposures(condition_id, risk_group, category, wallet)


@dataclass
class MemoryReads:
    """One trade's reads (`store.decision_reads.Prefetched`'s interface), from dictionaries and the book."""

    whale: WhaleProfile | None
    market: Market | None
    book: AccountBook
    bankroll: Decimal

    def load_whale(self, wallet: str) -> WhaleProfile | None:
        return self.whale

    def load_market(self, condition_id: str) -> Market | None:
        return self.market

    def load_held_shares(self, token_id: str) -> Decimal:
        position = self.book.positions.get(token_id)
        return position.shares if position is not None else ZERO

    def load_mirror(self, trade: WhaleTrade, held: Decimal) -> Decimal:
        """A whale's SELL sells all of what we hold here: the in-memory reads keep no whale holdings, and an unknown
        position before the sale is a full exit (`copytrader.copying.exits.mirror_sale`)."""
        position = self.book.positions.get(trade.token_id)
        if position is None or held <= 0:
            return ZERO
        return mirror_sale(held, position.cost_basis, None, None, trade.size)

    def exposures(self, market: Market, wallet: str) -> Exposures:
        found = self.book.exposures(market.condition_id, risk_group_of(market), market.category, wallet)
        if self.book.account is None:  # as the store reads an account not opened yet: the bankroll it opens with
            return Exposures(ZERO, ZERO, ZERO, ZERO, committed=ZERO, available=self.bankroll)
        return found

    @property
    def book_equity(self) -> Decimal:
        account = self.book.account
        return account.cash + account.open_cost if account is not None else self.bankroll


class _NoHoldings:
    """The in-memory reads keep no whale holdings (`store.whale_holdings`): a whale's SELL is a full exit here."""

    def observe(self, trade: WhaleTrade, now: datetime) -> bool:
        return False


class MemoryDecisionReads:
    def __init__(
        self, whales: dict[str, WhaleProfile], markets: dict[str, Market], book: AccountBook, bankroll: Decimal
    ) -> None:
        self.whales, self.markets, self.book, self.bankroll = whales, markets, book, bankroll
        self.holdings = _NoHoldings()

    def prefetch(self, trade: WhaleTrade, now: datetime) -> MemoryReads:
        whale, market = self.whales.get(trade.wallet.lower()), self.markets.get(trade.condition_id)
        return MemoryReads(whale, market, self.book, self.bankroll)


class MemoryWhales:
    def __init__(self, whales: dict[str, WhaleProfile]) -> None:
        self.whales = whales

    def get(self, wallet: str) -> WhaleProfile | None:
        return self.whales.get(wallet.lower())


class MemoryMarkets:
    def __init__(self, markets: dict[str, Market]) -> None:
        self.markets = markets

    def get(self, condition_id: str, now: datetime) -> Market | None:
        return self.markets.get(condition_id)


class MemoryPositions:
    def __init__(self, book: AccountBook) -> None:
        self.book = book

    def held_shares(self, token_id: str) -> Decimal:
        position = self.book.positions.get(token_id)
        return position.shares if position is not None else ZERO


class MemoryStances:
    def __init__(self) -> None:
        self.groups: dict[str, dict[tuple[str, str], Stance]] = {}

    def record(self, stance: Stance) -> bool:
        group = self.groups.setdefault(stance.group, {})
        key = (stance.condition_id, stance.wallet)
        if key in group and group[key].at > stance.at:
            return False
        group[key] = stance
        return True

    def in_group(self, group: str, now: datetime) -> list[Stance]:
        return list(self.groups.get(group, {}).values())


class MemoryLedger:
    """The orders ledger (`execution.protocol.Ledger`) in a dictionary, settling through the `AccountBook`."""

    def __init__(self, book: AccountBook) -> None:
        self.book = book
        self.entries: dict[str, LedgerEntry] = {}

    def begin(
        self,
        order: SizedOrder,
        reserved: Decimal,
        now: datetime,
        venue_order_id: str | None = None,
        signed_order: str | None = None,
    ) -> ExecutionResult | None:
        existing = self.entries.get(order.idempotency_key)
        if existing is not None:
            return existing.result.model_copy(update={"duplicate": True})
        pending = ExecutionResult(
            idempotency_key=order.idempotency_key, status=ExecutionStatus.PENDING, side=order.side, executed_at=now
        )
        self.entries[order.idempotency_key] = LedgerEntry(
            order.idempotency_key, ExecutionStatus.PENDING, venue_order_id, now, pending, signed_order
        )
        return None

    def entry(self, idempotency_key: str) -> LedgerEntry | None:
        return self.entries.get(idempotency_key)

    def mark_unknown(self, idempotency_key: str, detail: str, now: datetime) -> bool:
        entry = self.entries[idempotency_key]
        self.entries[idempotency_key] = LedgerEntry(
            entry.idempotency_key,
            ExecutionStatus.UNKNOWN,
            entry.venue_order_id,
            entry.created_at,
            entry.result,
            entry.signed_order,
        )
        return True

    def record(
        self,
        order: SizedOrder,
        result: ExecutionResult,
        reserved: Decimal,
        now: datetime,
        stop_at_entry: Decimal | None = None,
    ) -> None:
        self.book.settle(order, result, reserved, now)
        entry = self.entries[order.idempotency_key]
        self.entries[order.idempotency_key] = LedgerEntry(
            entry.idempotency_key, result.status, entry.venue_order_id, entry.created_at, result
        )


def memory_deps(
    settings: Settings,
    clock: Callable[[], datetime],
    whales: dict[str, WhaleProfile],
    markets: dict[str, Market],
    books: dict[str, OrderBook],
) -> wiring.Deps:
    """Deps whose every store is in memory (nothing the copy steps call leaves the process)."""
    book = AccountBook()
    parts: dict[str, Any] = {
        "account": MemoryAccount(book),
        "decision_reads": MemoryDecisionReads(whales, markets, book, settings.paper_bankroll),
        "whales": MemoryWhales(whales),
        "markets": MemoryMarkets(markets),
        "positions": MemoryPositions(book),
        "books": books.get,
        "ledger": MemoryLedger(book),
        "venue": PaperVenue(books.get),
        "stances": MemoryStances(),
    }
    known = getattr(wiring.Deps, "_PARTS", frozenset(parts))  # older code has no `decision_reads`
    return wiring.Deps(settings, clock=clock, **{name: part for name, part in parts.items() if name in known})
