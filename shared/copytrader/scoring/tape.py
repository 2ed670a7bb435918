"""Data API `/trades` rows -> a columnar, de-duplicated trade tape for the scorer.

Input: rows of `GET /trades` (v1, camelCase) or `GET /v2/trades` (snake_case), as parsed JSON or as CSV strings,
in any order. Output: `TradeTape`, one entry per trade, sorted by (wallet, timestamp, token, arrival).

Cleaning, each step counted in `LoadReport`:
1. a row that cannot be a trade (not an object, malformed wallet / token / condition id / tx hash, side not
   BUY or SELL, price outside (0, 1), size not positive or absurd, malformed timestamp, negative fee) is
   rejected with a reason (the same spellings as `copytrader.polymarket.data_api.rows.RejectReason`) and never
   reaches the ledger;
2. an exact repeat of a row already seen (same tx hash, wallet, token, side, size, price and timestamp) is a
   duplicate and dropped: exports and pagers repeat rows (the real global-feed sample in the handbook holds
   28 repeats in 500 rows);
3. rows with the same (tx hash, wallet, token, side) and different size or price are legs of one fill (one
   order matched against several counterparties) and merge into one trade: sizes and fees add, the price is
   the size-weighted mean, the timestamp the earliest. Two genuinely distinct legs with identical size and
   price cannot be told from a repeat and count once (documented limitation).
Rows without a transaction hash (some exports drop it) are kept, flagged in `no_tx_hash`, and never merged.
Position changes that are not trading decisions - full sets split from or merged into pUSD, converted from
`/activity` rows by `copytrader.scoring.activity` - carry `KIND_FIELD` and become tape entries with
`decision = False`: the ledger books them, the edge statistics ignore them.
Fees: a row's `fee` field (pUSD), when present, is the fee the wallet paid on that trade; rows without one are
fee-free (historical Data API rows carry none).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from copytrader.polymarket.data_api.rows import MAX_SHARES, RejectReason, epoch_seconds
from copytrader.reasons import RejectTally

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")
_MAX_SHARES = float(MAX_SHARES)
NEGATIVE_FEE = "negative_fee"
KIND_FIELD = "_copytrader_kind"  # set only by copytrader.scoring.activity on the rows it synthesises
POSITION_KINDS = frozenset({"split", "merge"})


@dataclass(frozen=True)
class TradeTape:
    """Trades as columns. `wallet`, `token`, `condition` index the tuples of addresses and ids.

    buy: True for BUY; price in (0, 1); size in shares; fee in pUSD (0 when the row carried none); timestamp in
    epoch seconds; legs: how many rows made the trade; decision: a trade the wallet chose at a price (False for
    a split or merge of full sets, which changes positions but says nothing about skill).
    """

    wallets: tuple[str, ...]
    tokens: tuple[str, ...]
    conditions: tuple[str, ...]
    wallet: npt.NDArray[np.int64]
    token: npt.NDArray[np.int64]
    condition: npt.NDArray[np.int64]
    buy: npt.NDArray[np.bool_]
    price: npt.NDArray[np.float64]
    size: npt.NDArray[np.float64]
    fee: npt.NDArray[np.float64]
    timestamp: npt.NDArray[np.int64]
    legs: npt.NDArray[np.int64]
    decision: npt.NDArray[np.bool_]

    @property
    def n(self) -> int:
        return int(self.wallet.size)

    def take(self, mask: npt.NDArray[np.bool_]) -> TradeTape:
        """The trades where `mask` holds, re-indexed so that every wallet, token and condition still trades."""
        wallets, wallet = np.unique(self.wallet[mask], return_inverse=True)
        tokens, token = np.unique(self.token[mask], return_inverse=True)
        conditions, condition = np.unique(self.condition[mask], return_inverse=True)
        return TradeTape(
            wallets=tuple(self.wallets[i] for i in wallets.tolist()),
            tokens=tuple(self.tokens[i] for i in tokens.tolist()),
            conditions=tuple(self.conditions[i] for i in conditions.tolist()),
            wallet=wallet.astype(np.int64),
            token=token.astype(np.int64),
            condition=condition.astype(np.int64),
            buy=self.buy[mask],
            price=self.price[mask],
            size=self.size[mask],
            fee=self.fee[mask],
            timestamp=self.timestamp[mask],
            legs=self.legs[mask],
            decision=self.decision[mask],
        )

    def wallet_slice(self, lo: int, hi: int) -> TradeTape:
        """The trades of wallets lo..hi-1 (token and condition tables shared, so per-token facts still apply)."""
        bounds = self.wallet_bounds()
        a, b = int(bounds[lo]), int(bounds[hi])
        return TradeTape(
            wallets=self.wallets[lo:hi],
            tokens=self.tokens,
            conditions=self.conditions,
            wallet=self.wallet[a:b] - lo,
            token=self.token[a:b],
            condition=self.condition[a:b],
            buy=self.buy[a:b],
            price=self.price[a:b],
            size=self.size[a:b],
            fee=self.fee[a:b],
            timestamp=self.timestamp[a:b],
            legs=self.legs[a:b],
            decision=self.decision[a:b],
        )

    def wallet_bounds(self) -> npt.NDArray[np.int64]:
        """Trades of wallet w are [bounds[w], bounds[w + 1]) (the tape is sorted by wallet)."""
        return np.searchsorted(self.wallet, np.arange(len(self.wallets) + 1)).astype(np.int64)


@dataclass
class LoadReport(RejectTally):
    rows: int = 0
    trades: int = 0
    duplicates: int = 0
    merged_legs: int = 0  # rows folded into another row of the same fill
    no_tx_hash: int = 0


class _Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _get(row: Mapping[str, Any], camel: str, snake: str) -> Any:
    value = row.get(camel)
    return row.get(snake) if value is None or value == "" else value


def _text(value: Any, pattern: re.Pattern[str], reason: RejectReason, lower: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if lower:
        text = text.lower()
    if not pattern.match(text):
        raise _Reject(reason)
    return text


def _float(value: Any, reason: RejectReason) -> float:
    if isinstance(value, bool) or value is None:
        raise _Reject(reason)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _Reject(reason) from None
    if not math.isfinite(number):
        raise _Reject(reason)
    return number


@dataclass(frozen=True)
class _Row:
    tx: str
    wallet: str
    token: str
    condition: str
    buy: bool
    price: float
    size: float
    fee: float
    timestamp: int
    kind: str


def _parse(row: object) -> _Row:
    if not isinstance(row, Mapping):
        raise _Reject(RejectReason.NOT_AN_OBJECT)
    raw_tx = _get(row, "transactionHash", "transaction_hash")
    tx = "" if raw_tx in (None, "") else _text(raw_tx, _HASH32, RejectReason.MALFORMED_TX_HASH)
    wallet = _text(_get(row, "proxyWallet", "proxy_wallet"), _ADDRESS, RejectReason.MALFORMED_WALLET)
    side = row.get("side")
    side = side.strip().upper() if isinstance(side, str) else ""
    if side not in ("BUY", "SELL"):
        raise _Reject(RejectReason.UNKNOWN_SIDE)
    token = _text(_get(row, "asset", "token_id"), _TOKEN_ID, RejectReason.MALFORMED_TOKEN_ID, lower=False)
    condition = _text(_get(row, "conditionId", "condition_id"), _HASH32, RejectReason.MALFORMED_CONDITION_ID)
    price = _float(row.get("price"), RejectReason.MALFORMED_PRICE)
    if not 0.0 < price < 1.0:
        raise _Reject(RejectReason.PRICE_OUT_OF_RANGE)
    size = _float(row.get("size"), RejectReason.MALFORMED_SIZE)
    if size <= 0:
        raise _Reject(RejectReason.NON_POSITIVE_SIZE)
    if size > _MAX_SHARES:
        raise _Reject(RejectReason.IMPLAUSIBLE_SIZE)
    timestamp = epoch_seconds(row.get("timestamp"))
    if timestamp is None:
        raise _Reject(RejectReason.MALFORMED_TIMESTAMP)
    raw_fee = row.get("fee")
    fee = 0.0 if raw_fee in (None, "") else _float(raw_fee, RejectReason.INVALID_TRADE)
    if fee < 0:
        raise _Reject(NEGATIVE_FEE)
    kind = row.get(KIND_FIELD)
    return _Row(
        tx, wallet, token, condition, side == "BUY", price, size, fee, timestamp, kind if kind in POSITION_KINDS else ""
    )


def load_rows(rows: Iterable[object]) -> tuple[TradeTape, LoadReport]:
    """Clean, de-duplicate and merge `rows` into a tape (see the module docstring); never raises on bad rows."""
    report = LoadReport()
    seen: set[tuple[object, ...]] = set()
    fills: dict[tuple[str, str, str, bool, str], int] = {}
    # [wallet, token, condition, buy, notional, size, fee, timestamp, legs, arrival, decision]
    kept: list[list[Any]] = []
    for row in rows:
        report.rows += 1
        try:
            r = _parse(row)
        except _Reject as reject:
            report.rejected[reject.reason] += 1
            continue
        identity = (r.tx, r.wallet, r.token, r.buy, r.size, r.price, r.timestamp, r.kind)
        if identity in seen:
            report.duplicates += 1
            continue
        seen.add(identity)
        if not r.tx:
            report.no_tx_hash += 1
        else:
            leg_of = fills.get((r.tx, r.wallet, r.token, r.buy, r.kind))
            if leg_of is not None:
                merged = kept[leg_of]
                merged[4] += r.price * r.size
                merged[5] += r.size
                merged[6] += r.fee
                merged[7] = min(merged[7], r.timestamp)
                merged[8] += 1
                report.merged_legs += 1
                continue
            fills[(r.tx, r.wallet, r.token, r.buy, r.kind)] = len(kept)
        kept.append(
            [
                r.wallet,
                r.token,
                r.condition,
                r.buy,
                r.price * r.size,
                r.size,
                r.fee,
                r.timestamp,
                1,
                len(kept),
                not r.kind,
            ]
        )
    report.trades = len(kept)
    return _columns(kept), report


def _index(values: list[str]) -> tuple[tuple[str, ...], npt.NDArray[np.int64]]:
    names = tuple(sorted(set(values)))
    lookup = {name: i for i, name in enumerate(names)}
    return names, np.fromiter((lookup[v] for v in values), dtype=np.int64, count=len(values))


def _columns(kept: list[list[Any]]) -> TradeTape:
    wallets, wallet = _index([k[0] for k in kept])
    tokens, token = _index([k[1] for k in kept])
    conditions, condition = _index([k[2] for k in kept])
    size = np.array([k[5] for k in kept], dtype=np.float64)
    price = np.array([k[4] for k in kept], dtype=np.float64) / np.where(size > 0, size, 1.0)
    timestamp = np.array([k[7] for k in kept], dtype=np.int64)
    arrival = np.arange(len(kept), dtype=np.int64)
    order = np.lexsort((arrival, token, timestamp, wallet))
    return TradeTape(
        wallets=wallets,
        tokens=tokens,
        conditions=conditions,
        wallet=wallet[order],
        token=token[order],
        condition=condition[order],
        buy=np.array([k[3] for k in kept], dtype=np.bool_)[order],
        price=np.clip(price[order], np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0)),
        size=size[order],
        fee=np.array([k[6] for k in kept], dtype=np.float64)[order],
        timestamp=timestamp[order],
        legs=np.array([k[8] for k in kept], dtype=np.int64)[order],
        decision=np.array([k[10] for k in kept], dtype=np.bool_)[order],
    )


# The columns a trade needs, each as (v1 camelCase, v2 snake_case) spellings; the transaction hash and the fee
# are optional (exports drop the hash, historical rows carry no fee).
REQUIRED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("proxyWallet", "proxy_wallet"),
    ("side", "side"),
    ("asset", "token_id"),
    ("conditionId", "condition_id"),
    ("price", "price"),
    ("size", "size"),
    ("timestamp", "timestamp"),
)


def missing_columns(rows: Iterable[object]) -> list[str]:
    """The required columns (REQUIRED_COLUMNS, named "camel / snake") that no object row carries in either spelling.

    Empty when there is no object row at all: an empty file is a clean "no trades", and a row that is not an
    object is a counted rejection (`not_an_object`), not a missing column. A column that some rows carry and
    others lack is not missing: those rows are rejected one by one, each with its reason.
    """
    seen: set[str] = set()
    objects = False
    for row in rows:
        if isinstance(row, Mapping):
            objects = True
            seen.update(str(k) for k in row)
    if not objects:
        return []
    return [
        camel if camel == snake else f"{camel} / {snake}"
        for camel, snake in REQUIRED_COLUMNS
        if not {camel, snake} & seen
    ]


def read_rows(path: Path) -> list[object]:
    """A file of `/trades` rows: a JSON array, a v2 envelope `{"data": [...]}`, JSON lines, or CSV with a header.

    The format is sniffed from the content (the first non-blank character), not trusted from the file name.
    A JSON-lines line that is not JSON becomes a rejected row, not an exception.
    """
    text = path.read_text(encoding="utf-8-sig")
    head = text.lstrip()[:1]
    if head == "[":
        data = json.loads(text)
        return list(data)
    if head == "{":
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None
        if isinstance(whole, dict):
            data = whole.get("data")
            return list(data) if isinstance(data, list) else [whole]
        rows: list[object] = []
        for line in text.splitlines():
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    rows.append(None)
        return rows
    return list(csv.DictReader(io.StringIO(text)))
