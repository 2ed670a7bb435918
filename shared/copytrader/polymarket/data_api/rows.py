"""Data API `/trades` rows -> canonical WhaleTrades.

`GET /trades` (v1) rows are camelCase (`proxyWallet`, `asset`, `conditionId`, `outcomeIndex`,
`transactionHash`); `GET /v2/trades` rows are snake_case (`proxy_wallet`, `token_id`, `condition_id`,
`outcome_index`, `transaction_hash`). `parse_trade_row` accepts either and returns a canonical
`WhaleTrade` (source `data-api`, `detected_at` = when we received the row) or a `RowReject` carrying a
`RejectReason`. It never raises: one bad row from a public feed must cost one counted reject, not a poll.
Prices and sizes arrive as JSON floats and become exact Decimals through their shortest repr
(`copytrader.money.to_decimal`), so 0.0674345935091477 stays 0.0674345935091477.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from copytrader.model import LAST_SECOND, MILLISECONDS_ABOVE, Source, WhaleTrade, trade_key, utc_from_epoch
from copytrader.money import MICRO, ONE, ZERO, canonical, to_decimal

UNLABELED_OUTCOME_INDEX = 999  # v2's "no outcome label"

Row = Mapping[str, Any]

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")
MAX_SHARES = Decimal(10) ** 12  # no fill is a trillion shares: a larger size is corrupt, not a trade


class RejectReason(StrEnum):
    """Why a Data API row did not become a WhaleTrade (one spelling for counters, logs and tests)."""

    NOT_AN_OBJECT = "not_an_object"
    MISSING_TX_HASH = "missing_tx_hash"
    MALFORMED_TX_HASH = "malformed_tx_hash"
    MALFORMED_WALLET = "malformed_wallet"
    WALLET_MISMATCH = "wallet_mismatch"  # a row for another wallet in a `?user=` answer
    UNKNOWN_SIDE = "unknown_side"
    MALFORMED_TOKEN_ID = "malformed_token_id"
    MALFORMED_CONDITION_ID = "malformed_condition_id"
    MALFORMED_PRICE = "malformed_price"
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    MALFORMED_SIZE = "malformed_size"
    NON_POSITIVE_SIZE = "non_positive_size"
    IMPLAUSIBLE_SIZE = "implausible_size"
    MALFORMED_TIMESTAMP = "malformed_timestamp"
    INVALID_TRADE = "invalid_trade"  # passed the field checks but the contract still refused it


@dataclass(frozen=True)
class RowReject:
    reason: RejectReason
    detail: str


class _Rejected(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reject = RowReject(reason, detail)


def _field(row: Row, camel: str, snake: str) -> Any:
    value = row.get(camel)
    return row.get(snake) if value is None else value


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _matching(value: Any, pattern: re.Pattern[str], reason: RejectReason, what: str, lower: bool = True) -> str:
    text = _text(value).lower() if lower else _text(value)
    if not pattern.match(text):
        raise _Rejected(reason, f"{what} {value!r}")
    return text


def _number(value: Any, reason: RejectReason, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError:
        raise _Rejected(reason, f"{what} {value!r}") from None


def epoch_seconds(value: Any) -> int | None:
    """A row's `timestamp` as integer epoch seconds (milliseconds are scaled down), or None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        return None
    seconds = value // 1000 if value > MILLISECONDS_ABOVE else value
    return seconds if seconds <= LAST_SECOND else None


def _outcome_index(value: Any) -> int | None:
    """Cosmetic: a malformed or unlabeled (999) index becomes None rather than costing the trade."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value == UNLABELED_OUTCOME_INDEX:
        return None
    return value


def _identity_fields(row: Row) -> tuple[str, str, str, str]:
    """The four identifying fields, normalised exactly as the parser normalises them."""
    return (
        _text(_field(row, "transactionHash", "transaction_hash")).lower(),
        _text(_field(row, "proxyWallet", "proxy_wallet")).lower(),
        _text(_field(row, "asset", "token_id")),
        _text(row.get("side")).upper(),
    )


def row_identity(row: object) -> str:
    """The canonical trade key of a row, or "row:<digest of its content>" when it lacks an identifying field.

    For every row that parses, `row_identity(row) == parse_trade_row(row, ...).key`. It lets the pager and
    the high-water marks recognise a row (even a rejected one) without parsing it again.
    """
    if isinstance(row, Mapping):
        fields = _identity_fields(row)
        if all(fields):
            return trade_key(*fields)
    content = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
    return "row:" + hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


def row_content_identity(row: object) -> str:
    """A row's trade key plus its size, price and timestamp: one leg of one fill.

    With `takerOnly=false` a wallet whose several resting orders fill in one transaction gets one row per order;
    those rows share the trade key (`row_identity`) and differ in size or price. Paging and high-water marks must
    tell a repeated row (identical in every one of these fields) from another leg of the same fill.
    """
    key = row_identity(row)
    if key.startswith("row:") or not isinstance(row, Mapping):
        return key  # not identifiable by its fields: its whole content is its identity
    content = json.dumps([row.get("size"), row.get("price"), row.get("timestamp")], default=str, separators=(",", ":"))
    return f"{key}|{hashlib.blake2b(content.encode(), digest_size=8).hexdigest()}"


def row_timestamp(row: object) -> int | None:
    return epoch_seconds(row.get("timestamp")) if isinstance(row, Mapping) else None


def parse_trade_row(
    row: object, received_at: datetime, wallet: str | None = None, source: Source = Source.DATA_API
) -> WhaleTrade | RowReject:
    """One v1 or v2 `/trades` row -> a canonical WhaleTrade, or the reason it cannot be one.

    `wallet`, when given, is the address the request asked for (`?user=`): a row of another wallet is
    rejected as `wallet_mismatch` rather than attributed to the wrong whale. `source` labels the trade:
    RTDS trade payloads carry the same camelCase fields and are parsed here too.
    """
    try:
        return _parse(row, received_at, wallet, source)
    except _Rejected as rejected:
        return rejected.reject


def _parse(row: object, received_at: datetime, wallet: str | None, source: Source) -> WhaleTrade:
    if not isinstance(row, Mapping):
        raise _Rejected(RejectReason.NOT_AN_OBJECT, f"row is a {type(row).__name__}")
    tx_hash, owner, token_id, side = _identity_fields(row)
    if not tx_hash:
        raise _Rejected(RejectReason.MISSING_TX_HASH, "no transactionHash")
    _matching(tx_hash, _HASH32, RejectReason.MALFORMED_TX_HASH, "transaction hash")
    _matching(owner, _ADDRESS, RejectReason.MALFORMED_WALLET, "wallet")
    if wallet is not None and owner != wallet.lower():
        raise _Rejected(RejectReason.WALLET_MISMATCH, f"row of {owner} in the answer for {wallet.lower()}")
    if side not in ("BUY", "SELL"):
        raise _Rejected(RejectReason.UNKNOWN_SIDE, f"side {row.get('side')!r}")
    _matching(token_id, _TOKEN_ID, RejectReason.MALFORMED_TOKEN_ID, "token id", lower=False)
    condition_id = _matching(
        _field(row, "conditionId", "condition_id"), _HASH32, RejectReason.MALFORMED_CONDITION_ID, "condition id"
    )
    price = _number(row.get("price"), RejectReason.MALFORMED_PRICE, "price")
    if not ZERO < price < ONE:
        raise _Rejected(RejectReason.PRICE_OUT_OF_RANGE, f"price {price} outside (0, 1)")
    size = _number(row.get("size"), RejectReason.MALFORMED_SIZE, "size")
    if size <= ZERO:
        raise _Rejected(RejectReason.NON_POSITIVE_SIZE, f"size {size}")
    if size > MAX_SHARES:
        raise _Rejected(RejectReason.IMPLAUSIBLE_SIZE, f"size {size} shares")
    timestamp = epoch_seconds(row.get("timestamp"))
    if timestamp is None:
        raise _Rejected(RejectReason.MALFORMED_TIMESTAMP, f"timestamp {row.get('timestamp')!r}")
    outcome = row.get("outcome")
    try:
        return WhaleTrade.create(
            wallet=owner,
            side=side,
            token_id=token_id,
            condition_id=condition_id,
            outcome=(outcome.strip() or None) if isinstance(outcome, str) else None,
            outcome_index=_outcome_index(_field(row, "outcomeIndex", "outcome_index")),
            price=price,
            size=size,
            timestamp=utc_from_epoch(timestamp),
            tx_hash=tx_hash,
            source=source,
            detected_at=received_at,
        )
    except ValidationError as exc:
        raise _Rejected(RejectReason.INVALID_TRADE, str(exc.errors()[0]["msg"])) from None


def merge_legs(trades: Sequence[WhaleTrade]) -> list[WhaleTrade]:
    """Trades with the same canonical key are legs of one fill: sum the sizes, size-weighted mean price.

    A wallet whose several resting orders on one token and side fill in one settlement transaction gets
    one Data API row per order; the canonical trade is their sum (see `copytrader.model.trade_key`). Merge
    only rows whose exact repeats are gone (`row_content_identity`, as `trades_since` does across its pages):
    equal rows on two pages are a page-boundary repeat, not two legs.
    The mean price is rounded to 1e-6 (finer than any tick) within the legs' price range. Order of first
    appearance is kept.
    """
    legs: dict[str, list[WhaleTrade]] = {}
    for trade in trades:
        legs.setdefault(trade.key, []).append(trade)
    merged: list[WhaleTrade] = []
    for group in legs.values():
        first = group[0]
        if len(group) == 1:
            merged.append(first)
            continue
        size = sum((t.size for t in group), ZERO)
        mean = (sum((t.price * t.size for t in group), ZERO) / size).quantize(MICRO)
        price = min(max(mean, min(t.price for t in group)), max(t.price for t in group))  # stays inside (0, 1)
        merged.append(first.model_copy(update={"size": canonical(size), "price": canonical(price)}))
    return merged
