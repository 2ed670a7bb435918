"""Marked equity and the halts it trips (copytrader.risk.marking), on hand-derived figures; and the in-memory book's
`record_marked`, which must decide as the store does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from copytrader.model.marks import Mark
from copytrader.risk.book import AccountBook
from copytrader.risk.marking import marked_equity, trips
from copytrader.settings import RiskLimits

D = Decimal
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(seconds=120)
LIMITS = RiskLimits()  # max_drawdown 0.20, daily_loss_limit 0.05
TA, TB, TC, TD, TE = "101", "202", "303", "404", "505"  # token ids (decimal uint256)


@dataclass(frozen=True)
class Pos:
    token_id: str
    shares: Decimal
    cost_basis: Decimal


def mark(token: str, bid: str | None, last: str | None = None, age_s: int = 0, ask: str | None = None) -> Mark:
    return Mark(
        token_id=token,
        bid=D(bid) if bid is not None else None,
        ask=D(ask) if ask is not None else None,
        last_trade=D(last) if last is not None else None,
        at=NOW - timedelta(seconds=age_s),
    )


def test_fresh_bids_value_each_position_at_its_bid() -> None:
    # A: 100 sh cost 50.00 at bid 0.42 -> 42.00; B: 30 sh cost 21.00 at bid 0.80 -> 24.00
    # value 66.00, cost 71.00, unrealized -5.00, equity 1000 + 66 = 1066.00
    positions = [Pos(TA, D(100), D("50.00")), Pos(TB, D(30), D("21.00"))]
    marks = {TA: mark(TA, "0.42", ask="0.44"), TB: mark(TB, "0.80", last="0.90")}
    m = marked_equity(D(1000), positions, marks, NOW, MAX_AGE)
    assert (m.value, m.cost, m.unrealized, m.equity) == (D("66.00"), D("71.00"), D("-5.00"), D("1066.00"))
    assert (m.positions, m.stale, m.unmarked) == (2, 0, 0)


def test_a_stale_mark_falls_back_to_the_last_trade_and_is_counted() -> None:
    # A's bid 0.42 is 121 s old (> 120): valued at its last trade 0.40 -> 100 x 0.40 = 40.00, stale
    # B has no bid at all: last trade 0.70 -> 30 x 0.70 = 21.00, stale
    positions = [Pos(TA, D(100), D("50.00")), Pos(TB, D(30), D("21.00"))]
    marks = {TA: mark(TA, "0.42", last="0.40", age_s=121), TB: mark(TB, None, last="0.70")}
    m = marked_equity(D(0), positions, marks, NOW, MAX_AGE)
    assert (m.value, m.stale, m.unmarked) == (D("61.00"), 2, 0)
    # exactly at the bound the bid is still fresh: 100 x 0.42 = 42.00
    at_bound = marked_equity(D(0), positions[:1], {TA: mark(TA, "0.42", last="0.40", age_s=120)}, NOW, MAX_AGE)
    assert (at_bound.value, at_bound.stale) == (D("42.00"), 0)


def test_a_stale_mark_without_a_last_trade_keeps_its_old_bid_flagged() -> None:
    m = marked_equity(D(0), [Pos(TA, D(10), D("6"))], {TA: mark(TA, "0.30", age_s=600)}, NOW, MAX_AGE)
    assert (m.value, m.stale, m.unmarked) == (D("3.00"), 1, 0)


def test_no_mark_values_the_position_at_cost_and_counts_it_unmarked() -> None:
    # C has no mark: 12.34 at cost; D's mark has no price at all: 5.00 at cost; E is flat and ignored
    positions = [Pos(TC, D(20), D("12.34")), Pos(TD, D(10), D("5.00")), Pos(TE, D(0), D(0))]
    m = marked_equity(D("7.5"), positions, {TD: mark(TD, None)}, NOW, MAX_AGE)
    assert (m.value, m.unrealized, m.equity) == (D("17.34"), D(0), D("24.84"))
    assert (m.positions, m.stale, m.unmarked) == (2, 0, 2)


def test_value_is_rounded_down_to_the_micro_grid() -> None:
    # 1.5 sh x 0.3333333 (a 7-decimal price) = 0.49999995 -> 0.499999 (down)
    m = marked_equity(D(0), [Pos(TA, D("1.5"), D(1))], {TA: mark(TA, "0.3333333")}, NOW, MAX_AGE)
    assert m.value == D("0.499999")


def test_trips_drawdown_strictly_below_the_floor_and_breaker_at_the_floor() -> None:
    # high water 1000: floor 800; 800 holds, 799.999999 halts
    assert not trips(D(800), D(1000), D(800), LIMITS).drawdown
    assert trips(D("799.999999"), D(1000), D(800), LIMITS).drawdown
    # day start 1000: floor -50 -> 950 trips (<=), 950.000001 does not
    assert trips(D(950), D(1000), D(1000), LIMITS).breaker
    assert not trips(D("950.000001"), D(1000), D(1000), LIMITS).breaker


def test_book_records_marked_equity_and_trips_each_halt_once() -> None:
    book = AccountBook()
    book.open(D(1000), NOW)
    assert book.record_marked(D(1000), LIMITS, NOW) == (False, False)
    assert book.record_marked(D(1100), LIMITS, NOW) == (False, False)  # high water 1100, day start stays 1000
    assert book.account is not None and book.account.equity_marked_hwm == D(1100)
    # 949: day loss -51 <= -50 (breaker); 949 >= 880 = 0.8 x 1100 (no drawdown)
    assert book.record_marked(D(949), LIMITS, NOW) == (False, True)
    # 879 < 880: drawdown; the breaker is already open
    assert book.record_marked(D(879), LIMITS, NOW) == (True, False)
    assert book.record_marked(D(870), LIMITS, NOW) == (False, False)
    # the next day starts from its first marking, closed
    tomorrow = NOW + timedelta(days=1)
    assert book.record_marked(D(870), LIMITS, tomorrow) == (False, False)
    assert book.days[tomorrow.date().isoformat()].start_equity_marked == D(870)
    # an operator reset rebases the marked high water mark to the marked equity
    book.reset_drawdown(tomorrow)
    assert (book.account.drawdown_halt, book.account.equity_marked_hwm) == (False, D(870))
