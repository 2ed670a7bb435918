"""The account's invariants, checked on a snapshot of its books (pure): does every pUSD add up?

`Books` is what the tables (or the in-memory book) hold for one account; `audit` checks, each with its figures:

    ledger_cash       the ledger's cash movements (deposits, fills, redemptions) sum to the account's cash
    ledger_shares     per token, the ledger's share movements sum to the position's shares
    reserved          the account's reserved cash = the sum of the unsettled reservations
    reservation_owner each unsettled reservation has an unsettled ledger entry, or is younger than the orphan bound
                      (the sweep releases it after that), and each unsettled entry that reserved has its reservation
    open_orders       the account's open-order count = the unsettled reservations
    account_totals    open cost = the positions' basis; committed = open cost + reserved; available = cash - reserved;
                      equity = cash + open cost
    exposure          each scope's exposure (market, group, category, whale) = the positions' cost in that scope (the
                      basis for a market, the scope's parts for the others) + its unsettled reservations; none negative
    position_parts    per position and kind (group, category, whale), the parts sum to the basis
    day_realized      each UTC day's realized P&L = the sum of that day's ledger realized P&L (sells, redemptions)
    resolved_settled  no shares held in a market that has resolved (the settlement job redeems them)

Every comparison is exact: amounts are on the 6-decimal micro grid and the settlements' arithmetic
(`copytrader.risk.changes`) keeps every sum on it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from copytrader.money import ZERO, canonical
from copytrader.risk.book import AccountBook
from copytrader.risk.changes import Holding, LedgerLine, part_name
from copytrader.risk.rules import Scope, utc_day


@dataclass(frozen=True)
class OpenReservation:
    key: str
    amount: Decimal
    condition_id: str
    group: str
    category: str
    wallet: str
    reserved_at: datetime | None


@dataclass(frozen=True)
class Books:
    """One account's books as stored: the account item, unsettled reservations, exposure items (`(scope, name)`,
    position parts included), positions, ledger lines with their time, day items' realized P&L, and the unsettled
    orders-ledger entries (idempotency key -> amount reserved)."""

    cash: Decimal
    reserved: Decimal
    open_cost: Decimal
    committed: Decimal
    available: Decimal
    equity: Decimal
    open_orders: int
    reservations: tuple[OpenReservation, ...] = ()
    exposure: Mapping[tuple[Scope, str], Decimal] = field(default_factory=dict)
    positions: tuple[Holding, ...] = ()
    ledger: tuple[tuple[datetime, LedgerLine], ...] = ()
    days: Mapping[str, Decimal] = field(default_factory=dict)
    unsettled_entries: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "figures": self.figures}


def _money(value: Decimal) -> str:
    return str(canonical(value))


def _differences(expected: Mapping[Any, Decimal], actual: Mapping[Any, Decimal]) -> dict[str, str]:
    """Keys whose values differ (a missing key counts as zero), as `{key: "actual vs expected"}`."""
    out = {}
    for key in sorted(set(expected) | set(actual), key=str):
        want, got = expected.get(key, ZERO), actual.get(key, ZERO)
        if want != got:
            out[str(key)] = f"{_money(got)} vs {_money(want)}"
    return out


def books_of(book: AccountBook) -> Books:
    """The in-memory book's books (what `store.account.snapshot.read_books` reads from the tables)."""
    account = book.account
    if account is None:
        raise LookupError("the book has no account; open it first")
    reservations = tuple(
        OpenReservation(
            key,
            r.record.amount,
            r.record.condition_id,
            r.record.risk_group,
            r.record.category,
            r.record.wallet,
            r.reserved_at,
        )
        for key, r in book.reservations.items()
        if not r.settled
    )
    return Books(
        cash=account.cash,
        reserved=account.reserved,
        open_cost=account.open_cost,
        committed=account.committed,
        available=account.available,
        equity=account.equity,
        open_orders=account.open_orders,
        reservations=reservations,
        exposure=dict(book.exposure),
        positions=tuple(p.holding() for p in book.positions.values()),
        ledger=tuple(book.ledger.values()),
        days={day: record.realized for day, record in book.days.items()},
    )


def audit(books: Books, *, now: datetime, orphan_after: timedelta, resolved: Iterable[str] = ()) -> list[Check]:
    """Every invariant of the module docstring, in its order."""
    return [
        _ledger_cash(books),
        _ledger_shares(books),
        _reserved(books),
        _reservation_owner(books, now, orphan_after),
        _open_orders(books),
        _account_totals(books),
        _exposure(books),
        _position_parts(books),
        _day_realized(books),
        _resolved_settled(books, set(resolved)),
    ]


def violations(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if not c.ok]


def _ledger_cash(books: Books) -> Check:
    ledger = sum((line.cash_delta for _, line in books.ledger), ZERO)
    ok = ledger == books.cash
    return Check("ledger_cash", ok, f"ledger {_money(ledger)} {'=' if ok else '!='} account cash {_money(books.cash)}",
                 {"ledger": _money(ledger), "account": _money(books.cash)})  # fmt: skip


def _ledger_shares(books: Books) -> Check:
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for _, line in books.ledger:
        for token_id, delta in line.share_moves():
            moved[token_id] += delta
    held = {p.token_id: p.shares for p in books.positions if p.shares}
    wrong = _differences(moved, held)
    detail = f"{len(held)} positions match the ledger" if not wrong else f"{len(wrong)} tokens differ (held vs ledger)"
    return Check("ledger_shares", not wrong, detail, {"positions": len(held), "differ": wrong})


def _reserved(books: Books) -> Check:
    total = sum((r.amount for r in books.reservations), ZERO)
    ok = total == books.reserved
    detail = (
        f"{len(books.reservations)} open reservations sum to {_money(total)}; account reserved {_money(books.reserved)}"
    )
    return Check("reserved", ok, detail, {"reservations": _money(total), "account": _money(books.reserved)})


def _reservation_owner(books: Books, now: datetime, orphan_after: timedelta) -> Check:
    ownerless = [
        r.key
        for r in books.reservations
        if r.key not in books.unsettled_entries and (r.reserved_at is None or now - r.reserved_at >= orphan_after)
    ]
    reserved_keys = {r.key for r in books.reservations}
    unreserved = [k for k, amount in books.unsettled_entries.items() if amount > 0 and k not in reserved_keys]
    ok = not ownerless and not unreserved
    detail = (
        f"{len(books.reservations)} reservations, {len(books.unsettled_entries)} unsettled entries; "
        f"{len(ownerless)} ownerless past {orphan_after.total_seconds():.0f}s, {len(unreserved)} entries unreserved"
    )
    return Check("reservation_owner", ok, detail, {"ownerless": ownerless[:20], "unreserved": unreserved[:20]})


def _open_orders(books: Books) -> Check:
    ok = books.open_orders == len(books.reservations)
    detail = f"open orders {books.open_orders}; unsettled reservations {len(books.reservations)}"
    return Check("open_orders", ok, detail, {"account": books.open_orders, "reservations": len(books.reservations)})


def _account_totals(books: Books) -> Check:
    basis = sum((p.cost_basis for p in books.positions), ZERO)
    expected = {
        "open_cost": basis,
        "committed": books.open_cost + books.reserved,
        "available": books.cash - books.reserved,
        "equity": books.cash + books.open_cost,
    }
    actual = {"open_cost": books.open_cost, "committed": books.committed, "available": books.available,
              "equity": books.equity}  # fmt: skip
    wrong = _differences(expected, actual)
    detail = f"open cost {_money(books.open_cost)} = positions' basis {_money(basis)}; derived fields consistent"
    return Check("account_totals", not wrong, detail if not wrong else f"differ: {wrong}", {"differ": wrong})


def _exposure(books: Books) -> Check:
    expected: dict[tuple[Scope, str], Decimal] = defaultdict(Decimal)
    for p in books.positions:
        if p.cost_basis:
            expected[(Scope.MARKET, p.condition_id)] += p.cost_basis
    for (scope, name), amount in books.exposure.items():
        if scope is Scope.POSITION_PART:
            _token, kind, owner = name.split("#", 2)
            expected[(Scope(kind), owner)] += amount
    for r in books.reservations:
        for key in ((Scope.MARKET, r.condition_id), (Scope.GROUP, r.group), (Scope.CATEGORY, r.category),
                    (Scope.WHALE, r.wallet)):  # fmt: skip
            expected[key] += r.amount
    actual = {k: v for k, v in books.exposure.items() if k[0] is not Scope.POSITION_PART}
    wrong = _differences(expected, actual)
    negative = {f"{s.value}#{n}": _money(v) for (s, n), v in books.exposure.items() if v < 0}
    ok = not wrong and not negative
    detail = f"{len(actual)} scope items match positions + reservations" if ok else f"{len(wrong)} differ"
    return Check("exposure", ok, detail, {"differ": dict(list(wrong.items())[:20]), "negative": negative})


def _position_parts(books: Books) -> Check:
    wrong: dict[str, str] = {}
    for p in books.positions:
        for kind, names in ((Scope.GROUP, p.groups), (Scope.CATEGORY, p.categories), (Scope.WHALE, p.whales)):
            if not names or p.shares <= 0:
                continue
            parts = sum((books.exposure.get((Scope.POSITION_PART, part_name(p.token_id, kind, n)), ZERO)
                         for n in names), ZERO)  # fmt: skip
            if parts != p.cost_basis:
                wrong[f"{p.token_id[:12]}…{kind.value}"] = f"{_money(parts)} vs basis {_money(p.cost_basis)}"
    detail = f"{len(books.positions)} positions' parts sum to their basis" if not wrong else f"{len(wrong)} differ"
    return Check("position_parts", not wrong, detail, {"differ": wrong})


def _day_realized(books: Books) -> Check:
    ledger: dict[str, Decimal] = defaultdict(Decimal)
    for at, line in books.ledger:
        if line.realized_pnl:
            ledger[utc_day(at)] += line.realized_pnl
    wrong = _differences(ledger, dict(books.days))
    days = {d: _money(v) for d, v in sorted(books.days.items())}
    detail = f"{len(books.days)} days match the ledger" if not wrong else f"{len(wrong)} days differ (day vs ledger)"
    return Check("day_realized", not wrong, detail, {"days": days, "differ": wrong})


def _resolved_settled(books: Books, resolved: set[str]) -> Check:
    owned = sorted(p.token_id for p in books.positions if p.shares > 0 and p.condition_id in resolved)
    detail = f"{len(owned)} positions held in resolved markets" + ("" if not owned else " (not redeemed)")
    return Check("resolved_settled", not owned, detail, {"tokens": owned[:20]})
