"""Paging a Data API list past its offset bound: which page to ask for next, and when to stop. No I/O.

The Data API answers `offset` up to 10,000 and refuses more. A newest-first list with timestamps
(`/trades`, `/activity`) is read deeper in `end` windows: once the offsets of a window are used up, the
next window asks `end = <oldest timestamp seen> + 1` from offset 0. One second above the oldest row
covers that second whether the API reads `end` inclusively or not; the rows of that second come back
and are dropped by identity. A window that brings no row older than the previous window's oldest means
more rows share one second than offsets can reach: the list is reported truncated there, never looped on.

A snapshot list without timestamps (`/positions`, `/closed-positions`) has no windows: it is truncated at
the offset bound.

A list ends at a short page (fewer rows than asked for), or, for a refresh, at the first page reaching a
row older than `since` (the high-water mark minus the safety overlap; the request also carries
`start=since`, this stop is for a server that ignores it). `max_rows` stops a list that is not done once
it holds that many rows (the rows of the last page are kept).

`WindowedPager` is driven by the caller: `next_request()` until it returns None, `accept(rows)` after
each answer, `fail(detail)` when a request failed for good.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from copytrader.discovery.rows import Identity
from copytrader.polymarket.data_api.rows import Row, row_timestamp

FULL_HISTORY_START = 1  # `start=1`: the whole history of a user-scoped query (an omitted start is ~3 years)


class Completion(StrEnum):
    """How a list read ended: complete, or truncated and why (one spelling for reports and tests)."""

    COMPLETE = "complete"
    OFFSET_CEILING = "offset_ceiling"  # more rows than offsets (and `end` windows) can reach
    ROW_CAP = "row_cap"  # the caller's `max_rows` was reached
    REQUEST_FAILED = "request_failed"  # a request failed after its retries; the rows before it are kept


@dataclass(frozen=True)
class PageRequest:
    offset: int
    limit: int
    end: int | None = None
    start: int | None = None

    def params(self) -> dict[str, int]:
        params = {"limit": self.limit, "offset": self.offset}
        if self.start is not None:
            params["start"] = self.start
        if self.end is not None:
            params["end"] = self.end
        return params


class WindowedPager:
    """The paging state of one list: the rows so far (repeats dropped), requests made, how it ended."""

    def __init__(
        self,
        *,
        limit: int,
        max_offset: int,
        windowed: bool,
        identity: Identity,
        since: int | None = None,
        max_rows: int | None = None,
    ) -> None:
        if limit < 1 or max_offset < 0 or (max_rows is not None and max_rows < 1):
            raise ValueError("a pager needs limit >= 1, max_offset >= 0 and max_rows >= 1 (or None)")
        if since is not None and not windowed:
            raise ValueError("only a list with timestamps can be read from a high-water mark")
        self.limit, self.max_offset, self.windowed = limit, max_offset, windowed
        self.since, self.max_rows = since, max_rows
        self._identity = identity
        self.rows: list[Row] = []
        self.requests = 0
        self.repeated = 0
        self.windows = 1
        self.completion: Completion | None = None
        self.detail = ""
        self._seen: set[str] = set()
        self._offset = 0
        self._end: int | None = None
        self._oldest: int | None = None  # oldest timestamp of any row received
        self._window_floor: int | None = None  # the oldest timestamp when the current window started

    @property
    def done(self) -> bool:
        return self.completion is not None

    @property
    def start(self) -> int | None:
        if not self.windowed:
            return None
        return FULL_HISTORY_START if self.since is None else self.since

    def next_request(self) -> PageRequest | None:
        """The next page to ask for, or None when the list is done (`completion` says how)."""
        if self.completion is not None:
            return None
        if self._offset > self.max_offset and not self._open_window():
            return None
        return PageRequest(self._offset, self.limit, self._end, self.start)

    @property
    def reach(self) -> int:
        """How many rows the offsets of one window reach (the last page starts at or below the bound)."""
        return (self.max_offset // self.limit + 1) * self.limit

    def _open_window(self) -> bool:
        # A full last page at the bound cannot tell "exactly this many rows" from "more": report truncation.
        if not self.windowed:
            return self._finish(Completion.OFFSET_CEILING, f"{self.reach} rows or more: the offset bound is reached")
        if self._oldest is None or self._oldest == self._window_floor:
            return self._finish(
                Completion.OFFSET_CEILING,
                f"{self.reach} rows or more at second {self._oldest}: offsets cannot reach past them",
            )
        self._offset, self._end, self._window_floor = 0, self._oldest + 1, self._oldest
        self.windows += 1
        return True

    def accept(self, page: Sequence[Row]) -> None:
        """Take the answer to the last request."""
        if self.completion is not None:
            raise RuntimeError("the list is already done")
        self.requests += 1
        reached = False
        for row in page:
            stamp = row_timestamp(row)
            if stamp is not None:
                self._oldest = stamp if self._oldest is None else min(self._oldest, stamp)
                reached = reached or (self.since is not None and stamp < self.since)
            key = self._identity(row)
            if key in self._seen:
                self.repeated += 1
                continue
            self._seen.add(key)
            self.rows.append(row)
        if len(page) < self.limit:
            self._finish(Completion.COMPLETE, "")
        elif reached:
            self._finish(Completion.COMPLETE, f"reached the high-water mark {self.since}")
        elif self.max_rows is not None and len(self.rows) >= self.max_rows:
            self._finish(Completion.ROW_CAP, f"stopped after {len(self.rows)} rows (cap {self.max_rows})")
        else:
            self._offset += self.limit

    def fail(self, detail: str) -> None:
        """A request failed for good: the list ends truncated, keeping the rows received before."""
        self._finish(Completion.REQUEST_FAILED, detail)

    def _finish(self, completion: Completion, detail: str) -> bool:
        self.completion, self.detail = completion, detail
        return False
