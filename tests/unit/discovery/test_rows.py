"""Row identities and merging: a row read twice counts once, two different rows (legs of one fill, an
activity of another type, a position's other token) count twice."""

from __future__ import annotations

import copy

from copytrader.discovery.rows import (
    activity_identity,
    as_rows,
    closed_position_identity,
    merge_rows,
    newest_timestamp,
    order_newest_first,
    position_identity,
    trade_identity,
)
from copytrader.polymarket.data_api.rows import row_identity
from tests.support.builders import hex_id
from tests.support.data_api_rows import EPOCH0, activity_row, position_row, trade_row
from tests.support.handbook import load_json

WALLET = hex_id("wallet:whale", 20)


def test_a_trade_is_its_fill_key_plus_size_price_and_time() -> None:
    # GIVEN two legs of one fill (same key) and a copy of the first one with a changed profile field
    tx = hex_id("tx:1", 32)
    leg, other_leg = trade_row(WALLET, EPOCH0, tx=tx, size=10.0), trade_row(WALLET, EPOCH0, tx=tx, size=20.0)
    again = dict(leg, name="renamed", pseudonym="Other-Name")

    # THEN the legs differ, the copy does not, and the identity extends the canonical trade key
    assert row_identity(leg) == row_identity(other_leg)
    assert trade_identity(leg) != trade_identity(other_leg)
    assert trade_identity(leg) == trade_identity(again)
    assert trade_identity(leg).startswith(row_identity(leg) + "|")


def test_rows_without_identifying_fields_are_identified_by_content() -> None:
    assert trade_identity({"price": "abc"}) == row_identity({"price": "abc"})
    assert trade_identity("not a row") == trade_identity("not a row") != trade_identity("other")


def test_activities_of_one_transaction_differ_by_type_and_amount() -> None:
    trade, redeem = activity_row(WALLET, EPOCH0, kind="TRADE"), activity_row(WALLET, EPOCH0, kind="REDEEM")
    redeem["transactionHash"] = trade["transactionHash"]
    assert activity_identity(trade) != activity_identity(redeem)
    assert activity_identity(trade) == activity_identity(copy.deepcopy(trade))


def test_a_position_is_its_wallet_and_token_whatever_its_value() -> None:
    row = position_row(WALLET, 1)
    moved = dict(row, curPrice=0.7, currentValue=105.35)
    assert position_identity(row) == position_identity(moved)
    assert position_identity(row) != position_identity(position_row(WALLET, 2))
    closed = position_row(WALLET, 1, closed=True, timestamp=EPOCH0)
    assert closed_position_identity(closed) != closed_position_identity(dict(closed, timestamp=EPOCH0 + 9))


def test_recorded_positions_have_distinct_identities() -> None:
    rows = load_json("nautilus-polymarket-fixtures/data_api_positions_response.json")
    assert len({position_identity(r) for r in rows}) == len(rows)


def test_merge_keeps_the_cache_adds_the_new_and_counts_repeats() -> None:
    # GIVEN cached rows at seconds 0..9 and a refresh that re-read seconds 8..9 and found 10..11
    kept = order_newest_first([trade_row(WALLET, EPOCH0 + s, n=s) for s in range(10)])
    fresh = order_newest_first([trade_row(WALLET, EPOCH0 + s, n=s) for s in range(8, 12)])

    # WHEN merged
    merged, repeats = merge_rows(kept, fresh, trade_identity)

    # THEN 12 rows, newest first, the two re-read ones counted once
    assert repeats == 2 and len(merged) == 12
    assert [r["timestamp"] for r in merged] == [EPOCH0 + s for s in range(11, -1, -1)]
    assert newest_timestamp(merged) == EPOCH0 + 11


def test_rows_without_a_readable_timestamp_sort_last_in_the_order_given() -> None:
    rows = [{"timestamp": "x", "n": 1}, trade_row(WALLET, EPOCH0), {"n": 2}, trade_row(WALLET, EPOCH0 + 5)]
    ordered = order_newest_first(rows)
    assert ordered[2:] == [{"timestamp": "x", "n": 1}, {"n": 2}]
    assert newest_timestamp([{"timestamp": None}]) is None


def test_response_bodies_become_rows_or_none() -> None:
    assert as_rows([{"a": 1}, "junk"]) == [{"a": 1}, "junk"]
    assert as_rows({"data": [{"a": 1}], "pagination": {}}) == [{"a": 1}]
    assert as_rows({"error": "x"}) is None
