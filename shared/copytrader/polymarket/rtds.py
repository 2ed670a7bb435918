"""Polymarket Real-Time Data Socket (RTDS) `activity` frames: the subscribe message and a pure frame parser.

Protocol (REFERENCE.md section b; github Polymarket/real-time-data-client `src/client.ts`, `src/model.ts`)
    One socket to `wss://ws-live-data.polymarket.com` carries the global trade firehose (~50 frames/s, no
    server-side wallet filter: issue #34 reports that the `event_slug`/`market_slug` filters deliver nothing).
    We subscribe to both `activity` types, `trades` (taker and every maker of a fill) and `orders_matched`
    (the taker only), because either has been reported disabled at times (issue #42, ANCHORS 2.1.2). Every
    frame is the envelope `{connection_id, topic, type, timestamp (ms), payload}`; an activity payload
    carries the same camelCase fields as a Data API v1 `/trades` row (`proxyWallet`, `asset`, `conditionId`,
    `side`, `size`, `price`, `timestamp` in seconds, `transactionHash`, `outcome`, `outcomeIndex`). The
    server answers the app-level text `PING` with an empty text frame.

Parsing
    `parse_frame` turns one frame into exactly one `FrameResult`:
    - `IGNORED`: not a payload (the empty PING reply, a bare pong, a JSON object with neither `topic` nor
      `payload` such as a subscription or status reply). Not a reject: these are part of the protocol.
    - `UNTRACKED`: an activity payload of a wallet we do not watch. This is the fast path: the lower-cased
      `proxyWallet` is looked up in the tracked set right after the envelope checks and before any field is
      validated, because ~98 % of the firehose belongs to other wallets. Such a frame is still proof that
      the feed is alive (`is_payload`).
    - `TradeFrame`: a canonical `WhaleTrade` (source `rtds`, `detected_at` = receipt time, `timestamp` from
      the payload's seconds) and the activity type it came from.
    - `FrameReject`: why the frame cannot become a trade. Frame-level reasons are `FrameRejectReason`;
      payload-level reasons are the Data API parser's `RejectReason`s, because the payload *is* a v1 row
      and is validated by `copytrader.polymarket.data_api.rows.parse_trade_row` (one parser, one set of reasons).
    `proxyWallet` arrives EIP-55 checksummed on some frames (the real frame in REFERENCE.md b is), so every
    comparison is on the lower-cased address. `parse_frame` never raises, whatever the socket delivers.

Speed (one core of the 2-core dev container, Python 3.11, 1,000 tracked wallets, 700-820 byte frames):
    ~280,000 untracked frames/s (3.5 us: one `json.loads` and a set lookup), ~55,000 tracked frames/s
    (18 us: parse, filter and normalise into a validated `WhaleTrade`), ~250,000 frames/s for a 98 % / 2 %
    mix. The firehose is ~50 frames/s, the listener's budget 20,000 frames/s.

Legs and duplicates
    A wallet can appear several times for one fill: as taker in both `trades` and `orders_matched`, and, in
    `trades`, once per resting order filled in the settlement (as in Data API rows). All share one canonical
    key (`copytrader.model.trade_key`). `merge_burst` sums the legs of one type (`data_api.rows.merge_legs`) and
    keeps the first type seen for a key, so the taker is not counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from copytrader.model import Source, WhaleTrade
from copytrader.polymarket.data_api.rows import RowReject, merge_legs, parse_trade_row

RTDS_URL: Final = "wss://ws-live-data.polymarket.com"
TOPIC: Final = "activity"
TRADES: Final = "trades"
ORDERS_MATCHED: Final = "orders_matched"
TRADE_TYPES: Final = (TRADES, ORDERS_MATCHED)
PING: Final = "PING"  # app-level keep-alive text; RTDS docs: "send PING messages (every 5 seconds ideally)"
_PONGS: Final = frozenset({"", "pong", "ping"})  # non-JSON replies that are keep-alive traffic, not payloads


def subscribe_message(types: Iterable[str] = TRADE_TYPES) -> str:
    """The text frame that subscribes one connection to the `activity` types (sent again on every connect)."""
    return json.dumps(
        {"action": "subscribe", "subscriptions": [{"topic": TOPIC, "type": kind} for kind in types]},
        separators=(",", ":"),
    )


class FrameRejectReason(StrEnum):
    """Why a frame (as opposed to its payload) cannot become a trade."""

    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TOPIC = "unknown_topic"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_PAYLOAD = "missing_payload"


@dataclass(frozen=True, slots=True)
class Ignored:
    """Keep-alive or control traffic: neither a trade nor a reject, and no proof the feed is alive."""


@dataclass(frozen=True, slots=True)
class Untracked:
    """An activity payload of a wallet outside the tracked set (not validated)."""


@dataclass(frozen=True, slots=True)
class TradeFrame:
    trade: WhaleTrade
    type: str  # `trades` or `orders_matched`


@dataclass(frozen=True, slots=True)
class FrameReject:
    reason: str  # a `FrameRejectReason` or a Data API `RejectReason` value
    detail: str
    payload: bool  # the frame was an activity payload (its payload failed validation): the feed is alive


IGNORED: Final = Ignored()
UNTRACKED: Final = Untracked()

FrameResult = Ignored | Untracked | TradeFrame | FrameReject


def is_payload(result: FrameResult) -> bool:
    """Whether the frame was an `activity` payload, i.e. evidence that the firehose is flowing.

    Keep-alive replies and frame-level garbage are not: the silent stall (issues #26 and #35) keeps the
    socket open and answering PINGs while payloads stop, so only payloads may refresh the staleness clock.
    """
    return isinstance(result, Untracked | TradeFrame) or (isinstance(result, FrameReject) and result.payload)


def _frame_reject(reason: FrameRejectReason, detail: str) -> FrameReject:
    return FrameReject(reason.value, detail, payload=False)


def _not_json(frame: str | bytes) -> FrameResult:
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    if text.strip().lower() in _PONGS:
        return IGNORED
    return _frame_reject(FrameRejectReason.MALFORMED_JSON, f"not JSON: {text[:80]!r}")


def parse_frame(frame: str | bytes, received_at: datetime, tracked: Collection[str] | None) -> FrameResult:
    """One RTDS frame -> ignored, untracked, a trade, or a reject (see the module docstring). Never raises.

    `tracked` holds lower-case addresses; None accepts every wallet (offline normalisation of recorded frames).
    """
    if not frame:
        return IGNORED
    try:
        envelope = json.loads(frame)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError; deep nesting is a RecursionError
        return _not_json(frame)
    if type(envelope) is not dict:
        return _frame_reject(FrameRejectReason.NOT_AN_OBJECT, f"frame is a JSON {type(envelope).__name__}")
    topic, payload = envelope.get("topic"), envelope.get("payload")
    if topic is None and payload is None:
        return IGNORED
    if topic != TOPIC:
        return _frame_reject(FrameRejectReason.UNKNOWN_TOPIC, f"topic {topic!r}")
    kind = envelope.get("type")
    if kind not in TRADE_TYPES:  # a tuple: an unhashable `type` value cannot raise here
        return _frame_reject(FrameRejectReason.UNKNOWN_TYPE, f"type {kind!r}")
    if type(payload) is not dict:
        return _frame_reject(FrameRejectReason.MISSING_PAYLOAD, f"payload is {type(payload).__name__}")
    if tracked is not None:
        wallet = payload.get("proxyWallet")
        if type(wallet) is str and wallet.strip().lower() not in tracked:
            return UNTRACKED
    return _trade(payload, str(kind), received_at)


def _trade(payload: dict[str, Any], kind: str, received_at: datetime) -> TradeFrame | FrameReject:
    parsed = parse_trade_row(payload, received_at, source=Source.RTDS)
    if isinstance(parsed, RowReject):
        return FrameReject(parsed.reason.value, parsed.detail, payload=True)
    return TradeFrame(parsed, kind)


def merge_burst(frames: Iterable[TradeFrame]) -> list[WhaleTrade]:
    """The trades of a burst of frames, one per canonical key, in order of first appearance.

    Legs of one activity type with the same key are summed (`data_api.rows.merge_legs`: sizes added, price
    size-weighted); when both types report a key, the type seen first wins, so the taker of a fill reported
    by `trades` and `orders_matched` is counted once and not twice. (Sizes are bounded by the row parser,
    `MAX_SHARES`, so a sum cannot overflow.)
    """
    by_type: dict[str, list[WhaleTrade]] = {}
    first_type: dict[str, str] = {}
    order: list[str] = []
    for frame in frames:
        key = frame.trade.key
        if key not in first_type:
            first_type[key] = frame.type
            order.append(key)
        if first_type[key] == frame.type:
            by_type.setdefault(frame.type, []).append(frame.trade)
    merged: dict[str, WhaleTrade] = {}
    for trades in by_type.values():
        for trade in merge_legs(trades):
            merged.setdefault(trade.key, trade)
    return [merged[key] for key in order]
