"""The pager on its own, against an in-memory list that answers like the Data API: offset paging, `end`
windows past the offset bound, the high-water stop, the row cap, and the cases that must not loop."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.discovery.paging import FULL_HISTORY_START, Completion, PageRequest, WindowedPager
from copytrader.discovery.rows import position_identity, trade_identity
from tests.support.builders import hex_id
from tests.support.data_api_rows import EPOCH0, trade_row

WALLET = hex_id("wallet:whale", 20)


def history(stamps: list[int]) -> list[dict[str, Any]]:
    """Trade rows newest first; the i-th row at `stamps[i]` seconds after EPOCH0 (ties allowed)."""
    rows = [trade_row(WALLET, EPOCH0 + s, n=i) for i, s in enumerate(stamps)]
    return sorted(rows, key=lambda r: -r["timestamp"])


def answer(rows: list[dict[str, Any]], request: PageRequest) -> list[dict[str, Any]]:
    """What the Data API returns: `start`/`end` inclusive, then offset and limit; offsets above the bound fail."""
    assert request.offset <= 10_000
    window = [
        r
        for r in rows
        if (request.end is None or r["timestamp"] <= request.end)
        and (request.start is None or r["timestamp"] >= request.start)
    ]
    return window[request.offset : request.offset + request.limit]


def drive(pager: WindowedPager, rows: list[dict[str, Any]]) -> list[PageRequest]:
    asked = []
    while (request := pager.next_request()) is not None:
        asked.append(request)
        assert len(asked) < 1000, "the pager must never loop"
        pager.accept(answer(rows, request))
    return asked


def trades_pager(**kwargs: Any) -> WindowedPager:
    options: dict[str, Any] = {"limit": 5, "max_offset": 10, "windowed": True, "identity": trade_identity}
    return WindowedPager(**{**options, **kwargs})


def test_offset_paging_stops_at_a_short_page_and_asks_for_the_full_history() -> None:
    # GIVEN 12 rows and pages of 5
    rows = history(list(range(12)))
    pager = trades_pager(max_offset=10_000)

    # WHEN paged
    asked = drive(pager, rows)

    # THEN three pages, the whole history asked with start=1, every row once, complete
    assert [(r.offset, r.end, r.start) for r in asked] == [(0, None, 1), (5, None, 1), (10, None, 1)]
    assert asked[0].start == FULL_HISTORY_START
    assert pager.rows == rows and pager.completion is Completion.COMPLETE and pager.windows == 1


def test_history_deeper_than_the_offset_bound_is_read_in_end_windows() -> None:
    # GIVEN 60 rows, two per second, with offsets capped at 10 (the real bound is 10,000; the logic is the same)
    rows = history([i // 2 for i in range(60)])
    pager = trades_pager()

    # WHEN paged
    asked = drive(pager, rows)

    # THEN every row is read once, windows restart at offset 0 with end = oldest seen + 1, no offset beyond 10
    assert sorted(map(trade_identity, pager.rows)) == sorted(map(trade_identity, rows))
    assert pager.completion is Completion.COMPLETE and pager.windows > 1
    assert max(r.offset for r in asked) <= 10
    second_window = next(r for r in asked if r.end is not None)
    assert second_window.offset == 0
    assert second_window.end == min(r["timestamp"] for r in pager.rows[:15]) + 1
    assert pager.repeated > 0, "rows of the window's boundary second come back and are dropped"


def test_a_second_with_more_rows_than_offsets_reach_ends_truncated_without_looping() -> None:
    # GIVEN 40 fills in one second, above offsets capped at 10 with pages of 5 (15 reachable)
    rows = history([7] * 40)
    pager = trades_pager()

    # WHEN paged
    drive(pager, rows)

    # THEN truncated at the offset ceiling, saying which second, with what could be read
    assert pager.completion is Completion.OFFSET_CEILING
    assert str(EPOCH0 + 7) in pager.detail and len(pager.rows) == 15


def test_a_snapshot_longer_than_the_offset_bound_is_truncated() -> None:
    rows: list[dict[str, Any]] = [{"proxyWallet": WALLET, "asset": str(i)} for i in range(30)]
    pager = WindowedPager(limit=5, max_offset=10, windowed=False, identity=position_identity)
    asked = drive(pager, rows)
    assert pager.completion is Completion.OFFSET_CEILING and len(pager.rows) == 15
    assert all(r.start is None and r.end is None for r in asked)


def test_a_refresh_asks_from_the_mark_and_stops_at_the_first_page_reaching_it() -> None:
    # GIVEN 30 rows and a refresh from second 22 (the server below ignores `start`, as a misbehaving one might)
    rows = history(list(range(30)))
    pager = trades_pager(max_offset=10_000, since=EPOCH0 + 22)
    asked = []
    while (request := pager.next_request()) is not None:
        asked.append(request)
        pager.accept(answer(rows, PageRequest(request.offset, request.limit, request.end, None)))

    # THEN the requests carry start=since, and paging stops on the page that reached it
    assert {r.start for r in asked} == {EPOCH0 + 22}
    assert len(asked) == 2 and pager.completion is Completion.COMPLETE
    assert "high-water" in pager.detail


def test_the_row_cap_stops_a_list_that_goes_on_but_not_one_that_ends_there() -> None:
    pager = trades_pager(max_offset=10_000, max_rows=7)
    drive(pager, history(list(range(30))))
    assert pager.completion is Completion.ROW_CAP and len(pager.rows) == 10 and "cap 7" in pager.detail
    ended = trades_pager(max_offset=10_000, max_rows=11)  # reached on the short last page
    drive(ended, history(list(range(12))))
    assert ended.completion is Completion.COMPLETE and len(ended.rows) == 12


def test_a_failed_request_ends_the_list_keeping_what_was_read() -> None:
    pager = trades_pager(max_offset=10_000)
    request = pager.next_request()
    assert request is not None
    pager.accept(answer(history(list(range(30))), request))
    pager.fail("GET /trades: HTTP 503 after 4 attempts")
    assert pager.next_request() is None
    assert pager.completion is Completion.REQUEST_FAILED and len(pager.rows) == 5


def test_rows_pushed_across_a_page_boundary_by_new_trades_are_dropped() -> None:
    # GIVEN 12 rows; two new trades arrive between the first and second page
    rows = history(list(range(12)))
    pager = trades_pager(max_offset=10_000)
    first = pager.next_request()
    assert first is not None
    pager.accept(answer(rows, first))
    rows[:0] = history([101, 100])

    # WHEN the paging goes on
    drive(pager, rows)

    # THEN the two rows seen again are dropped; the new trades (not yet reached by this read) are next time's
    assert pager.repeated == 2 and len(pager.rows) == 12


def test_legs_of_one_fill_on_different_pages_are_kept_but_a_repeated_leg_is_not() -> None:
    # GIVEN two legs of one fill (same transaction, wallet, token, side; different sizes) split across pages
    tx = hex_id("tx:legs", 32)
    legs = [trade_row(WALLET, EPOCH0 + 50, tx=tx, size=size) for size in (10.0, 20.0)]
    rows = [*history(list(range(60, 56, -1)))[:4], *legs, *history(list(range(40, 30, -1)))]
    rows.sort(key=lambda r: -r["timestamp"])
    pager = trades_pager(max_offset=10_000)

    # WHEN paged in pages of 5: the first page ends with one leg, the second starts with the other; and the
    # server serves one leg a second time at the end
    drive(pager, [*rows, legs[1]])

    # THEN both legs are there, once each
    kept = [r for r in pager.rows if r["transactionHash"] == tx]
    assert sorted(r["size"] for r in kept) == [10.0, 20.0]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        WindowedPager(limit=0, max_offset=10, windowed=True, identity=trade_identity)
    with pytest.raises(ValueError, match="high-water"):
        WindowedPager(limit=5, max_offset=10, windowed=False, identity=position_identity, since=5)


@settings(max_examples=150, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0, 0, 0, 1, 1, 2, 5]), min_size=0, max_size=120),
    limit=st.integers(1, 7),
    max_offset=st.integers(0, 12),
)
def test_any_history_is_read_whole_or_reported_truncated(gaps: list[int], limit: int, max_offset: int) -> None:
    """Property: every row is read exactly once, or the read says it is truncated at the offset ceiling; the
    number of requests stays bounded and no request goes past the offset bound."""
    stamps, t = [], 0
    for gap in gaps:
        t += gap
        stamps.append(t)
    rows = history(stamps)
    pager = trades_pager(limit=limit, max_offset=max_offset)
    asked = drive(pager, rows)
    identities = [trade_identity(r) for r in pager.rows]
    assert len(identities) == len(set(identities))
    assert all(r.offset <= max_offset for r in asked)
    if pager.completion is Completion.COMPLETE:
        assert sorted(identities) == sorted(map(trade_identity, rows))
    else:
        # only a crowded second stops it: a window `end = T + 1` (read inclusively here) whose reachable
        # rows all lie at T or T + 1
        assert pager.completion is Completion.OFFSET_CEILING
        assert any(stamps.count(s) + stamps.count(s + 1) >= pager.reach for s in set(stamps))
