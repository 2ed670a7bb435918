"""`copytrader.polymarket.rtds`: the subscribe message, frame parsing (real frame, checksummed wallets, the
untracked fast path, every reject reason) and the merging of a burst's legs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.model import Source, WhaleTrade, trade_key
from copytrader.polymarket.data_api.rows import RejectReason, parse_trade_row, row_identity
from copytrader.polymarket.rtds import (
    IGNORED,
    ORDERS_MATCHED,
    TRADES,
    UNTRACKED,
    FrameReject,
    FrameRejectReason,
    FrameResult,
    Ignored,
    TradeFrame,
    Untracked,
    is_payload,
    merge_burst,
    parse_frame,
    subscribe_message,
)
from tests.support.handbook import load_json
from tests.support.listener_fakes import OTHER_WALLET, T0, WALLET, trade
from tests.support.rtds_server import envelope, trade_frame, trade_payload

REAL_FRAME = "rtds-activity-frame-sample/rtds_activity_trades_frame_2026-08-19.json"
RECEIVED = datetime(2026, 8, 19, 12, 0, 0, 250_000, tzinfo=UTC)
TRACKED = frozenset({WALLET})


def payload(**overrides: Any) -> dict[str, Any]:
    """The RTDS payload of the fakes' trade 0 (a tracked wallet), with fields replaced or removed (None)."""
    body = trade_payload(trade(0))
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


def rejected(result: FrameResult) -> str:
    assert isinstance(result, FrameReject), result
    return result.reason


def test_subscribe_message_asks_for_both_activity_types() -> None:
    assert json.loads(subscribe_message()) == {
        "action": "subscribe",
        "subscriptions": [{"topic": "activity", "type": "trades"}, {"topic": "activity", "type": "orders_matched"}],
    }


def test_the_real_frame_becomes_a_canonical_rtds_trade() -> None:
    raw = load_json(REAL_FRAME)
    wallet = raw["payload"]["proxyWallet"]
    assert wallet != wallet.lower(), "the captured frame carries a checksummed address"
    result = parse_frame(json.dumps(raw), RECEIVED, frozenset({wallet.lower()}))
    assert isinstance(result, TradeFrame)
    assert result.type == TRADES
    got = result.trade
    assert got.wallet == wallet.lower()
    assert (got.side, got.outcome, got.outcome_index) == ("BUY", "No", 1)
    assert (got.price, got.size) == (Decimal("0.26"), Decimal("2.7027"))
    assert got.token_id == raw["payload"]["asset"]
    assert got.condition_id == raw["payload"]["conditionId"]
    assert got.tx_hash == raw["payload"]["transactionHash"]
    assert got.timestamp == datetime.fromtimestamp(1787102287, tz=UTC)  # the payload's seconds, not the envelope's ms
    assert (got.source, got.detected_at) == (Source.RTDS, RECEIVED)
    assert got.key == trade_key(got.tx_hash, got.wallet, got.token_id, "BUY")
    assert is_payload(result)


def test_the_real_frame_parses_the_same_from_bytes_and_without_a_filter() -> None:
    text = json.dumps(load_json(REAL_FRAME))
    from_text = parse_frame(text, RECEIVED, None)
    assert isinstance(from_text, TradeFrame)
    assert parse_frame(text.encode(), RECEIVED, None) == from_text


def test_the_real_frame_of_an_untracked_wallet_is_untracked() -> None:
    assert parse_frame(json.dumps(load_json(REAL_FRAME)), RECEIVED, TRACKED) is UNTRACKED


@pytest.mark.parametrize("checksum", [False, True])
def test_a_tracked_wallet_matches_in_either_case(checksum: bool) -> None:
    result = parse_frame(trade_frame(trade(0), checksum=checksum), RECEIVED, TRACKED)
    assert isinstance(result, TradeFrame)
    assert result.trade.wallet == WALLET


def test_untracked_frames_are_not_validated() -> None:
    """The fast path: a payload whose every other field is broken is still only 'untracked'."""
    broken = payload(proxyWallet=OTHER_WALLET.upper().replace("0X", "0x"), price=7, size=-1, transactionHash=None)
    result = parse_frame(envelope(broken), RECEIVED, TRACKED)
    assert result is UNTRACKED
    assert is_payload(result)


def test_the_same_trade_is_equal_across_types_and_matches_the_data_api_key() -> None:
    """`trades` and `orders_matched` report one fill with one key, the key the Data API row has too."""
    via_trades = parse_frame(trade_frame(trade(0), kind=TRADES), RECEIVED, TRACKED)
    via_matched = parse_frame(trade_frame(trade(0), kind=ORDERS_MATCHED, checksum=True), RECEIVED, TRACKED)
    assert isinstance(via_trades, TradeFrame) and isinstance(via_matched, TradeFrame)
    assert (via_trades.type, via_matched.type) == (TRADES, ORDERS_MATCHED)
    assert via_trades.trade == via_matched.trade
    assert via_trades.trade.key == trade(0).key == row_identity(payload())


def test_the_normalisation_is_the_data_api_parsers() -> None:
    result = parse_frame(trade_frame(trade(3)), T0, TRACKED)
    assert isinstance(result, TradeFrame)
    assert result.trade == trade(3).model_copy(update={"source": Source.RTDS})


@pytest.mark.parametrize(
    "frame",
    [
        "",  # RTDS answers PING with an empty text frame
        b"",
        "  ",
        "pong",
        "PONG",
        '{"connection_id":"abc"}',  # a reply with neither topic nor payload
        '{"message":"subscribed","statusCode":200}',
    ],
)
def test_keep_alive_and_control_frames_are_ignored_not_rejected(frame: str | bytes) -> None:
    result = parse_frame(frame, RECEIVED, TRACKED)
    assert result is IGNORED
    assert not is_payload(result)


FRAME_REJECTS: list[tuple[str | bytes, FrameRejectReason]] = [
    ("{", FrameRejectReason.MALFORMED_JSON),
    ("hello", FrameRejectReason.MALFORMED_JSON),
    (b"\xff\xfe\x00garbage", FrameRejectReason.MALFORMED_JSON),
    ("[" * 100_000, FrameRejectReason.MALFORMED_JSON),  # nesting deeper than the JSON decoder's recursion
    ("[1, 2]", FrameRejectReason.NOT_AN_OBJECT),
    ("42", FrameRejectReason.NOT_AN_OBJECT),
    (envelope(payload(), topic="comments"), FrameRejectReason.UNKNOWN_TOPIC),
    (json.dumps({"type": "trades", "payload": payload()}), FrameRejectReason.UNKNOWN_TOPIC),
    (envelope(payload(), kind="orders_cancelled"), FrameRejectReason.UNKNOWN_TYPE),
    (envelope(payload(), kind=["trades"]), FrameRejectReason.UNKNOWN_TYPE),  # unhashable: must not raise
    (json.dumps({"topic": "activity", "type": "trades"}), FrameRejectReason.MISSING_PAYLOAD),
    (envelope(None), FrameRejectReason.MISSING_PAYLOAD),
    (envelope([payload()]), FrameRejectReason.MISSING_PAYLOAD),
]


@pytest.mark.parametrize(("frame", "reason"), FRAME_REJECTS)
def test_frame_level_rejects(frame: str | bytes, reason: FrameRejectReason) -> None:
    result = parse_frame(frame, RECEIVED, TRACKED)
    assert rejected(result) == reason.value
    assert not is_payload(result), "a broken frame proves nothing about the firehose"


ROW_REJECTS: list[tuple[dict[str, Any], RejectReason]] = [
    (payload(transactionHash=None), RejectReason.MISSING_TX_HASH),
    (payload(transactionHash="0x1234"), RejectReason.MALFORMED_TX_HASH),
    (payload(proxyWallet=None), RejectReason.MALFORMED_WALLET),  # no wallet: cannot be untracked, is malformed
    (payload(proxyWallet=12), RejectReason.MALFORMED_WALLET),
    (payload(side="HOLD"), RejectReason.UNKNOWN_SIDE),
    (payload(asset="0xabc"), RejectReason.MALFORMED_TOKEN_ID),
    (payload(conditionId="cond"), RejectReason.MALFORMED_CONDITION_ID),
    (payload(price="cheap"), RejectReason.MALFORMED_PRICE),
    (payload(price=0), RejectReason.PRICE_OUT_OF_RANGE),
    (payload(price=1), RejectReason.PRICE_OUT_OF_RANGE),
    (payload(price=1.5), RejectReason.PRICE_OUT_OF_RANGE),
    (payload(size="lots"), RejectReason.MALFORMED_SIZE),
    (payload(size=0), RejectReason.NON_POSITIVE_SIZE),
    (payload(size=-3.5), RejectReason.NON_POSITIVE_SIZE),
    (payload(timestamp="yesterday"), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp=None), RejectReason.MALFORMED_TIMESTAMP),
    # past year 9999 no datetime can hold it; absurd sizes would overflow a sum of legs
    (payload(timestamp=10**20), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp=10**400), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp=float("inf")), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp=float("nan")), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp=-5), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp="-5"), RejectReason.MALFORMED_TIMESTAMP),
    (payload(timestamp="99999999999999999999"), RejectReason.MALFORMED_TIMESTAMP),
    (payload(size="9.9e999999"), RejectReason.IMPLAUSIBLE_SIZE),
]


@pytest.mark.parametrize(("body", "reason"), ROW_REJECTS)
def test_payload_level_rejects_reuse_the_data_api_reasons(body: dict[str, Any], reason: RejectReason) -> None:
    result = parse_frame(envelope(body), RECEIVED, TRACKED)
    assert rejected(result) == reason.value
    assert is_payload(result), "a bad row is still a payload: the feed is flowing"


def test_without_a_filter_a_malformed_wallet_string_is_rejected() -> None:
    assert rejected(parse_frame(envelope(payload(proxyWallet="0xnothex")), RECEIVED, None)) == "malformed_wallet"


def test_every_reject_reason_is_reachable() -> None:
    """Every reason a frame can be dropped for is exercised above (wallet_mismatch needs a `?user=` query;
    invalid_trade is the row parser's defensive catch, unreachable while its checks mirror the contract)."""
    seen = {reason.value for _, reason in FRAME_REJECTS} | {reason.value for _, reason in ROW_REJECTS}
    expected = {r.value for r in FrameRejectReason} | {r.value for r in RejectReason} - {
        "wallet_mismatch",
        "invalid_trade",
    }
    assert seen == expected


# ---------------------------------------------------------------------------------------------------- bursts


def leg(n: int, kind: str, **overrides: Any) -> TradeFrame:
    result = parse_frame(envelope(payload(**overrides) if overrides else trade_payload(trade(n)), kind=kind), T0, None)
    assert isinstance(result, TradeFrame)
    return result


def test_legs_of_one_type_are_summed() -> None:
    """Two resting orders of one maker filled in one settlement: one trade, sizes added, price weighted."""
    a = leg(0, TRADES, size=100, price=0.40)
    b = leg(0, TRADES, size=300, price=0.44)
    (merged,) = merge_burst([a, b])
    assert merged.key == a.trade.key
    assert merged.size == Decimal(400)
    assert merged.price == Decimal("0.430000")


def test_a_fill_reported_by_both_types_is_not_counted_twice() -> None:
    frames = [leg(0, ORDERS_MATCHED), leg(1, TRADES), leg(0, TRADES)]
    merged = merge_burst(frames)
    assert [t.key for t in merged] == [trade(0).key, trade(1).key]
    assert merged[0].size == trade(0).size


# ------------------------------------------------------------------------------------------------ robustness

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["asset", "conditionId", "proxyWallet", "side", "size", "price", "timestamp", "transactionHash", "outcome"]


@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary())
def test_parse_frame_never_raises_on_arbitrary_input(frame: str | bytes) -> None:
    for tracked in (None, TRACKED):
        assert isinstance(parse_frame(frame, RECEIVED, tracked), Ignored | Untracked | TradeFrame | FrameReject)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from([TRADES, ORDERS_MATCHED, "x"]),
    st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=len(FIELDS)),
    st.booleans(),
)
def test_parse_frame_never_raises_on_arbitrary_payload_fields(kind: str, fields: dict[str, Any], tracked: bool) -> None:
    body = {**payload(), **fields}
    result = parse_frame(envelope(body, kind=kind), RECEIVED, TRACKED if tracked else None)
    if isinstance(result, TradeFrame):
        assert result.trade.source is Source.RTDS
        expected = parse_trade_row(body, RECEIVED)
        assert isinstance(expected, WhaleTrade) and expected.key == result.trade.key
