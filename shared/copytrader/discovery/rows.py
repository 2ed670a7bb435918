"""Identities of Data API rows, and merging row lists without repeats.

A row fetched twice (pushed across a page boundary by a newer row, re-read at the start of an `end`
window, re-read in a refresh's safety overlap) must count once; two different rows must both count.

Trades
    `copytrader.polymarket.data_api.rows.row_identity` gives a fill's canonical key (transaction, wallet,
    token, side). It is not enough here: with `takerOnly=false` a wallet whose several resting orders fill
    in one transaction gets one row per order (the legs of one fill, summed by `merge_legs`). Those rows
    share the key and differ in size or price, so a trade's identity is its key plus its size, price and
    timestamp. Rows identical in every one of those fields are one row, which is also how
    `copytrader normalize` counts them (content identity).
Activity
    The same fields plus `type` and `usdcSize` (a REDEEM, a SPLIT and a TRADE of one transaction differ).
Positions
    One row per (wallet, token) at a time: that pair, so a row whose value moved between two pages of
    one snapshot still counts once. Closed positions add the row's `timestamp` (a token can be closed,
    re-opened and closed again).
A row without its identifying fields falls back to `row_identity`'s digest of its whole content.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from copytrader.polymarket.data_api.rows import Row, row_content_identity, row_identity, row_timestamp

Identity = Callable[[object], str]

_ECONOMIC_FIELDS = ("size", "price", "timestamp")
_ACTIVITY_FIELDS = ("type", "size", "usdcSize", "price", "timestamp", "conditionId", "outcomeIndex")


def _digest(values: Sequence[object]) -> str:
    content = json.dumps(list(values), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(content.encode(), digest_size=12).hexdigest()


def _keyed(row: object, fields: Sequence[str]) -> str:
    key = row_identity(row)
    if key.startswith("row:") or not isinstance(row, Mapping):
        return key  # not identifiable by its fields: its whole content is its identity
    return f"{key}|{_digest([row.get(name) for name in fields])}"


def trade_identity(row: object) -> str:
    """A `/trades` row: the canonical trade key plus size, price and timestamp (one leg of one fill)."""
    return row_content_identity(row)


def activity_identity(row: object) -> str:
    """An `/activity` row of any type."""
    if not isinstance(row, Mapping) or not row.get("transactionHash"):
        return row_identity(row)
    wallet, tx = str(row.get("proxyWallet", "")).lower(), str(row["transactionHash"]).lower()
    asset, side = str(row.get("asset") or ""), str(row.get("side") or "").upper()
    return f"{tx}:{wallet}:{asset}:{side}|{_digest([row.get(name) for name in _ACTIVITY_FIELDS])}"


def position_identity(row: object) -> str:
    """A `/positions` row: (wallet, token)."""
    if not isinstance(row, Mapping) or not row.get("asset"):
        return row_identity(row)
    return f"{str(row.get('proxyWallet', '')).lower()}:{row['asset']}"


def closed_position_identity(row: object) -> str:
    """A `/closed-positions` row: (wallet, token, condition, when it was closed)."""
    if not isinstance(row, Mapping) or not row.get("asset"):
        return row_identity(row)
    return f"{position_identity(row)}:{row.get('conditionId')}:{row.get('timestamp')}"


def newest_timestamp(rows: Iterable[object]) -> int | None:
    """The largest well-formed `timestamp` of the rows (epoch seconds), or None."""
    return max((t for row in rows if (t := row_timestamp(row)) is not None), default=None)


def merge_rows(kept: Sequence[Row], fresh: Sequence[Row], identity: Identity) -> tuple[list[Row], int]:
    """`kept` plus the rows of `fresh` not already in it, newest first; and how many of `fresh` were repeats.

    Rows are ordered by timestamp, newest first; rows of one second keep their order (the fresh rows of a
    second before the kept ones). Rows without a readable timestamp go last, in the order given.
    """
    known = {identity(row) for row in kept}
    added: list[Row] = []
    repeats = 0
    for row in fresh:
        key = identity(row)
        if key in known:
            repeats += 1
            continue
        known.add(key)
        added.append(row)
    return order_newest_first([*added, *kept]), repeats


def order_newest_first(rows: Iterable[Row]) -> list[Row]:
    """Stable sort by timestamp, newest first; rows without a readable timestamp last."""

    def key(row: Row) -> tuple[int, int]:
        stamp = row_timestamp(row)
        return (1, 0) if stamp is None else (0, -stamp)

    return sorted(rows, key=key)


def as_rows(body: Any) -> list[Row] | None:
    """A response body as a list of rows (a v2 `{"data": [...]}` envelope unwrapped), or None if it is not one.

    Elements are kept whatever they are: a malformed element is the parser's to reject, with a reason.
    """
    if isinstance(body, Mapping) and isinstance(body.get("data"), list):
        body = body["data"]
    if not isinstance(body, list):
        return None
    return body
