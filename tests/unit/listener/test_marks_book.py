"""`MarkBook`: quotes merge into marks of held tokens only, `on_mark` sees every update (a failing callback is
counted and never stops the others), and the write policy writes a token at most once per gap, a material move
soon after, and a re-confirmed unchanged mark every `write_every_s`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from copytrader.listener.marks_book import MarkBook, MarkWritePolicy
from copytrader.model.marks import Mark, MarkSource
from copytrader.polymarket.clob_market import Quote

D = Decimal
T = datetime(2026, 12, 7, 12, tzinfo=UTC)
A, B = "11", "22"
WS = MarkSource.CLOB_WS


def s(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def test_quotes_merge_for_held_tokens_and_every_update_reaches_the_callbacks() -> None:
    book = MarkBook()
    book.hold(frozenset({A}))
    seen: list[Mark] = []

    def broken(mark: Mark) -> None:
        raise RuntimeError("a bug in a rule")

    book.on_mark(broken)
    book.on_mark(seen.append)
    assert book.apply(Quote(B, s(0), D("0.1"), D("0.2")), WS) is None  # not held
    book.apply(Quote(A, s(0), D("0.40"), D("0.42")), WS)
    book.apply(Quote(A, s(1), last_trade=D("0.41")), WS)
    book.apply(Quote(A, s(2), bid=None, ask=D("0.43")), WS)  # the bid side emptied
    assert [(m.bid, m.ask, m.last_trade, m.at) for m in seen] == [
        (D("0.40"), D("0.42"), None, s(0)),
        (D("0.40"), D("0.42"), D("0.41"), s(1)),
        (None, D("0.43"), D("0.41"), s(2)),
    ]
    assert book.counters["marks.callback_errors"] == 3 and book.counters["marks.unheld"] == 1
    # a token no longer held is forgotten
    book.hold(frozenset({B}))
    assert book.get(A) is None and book.marks() == {}


def test_quiet_lists_tokens_without_a_mark_first_then_the_oldest() -> None:
    book = MarkBook()
    book.hold(frozenset({A, B, "33"}))
    book.apply(Quote(A, s(0), D("0.5"), None), WS)
    book.apply(Quote(B, s(15), D("0.5"), None), WS)
    # at 30 s with a 20 s bound: "33" (no mark), then A (30 s old); B (15 s) is fresh
    assert book.quiet(s(30), timedelta(seconds=20)) == ["33", A]


def test_write_policy_bounds_writes_per_token() -> None:
    book = MarkBook(MarkWritePolicy(material_move=D("0.01"), min_write_gap_s=1.0, write_every_s=30.0))
    book.hold(frozenset({A}))

    def due(at: float) -> list[Decimal | None]:
        marks = book.due(s(at))
        book.written(marks, s(at))
        return [m.bid for m in marks]

    book.apply(Quote(A, s(0), D("0.50"), D("0.52")), WS)
    assert due(0) == [D("0.50")]  # first sight: written at once
    book.apply(Quote(A, s(0.5), D("0.40"), D("0.52")), WS)
    assert due(0.5) == []  # a material move, but only 0.5 s after the last write
    assert due(1.0) == [D("0.40")]  # 1 s after: written
    book.apply(Quote(A, s(2), D("0.405"), D("0.52")), WS)
    assert due(2) == []  # 0.005 < 0.01: not material, and re-confirmed only 1 s after the write
    book.apply(Quote(A, s(20), D("0.405"), D("0.52")), WS)
    assert due(30.9) == []  # re-confirmed, 29.9 s after the write
    assert due(31) == [D("0.405")]  # 30 s after: the re-confirmed mark (newer `at`) is written
    assert due(90) == []  # nothing newer since: nothing to write
    book.apply(Quote(A, s(91), None, D("0.52")), WS)
    assert due(91) == [None]  # the bid went away: material
    assert book.counters["marks.written"] == 4
