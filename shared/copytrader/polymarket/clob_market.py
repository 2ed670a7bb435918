"""The CLOB market channel (`wss://ws-subscriptions-clob.polymarket.com/ws/market`) and `GET /book`, parsed into
price quotes for marks (REFERENCE.md sections c and d). Pure: no socket here (`copytrader.listener.marks_source`).

Protocol
    Subscribe right after connecting (else the server may close): `{"assets_ids":[...],"type":"market",
    "custom_feature_enabled":true}`; later changes on the same socket: `{"assets_ids":[...],"operation":
    "subscribe"|"unsubscribe","custom_feature_enabled":true}`. Keep-alive: the text `PING` every 10 s, answered
    `PONG`. A subscription does not survive a new socket; the server sends a `book` snapshot per token on subscribe.

Messages (`event_type`; a frame is one object or a JSON array of them, the initial snapshots come as an array)
    book             `asset_id`, `bids`/`asks` [{price, size}] worst-first (best is the LAST level; we take the
                     max bid and min ask, whatever the order): sets bid and ask (an empty side: none).
    price_change     `price_changes[]` each with `asset_id`, `best_bid`, `best_ask` (Sept 2025 format): sets both.
    best_bid_ask     `asset_id`, `best_bid`, `best_ask` (custom feature): sets both.
    last_trade_price `asset_id`, `price`: sets the last trade.
    tick_size_change, new_market, market_resolved: proof the feed is alive; no price.
`GET /book` has the `book` message's shape plus `last_trade_price` (a quote with all three).

A quote is stamped with the time we received it, not the message's `timestamp`: a mark's age is how long ago we
last knew its price (a `book` snapshot of a quiet market carries the time of its last change, hours old, and is
true now). Prices must be numbers in 0..1; anything else is a reject with a reason, never an exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

MARKET_CHANNEL_URL: Final = "wss://ws-subscriptions-clob.polymarket.com/ws/market"
PING: Final = "PING"
PONG: Final = "PONG"
NO_PRICE_EVENTS: Final = frozenset({"tick_size_change", "new_market", "market_resolved"})


def subscribe_message(tokens: Iterable[str]) -> str:
    """The first frame on a socket: subscribe to `tokens` (sorted, so the frame is a function of the set)."""
    return json.dumps(
        {"assets_ids": sorted(tokens), "type": "market", "custom_feature_enabled": True}, separators=(",", ":")
    )


def change_message(tokens: Iterable[str], subscribe: bool) -> str:
    """Add (`subscribe`) or drop tokens on a live socket."""
    operation = "subscribe" if subscribe else "unsubscribe"
    return json.dumps(
        {"assets_ids": sorted(tokens), "operation": operation, "custom_feature_enabled": True}, separators=(",", ":")
    )


class Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset()  # a quote field the message did not speak of (keep the mark's value)


@dataclass(frozen=True, slots=True)
class Quote:
    """What one message says of one token's prices; `UNSET` fields leave the mark's value as it was."""

    token_id: str
    at: datetime
    bid: Decimal | Unset | None = UNSET
    ask: Decimal | Unset | None = UNSET
    last_trade: Decimal | Unset | None = UNSET


@dataclass(frozen=True, slots=True)
class Alive:
    """A message with no price (tick size change, new market, resolution) or a PONG: the socket is alive."""

    event: str


@dataclass(frozen=True, slots=True)
class Reject:
    reason: str  # malformed_json, not_an_object, unknown_event, missing_asset, bad_price
    detail: str


Parsed = Quote | Alive | Reject


def _price(raw: Any) -> Decimal | None:
    """A price field: a number in 0..1; None for an empty or absent value; ValueError otherwise."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError(f"price {raw!r} is not a number")
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"price {raw!r} is not a number") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise ValueError(f"price {raw!r} is not in 0..1")
    return value


def _best(levels: Any, highest: bool) -> Decimal | None:
    if not isinstance(levels, list):
        raise ValueError("book side is not a list")
    found = (_price(level.get("price") if isinstance(level, dict) else None) for level in levels)
    prices = [price for price in found if price is not None]
    if not prices:
        return None
    return max(prices) if highest else min(prices)


def _asset(message: dict[str, Any]) -> str:
    asset = message.get("asset_id")
    if not isinstance(asset, str) or not asset.strip().isdigit():
        raise KeyError(f"asset_id {asset!r}")
    return asset.strip()


def parse_book(payload: Any, received_at: datetime) -> Quote | Reject:
    """A `book` message or a `GET /book` answer (with `last_trade_price` when it has one)."""
    if not isinstance(payload, dict):
        return Reject("not_an_object", f"book is a JSON {type(payload).__name__}")
    try:
        asset = _asset(payload)
        bid, ask = _best(payload.get("bids", []), True), _best(payload.get("asks", []), False)
        if "last_trade_price" in payload:
            return Quote(asset, received_at, bid, ask, _price(payload.get("last_trade_price")))
        return Quote(asset, received_at, bid, ask)
    except KeyError as exc:
        return Reject("missing_asset", str(exc))
    except ValueError as exc:
        return Reject("bad_price", str(exc))


def _message(message: Any, received_at: datetime) -> list[Parsed]:
    if not isinstance(message, dict):
        return [Reject("not_an_object", f"message is a JSON {type(message).__name__}")]
    event = message.get("event_type")
    try:
        if event == "book":
            return [parse_book(message, received_at)]
        if event == "price_change":
            changes = message.get("price_changes")
            if not isinstance(changes, list):
                return [Reject("bad_price", "price_change without a price_changes list")]
            return [_sides(change, received_at) for change in changes]
        if event == "best_bid_ask":
            return [_sides(message, received_at)]
        if event == "last_trade_price":
            return [Quote(_asset(message), received_at, last_trade=_price(message.get("price")))]
    except KeyError as exc:
        return [Reject("missing_asset", str(exc))]
    except ValueError as exc:
        return [Reject("bad_price", str(exc))]
    if isinstance(event, str) and event in NO_PRICE_EVENTS:
        return [Alive(event)]
    return [Reject("unknown_event", f"event_type {event!r}")]


def _sides(change: Any, received_at: datetime) -> Quote | Reject:
    if not isinstance(change, dict):
        return Reject("not_an_object", "price change is not an object")
    try:
        return Quote(_asset(change), received_at, _price(change.get("best_bid")), _price(change.get("best_ask")))
    except KeyError as exc:
        return Reject("missing_asset", str(exc))
    except ValueError as exc:
        return Reject("bad_price", str(exc))


def parse_frame(frame: str | bytes, received_at: datetime) -> list[Parsed]:
    """One market-channel frame -> its quotes, liveness and rejects, in order. Never raises."""
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    if text.strip().upper() in (PONG, ""):
        return [Alive("pong")]
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        return [Reject("malformed_json", f"not JSON: {text[:80]!r}")]
    messages = decoded if isinstance(decoded, list) else [decoded]
    return [parsed for message in messages for parsed in _message(message, received_at)]


__all__ = [
    "MARKET_CHANNEL_URL",
    "PING",
    "UNSET",
    "Alive",
    "Parsed",
    "Quote",
    "Reject",
    "Unset",
    "change_message",
    "parse_book",
    "parse_frame",
    "subscribe_message",
]
