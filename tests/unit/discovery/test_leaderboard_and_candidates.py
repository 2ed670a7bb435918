"""Leaderboard queries and rows, and candidates with their provenance: malformed rows are counted, never
raised; the result is ordered the same way whatever order the answers came in."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest

from copytrader.discovery.candidates import CandidatePool
from copytrader.discovery.discover import leaderboard_queries
from copytrader.discovery.leaderboard import (
    MAX_DEPTH,
    LeaderboardEntry,
    LeaderboardQuery,
    Skip,
    SkipReason,
    leaderboard_pages,
    parse_leaderboard_row,
)
from copytrader.polymarket.data_api.rows import RejectReason
from tests.support.builders import T0, hex_id
from tests.support.data_api_rows import leaderboard_row, trade_row
from tests.support.handbook import load_json

A, B, C = (hex_id(f"wallet:{name}", 20) for name in "abc")
POLITICS_MONTH = LeaderboardQuery("POLITICS", "MONTH", "PNL")


def test_a_documented_row_parses_with_rank_from_its_string() -> None:
    row = leaderboard_row(3, A.upper().replace("0X", "0x"), pnl=182733.41, vol=1_000_000.5, name="whale")
    entry = parse_leaderboard_row(row)
    assert entry == LeaderboardEntry(A, 3, Decimal("182733.41"), Decimal("1000000.5"), "whale", "", False)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("not an object", SkipReason.NOT_AN_OBJECT),
        ({**leaderboard_row(1, A, 1.0, 1.0), "proxyWallet": "0x12"}, SkipReason.MALFORMED_WALLET),
        ({**leaderboard_row(1, A, 1.0, 1.0), "proxyWallet": None}, SkipReason.MALFORMED_WALLET),
        ({**leaderboard_row(1, A, 1.0, 1.0), "rank": "first"}, SkipReason.MALFORMED_RANK),
        ({**leaderboard_row(1, A, 1.0, 1.0), "rank": "0"}, SkipReason.MALFORMED_RANK),
        ({**leaderboard_row(1, A, 1.0, 1.0), "rank": True}, SkipReason.MALFORMED_RANK),
        ({**leaderboard_row(1, A, 1.0, 1.0), "pnl": "NaN"}, SkipReason.MALFORMED_PNL),
        ({**leaderboard_row(1, A, 1.0, 1.0), "pnl": None}, SkipReason.MALFORMED_PNL),
        ({**leaderboard_row(1, A, 1.0, 1.0), "vol": False}, SkipReason.MALFORMED_VOL),
    ],
)
def test_malformed_rows_are_skipped_with_their_reason(row: object, reason: SkipReason) -> None:
    parsed = parse_leaderboard_row(row)
    assert isinstance(parsed, Skip) and parsed.reason is reason


def test_pages_reach_the_depth_within_the_documented_bounds() -> None:
    assert leaderboard_pages(1) == [(0, 1)]
    assert leaderboard_pages(120) == [(0, 50), (50, 50), (100, 20)]
    deepest = leaderboard_pages(MAX_DEPTH)
    assert deepest[-1] == (1000, 50) and all(1 <= limit <= 50 and offset <= 1000 for offset, limit in deepest)
    for bad in (0, MAX_DEPTH + 1):
        with pytest.raises(ValueError):
            leaderboard_pages(bad)


def test_queries_are_validated_and_every_combination_is_asked_once() -> None:
    with pytest.raises(ValueError, match="timePeriod"):
        LeaderboardQuery("OVERALL", "YEAR", "PNL")
    queries = leaderboard_queries(["POLITICS", "OVERALL", "POLITICS"], ["MONTH"], ["PNL", "VOL"])
    assert [q.label for q in queries] == [
        "PNL/MONTH/POLITICS",
        "PNL/MONTH/OVERALL",
        "VOL/MONTH/POLITICS",
        "VOL/MONTH/OVERALL",
    ]
    assert POLITICS_MONTH.params(50, 25) == {
        "category": "POLITICS",
        "timePeriod": "MONTH",
        "orderBy": "PNL",
        "limit": 25,
        "offset": 50,
    }


def test_candidates_carry_their_provenance_in_order_and_skips_are_counted() -> None:
    # GIVEN a PnL ranking with a repeated row (a page shift) and two malformed rows, and a volume ranking
    pool = CandidatePool()
    pnl_rows: list[Any] = [
        leaderboard_row(1, B, 500.5, 10.0, "bee"),
        leaderboard_row(2, A, 250, 20.0),
        leaderboard_row(2, A, 250, 20.0),
        {"rank": "3"},
        42,
    ]
    pool.add_leaderboard(POLITICS_MONTH, pnl_rows)
    pool.add_leaderboard(LeaderboardQuery("OVERALL", "ALL", "VOL"), [leaderboard_row(7, A, 1.0, 99000.0)])

    # WHEN the candidates are read
    candidates = pool.candidates()

    # THEN ordered by wallet, provenance in the order added without repeats, names kept, skips counted
    assert [c.wallet for c in candidates] == sorted([A, B])
    by_wallet = {c.wallet: c for c in candidates}
    assert by_wallet[A].provenance == (
        "leaderboard:PNL/MONTH/POLITICS#2 pnl=250",
        "leaderboard:VOL/ALL/OVERALL#7 vol=99000",
    )
    assert (
        by_wallet[B].provenance == ("leaderboard:PNL/MONTH/POLITICS#1 pnl=500.5",) and by_wallet[B].user_name == "bee"
    )
    assert pool.skipped == Counter({SkipReason.MALFORMED_WALLET: 1, SkipReason.NOT_AN_OBJECT: 1})


def test_the_wallet_order_does_not_depend_on_the_order_of_answers() -> None:
    first, second = CandidatePool(), CandidatePool()
    rows = [leaderboard_row(i + 1, w, 1.0, 1.0) for i, w in enumerate([C, A, B])]
    first.add_leaderboard(POLITICS_MONTH, rows)
    second.add_leaderboard(POLITICS_MONTH, list(reversed(rows)))
    assert [c.wallet for c in first.candidates()] == [c.wallet for c in second.candidates()]


def test_large_trades_name_their_takers_and_count_what_they_cannot_use() -> None:
    # GIVEN large fills, one under the threshold, one without a transaction hash, one with a bad price
    good = trade_row(A, 1_767_658_669, size=43195.56, price=0.0674345935091477)
    also = trade_row(B, 1_767_658_673, size=5000.0, price=0.43)
    small = trade_row(C, 1_767_658_600, size=10.0, price=0.5)
    no_tx = {k: v for k, v in trade_row(C, 1_767_658_601).items() if k != "transactionHash"}
    bad_price = trade_row(C, 1_767_658_602, price=1.5)
    pool = CandidatePool()

    # WHEN added with a 1,000 pUSD threshold
    pool.add_large_trades([small, good, no_tx, also, bad_price], Decimal(1000), T0)

    # THEN the two large takers are candidates, with the notional to the cent and the transaction
    by_wallet = {c.wallet: c for c in pool.candidates()}
    assert set(by_wallet) == {A, B}
    assert by_wallet[A].provenance == (f"large_trade:2912.88 tx={good['transactionHash']}",)
    assert by_wallet[B].provenance == (f"large_trade:2150 tx={also['transactionHash']}",)
    assert pool.skipped == Counter(
        {SkipReason.BELOW_THRESHOLD: 1, RejectReason.MISSING_TX_HASH: 1, RejectReason.PRICE_OUT_OF_RANGE: 1}
    )


def test_recorded_trade_rows_name_candidates() -> None:
    rows = load_json("nautilus-polymarket-fixtures/data_api_trades_response.json")
    pool = CandidatePool()
    pool.add_large_trades(rows, Decimal(30), T0)  # notionals 55, 26.5 and 33.75 pUSD
    assert [c.wallet for c in pool.candidates()] == ["0x" + "1" * 40, "0x" + "3" * 40]
    assert pool.candidates()[0].provenance[0].startswith("large_trade:55 tx=0xabc123")
    assert pool.skipped == Counter({SkipReason.BELOW_THRESHOLD: 1})
