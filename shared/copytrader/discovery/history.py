"""A wallet's history as fetched: raw rows per endpoint, when, and whether each part is whole. No I/O.

`WalletHistory` keeps every row exactly as the Data API sent it (JSON objects, field names and number
types untouched): parsing is the scorer's (`copytrader.polymarket.data_api.rows.parse_trade_row`). Each
`HistoryPart` says how its read ended (`Completion`): complete, or truncated with the reason.

Refreshing a cached part (`refresh_since`, `combine`): a list with timestamps (`/trades`, `/activity`) is
read again only from `high-water mark - overlap` (the Data API lags the chain by seconds and publishes in
batches, so a row can appear after newer ones were read), and the rows are merged by identity. A
snapshot (`/positions`, `/closed-positions`) is read whole each time. A part whose read failed is
returned (with the rows it has, marked `request_failed`) but never cached; a cached part that was already
truncated stays truncated (the older gap is still there), except a part cut at a row cap, which is read
whole again once the cap is raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from copytrader.discovery.endpoints import Endpoint, EndpointSpec
from copytrader.discovery.paging import Completion, WindowedPager
from copytrader.discovery.rows import merge_rows, newest_timestamp, order_newest_first
from copytrader.polymarket.data_api.rows import Row


@dataclass(frozen=True)
class HistoryPart:
    endpoint: Endpoint
    rows: tuple[Row, ...]
    fetched_at: datetime
    completion: Completion = Completion.COMPLETE
    detail: str = ""
    requests: int = 0
    repeated_rows: int = 0
    cached_rows: int = 0  # how many of `rows` came from the cache

    @property
    def complete(self) -> bool:
        return self.completion is Completion.COMPLETE

    @property
    def high_water(self) -> int | None:
        return newest_timestamp(self.rows)

    def summary(self) -> dict[str, Any]:
        return {
            "rows": len(self.rows),
            "completion": self.completion.value,
            "detail": self.detail,
            "requests": self.requests,
            "repeated_rows": self.repeated_rows,
            "cached_rows": self.cached_rows,
            "high_water": self.high_water,
            "fetched_at": self.fetched_at.isoformat(),
        }


@dataclass(frozen=True)
class WalletHistory:
    wallet: str
    fetched_at: datetime
    parts: Mapping[Endpoint, HistoryPart] = field(default_factory=dict)

    def rows(self, endpoint: Endpoint) -> tuple[Row, ...]:
        part = self.parts.get(endpoint)
        return part.rows if part is not None else ()

    @property
    def trades(self) -> tuple[Row, ...]:
        return self.rows(Endpoint.TRADES)

    @property
    def activity(self) -> tuple[Row, ...]:
        return self.rows(Endpoint.ACTIVITY)

    @property
    def positions(self) -> tuple[Row, ...]:
        return self.rows(Endpoint.POSITIONS)

    @property
    def closed_positions(self) -> tuple[Row, ...]:
        return self.rows(Endpoint.CLOSED_POSITIONS)

    @property
    def complete(self) -> bool:
        return all(part.complete for part in self.parts.values())

    def summary(self) -> dict[str, Any]:
        return {endpoint.value: part.summary() for endpoint, part in self.parts.items()}


def refresh_since(
    cached: HistoryPart | None, spec: EndpointSpec, overlap: timedelta, max_rows: int | None = None
) -> int | None:
    """Where a refresh of `cached` starts reading (epoch seconds), or None for a full read.

    A full read: nothing cached, a snapshot endpoint, nothing in the cached part yet, or a part cut at a
    row cap lower than today's `max_rows` (the older rows it could not hold can now be read).
    """
    if cached is None or not spec.windowed or cached.completion is Completion.REQUEST_FAILED:
        return None
    if cached.completion is Completion.ROW_CAP and (max_rows is None or max_rows > len(cached.rows)):
        return None
    mark = cached.high_water
    return None if mark is None else max(1, mark - int(overlap.total_seconds()))


def combine(cached: HistoryPart | None, pager: WindowedPager, spec: EndpointSpec, fetched_at: datetime) -> HistoryPart:
    """The part a read produced, merged with the cached part it refreshed (`pager.since` set) if any."""
    completion = pager.completion or Completion.REQUEST_FAILED
    detail = pager.detail
    if pager.since is not None and cached is not None:
        rows, repeats = merge_rows(cached.rows, pager.rows, spec.identity)
        if completion is Completion.COMPLETE and not cached.complete:
            completion, detail = cached.completion, cached.detail
        return HistoryPart(
            spec.endpoint,
            tuple(rows),
            fetched_at,
            completion,
            detail,
            pager.requests,
            pager.repeated + repeats,
            cached_rows=len(rows) - (len(pager.rows) - repeats),
        )
    if completion is Completion.REQUEST_FAILED and cached is not None and not spec.windowed:
        stale = f"{detail}; rows are the snapshot cached at {cached.fetched_at.isoformat()}"
        return HistoryPart(
            spec.endpoint, cached.rows, fetched_at, completion, stale, pager.requests, 0, len(cached.rows)
        )
    rows = order_newest_first(pager.rows) if spec.windowed else list(pager.rows)
    return HistoryPart(spec.endpoint, tuple(rows), fetched_at, completion, detail, pager.requests, pager.repeated)
