"""The CLOB market channel and `GET /book` parsed into quotes (copytrader.polymarket.clob_market): every documented
message type, the recorded fixtures when the handbook is present, and garbage that becomes a reason, never a raise."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from copytrader.polymarket.clob_market import (
    UNSET,
    Alive,
    Quote,
    Reject,
    change_message,
    parse_book,
    parse_frame,
    subscribe_message,
)
from tests.support.handbook import data_file

D = Decimal
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
A = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
B = "52114319501245915516055106046884209969926127482827954674443846427813813222426"


def test_subscribe_and_change_frames_are_the_documented_ones() -> None:
    assert json.loads(subscribe_message([B, A])) == {
        "assets_ids": [B, A] if B < A else [A, B],
        "type": "market",
        "custom_feature_enabled": True,
    }
    assert json.loads(change_message([A], subscribe=False)) == {
        "assets_ids": [A],
        "operation": "unsubscribe",
        "custom_feature_enabled": True,
    }


def test_a_book_takes_the_best_levels_whatever_their_order() -> None:
    # worst-first as sent: bids ascending 0.48, 0.49, 0.50; asks descending 0.53, 0.52, 0.51
    book = {
        "event_type": "book",
        "asset_id": A,
        "bids": [{"price": ".48", "size": "30"}, {"price": ".49", "size": "20"}, {"price": ".50", "size": "15"}],
        "asks": [{"price": ".53", "size": "60"}, {"price": ".52", "size": "25"}, {"price": ".51", "size": "10"}],
        "timestamp": "123456789000",
    }
    assert parse_frame(json.dumps(book), NOW) == [Quote(A, NOW, D("0.50"), D("0.51"))]
    # an empty side is no price; the REST answer's last trade is carried
    rest = {"asset_id": A, "bids": [], "asks": [{"price": "0.9", "size": "1"}], "last_trade_price": "0.88"}
    assert parse_book(rest, NOW) == Quote(A, NOW, None, D("0.9"), D("0.88"))


def test_price_change_best_bid_ask_and_last_trade_set_only_their_fields() -> None:
    frame = [
        {
            "event_type": "price_change",
            "market": "0x5f",
            "price_changes": [
                {"asset_id": A, "price": "0.5", "size": "200", "side": "BUY", "best_bid": "0.5", "best_ask": "1"},
                {"asset_id": B, "price": "0.49", "size": "0", "side": "SELL", "best_bid": "0.48", "best_ask": "0.49"},
            ],
        },
        {"event_type": "best_bid_ask", "asset_id": A, "best_bid": "0.73", "best_ask": "0.77", "spread": "0.04"},
        {"event_type": "last_trade_price", "asset_id": A, "price": "0.456", "side": "BUY", "size": "219.217767"},
        {"event_type": "tick_size_change", "asset_id": A, "old_tick_size": "0.01", "new_tick_size": "0.001"},
    ]
    parsed = parse_frame(json.dumps(frame), NOW)
    assert parsed == [
        Quote(A, NOW, D("0.5"), D("1")),
        Quote(B, NOW, D("0.48"), D("0.49")),
        Quote(A, NOW, D("0.73"), D("0.77")),
        Quote(A, NOW, last_trade=D("0.456")),
        Alive("tick_size_change"),
    ]
    assert parsed[3].bid is UNSET and parsed[3].ask is UNSET  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("{not json", "malformed_json"),
        ("3", "not_an_object"),
        ('{"event_type": "book", "asset_id": "0xabc", "bids": [], "asks": []}', "missing_asset"),
        ('{"event_type": "best_bid_ask", "asset_id": "1", "best_bid": "1.2", "best_ask": "1.3"}', "bad_price"),
        ('{"event_type": "best_bid_ask", "asset_id": "1", "best_bid": "NaN", "best_ask": "0.3"}', "bad_price"),
        ('{"event_type": "last_trade_price", "asset_id": "1", "price": true}', "bad_price"),
        ('{"event_type": "book", "asset_id": "1", "bids": {"price": "0.1"}, "asks": []}', "bad_price"),
        ('{"event_type": "price_change", "price_changes": 7}', "bad_price"),
        ('{"event_type": "surprise"}', "unknown_event"),
    ],
)
def test_garbage_becomes_a_reason(frame: str, reason: str) -> None:
    [parsed] = parse_frame(frame, NOW)
    assert isinstance(parsed, Reject) and parsed.reason == reason


def test_pong_is_alive() -> None:
    assert parse_frame("PONG", NOW) == [Alive("pong")]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ws_market_book_msg.json", [Quote(A, NOW, D("0.50"), D("0.51"))]),
        ("ws_book_snapshot.json", [Reject("unknown_event", "event_type None")]),  # no event_type in this fixture
        ("ws_market_price_change_msg.json", [Quote(A, NOW, D("0.51"), D("0.52"))]),
        ("ws_market_last_trade_msg.json", [Quote(A, NOW, last_trade=D("0.51"))]),
        ("ws_market_tick_size_msg.json", [Alive("tick_size_change")]),
        ("ws_market_resolved_msg.json", [Alive("market_resolved")]),
        (
            "ws_market_best_bid_ask_msg.json",
            [
                Quote(
                    "85354956062430465315924116860125388538595433819574542752031640332592237464430",
                    NOW,
                    D("0.73"),
                    D("0.77"),
                )
            ],
        ),
    ],
)
def test_recorded_messages(name: str, expected: list[object]) -> None:
    frame = data_file(f"nautilus-polymarket-fixtures/{name}").read_text()
    assert parse_frame(frame, NOW) == expected


def test_the_captured_2026_book_snapshot_best_levels_are_last() -> None:
    raw = json.loads(data_file("nautilus-polymarket-fixtures/newer_commits/ws_book_snapshot_captured.json").read_text())
    messages = raw if isinstance(raw, list) else [raw]
    for message in messages:
        quote = parse_book(message, NOW)
        assert isinstance(quote, Quote)
        bids = [D(level["price"]) for level in message["bids"]]
        asks = [D(level["price"]) for level in message["asks"]]
        assert quote.bid == (bids[-1] if bids else None) and quote.ask == (asks[-1] if asks else None)
