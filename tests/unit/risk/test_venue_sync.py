"""The venue sync's comparison (copytrader.risk.venue_sync): differences with their figures, and a failed or partial
read never taken as "no positions"."""

from __future__ import annotations

from decimal import Decimal as D

from copytrader.risk.venue_sync import Difference, compare

A, B, C = "111", "222", "333"
OURS = {A: D("100"), B: D("12.5")}


def _compare(**overrides):
    given = {
        "ours": OURS,
        "cash": D("500"),
        "margin": D("5"),
        "venue": {A: D("100"), B: D("12.5")},
        "chain_tokens": {A: 100_000_000, B: 12_500_000},
        "chain_pusd": 505_000_000,
    }
    return compare(**{**given, **overrides})


def test_books_venue_and_chain_that_agree_report_nothing() -> None:
    report = _compare()
    assert report.ok and report.figures == {
        "positions_ours": 2, "positions_venue": 2, "cash_ours_with_margin": "505", "cash_chain": "505.000000",
    }  # fmt: skip


def test_each_position_difference_is_reported_with_all_three_figures() -> None:
    # the venue rounds B to 12.4999999 (quantized: 12.500000, no difference), misses A, and lists C we never bought;
    # the chain holds 99.5 of A
    report = _compare(venue={B: D("12.4999999"), C: D("3")}, chain_tokens={A: 99_500_000, B: 12_500_000, C: 3_000_000})
    assert report.failures == ()
    assert report.differences == (
        Difference("position", A, "100", "0.000000", "99.500000"),
        Difference("position", C, "0", "3.000000", "3.000000"),
    )


def test_cash_beyond_the_tolerance_is_a_difference_and_within_it_is_not() -> None:
    assert _compare(chain_pusd=505_010_000).ok  # 0.01 over: within the tolerance
    report = _compare(chain_pusd=480_000_000)  # 25 withdrawn (or a fill not booked)
    assert report.differences == (Difference("cash", "pusd", "505", None, "480.000000"),)


def test_a_failed_venue_read_is_a_failed_sync_never_an_empty_venue_and_the_chain_is_still_compared() -> None:
    report = _compare(venue=None, venue_failure="has_more_without_cursor", chain_tokens={A: 0, B: 12_500_000})
    assert report.failures == ("venue_read_failed:has_more_without_cursor",) and not report.ok
    # A's difference comes from the chain alone; no "venue holds 0" is invented
    assert report.differences == (Difference("position", A, "100", None, "0.000000"),)
    assert report.figures["positions_venue"] is None


def test_data_null_while_we_hold_positions_fails_and_while_we_hold_none_is_empty() -> None:
    assert _compare(venue=None).failures == ("venue_positions_null",)
    empty = compare(ours={}, cash=D(0), margin=D(0), venue=None, chain_tokens={}, chain_pusd=0)
    assert empty.ok and empty.figures["positions_venue"] == 0


def test_a_failed_chain_read_fails_the_sync_and_drops_the_chain_figures() -> None:
    report = _compare(chain_failure="RpcError")
    assert report.failures == ("chain_read_failed:RpcError",) and report.differences == ()
    assert report.figures["cash_chain"] is None
