"""`DataApiPoller`: the listener's safety-net source, polling each tracked wallet's Data API trades.

Each worker takes the most overdue wallet (`WalletSchedule`), pages its trades newest first down to the
wallet's high-water mark, parses the rows, and hands the new trades to the sink oldest first. The mark
advances only after the sink has accepted them (claimed in the trades table), so a failed claim, a poll
error or a crash leaves the mark behind and the next poll offers the same rows again: gaps backfill and
nothing is skipped. Rows that cannot become a trade are counted by reason once each (rows without a
readable timestamp cannot be placed behind a mark and are counted on every poll that returns them).

A wallet seen for the first time (no stored mark) starts `initial_lookback_s` before now: its older
history is not replayed into the copy pipeline, which would only reject it as stale.

Two speeds. While a live stream (chain logs, RTDS) is healthy the poller is the reconciliation source and
visits each wallet every `reconcile_interval_s`; when `streams_down()` says every stream is down or
stale it becomes the fallback and polls each wallet every `poll_interval_s` (as fast as the rate limit
allows), catching up at once on every wallet. With no stream configured it always runs fast.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from copytrader.errors import TransientError, UpstreamError
from copytrader.listener.high_water import HighWaterMark, HighWaterMarkStore
from copytrader.listener.ports import TradeSink
from copytrader.listener.schedule import WalletSchedule
from copytrader.model import WhaleTrade
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.data_api.rows import (
    RowReject,
    merge_legs,
    parse_trade_row,
    row_content_identity,
    row_timestamp,
)

logger = logging.getLogger(__name__)

SOURCE = "data-api"


@dataclass(frozen=True)
class DataApiPollerSettings:
    page_size: int = 100
    poll_interval_s: float = 2.0  # fallback speed: a wallet at most this often (the rate limit may make it rarer)
    reconcile_interval_s: float = 60.0  # reconciliation speed, while a live stream is healthy
    concurrency: int = 4  # polls in flight at once (never two of one wallet)
    initial_lookback_s: int = 300
    overlap_s: int = 30  # see copytrader.listener.high_water
    idle_wait_s: float = 0.25  # longest pause before looking again for a due wallet or a stop


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DataApiPoller:
    name = SOURCE

    def __init__(
        self,
        client: DataApiClient,
        marks: HighWaterMarkStore,
        settings: DataApiPollerSettings | None = None,
        *,
        wall: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        streams_down: Callable[[], bool] = lambda: True,
    ) -> None:
        self.settings = settings or DataApiPollerSettings()
        self._client, self._store = client, marks
        self._streams_down = streams_down
        self._wall, self._monotonic, self._sleep = wall, monotonic, sleep
        self._schedule = WalletSchedule(self.settings.poll_interval_s)
        self._marks: dict[str, HighWaterMark] = {}
        self._dirty: set[str] = set()
        self.polls: Counter[str] = Counter()  # completed polls per wallet (successful or not)

    def mark(self, wallet: str) -> HighWaterMark | None:
        return self._marks.get(wallet)

    def track(self, wallets: frozenset[str]) -> None:
        self._schedule.track((w.lower() for w in wallets), self._monotonic())

    async def run(self, sink: TradeSink, stop: asyncio.Event) -> None:
        workers = [self._worker(sink, stop) for _ in range(max(1, self.settings.concurrency))]
        await asyncio.gather(*workers)

    @property
    def fallback(self) -> bool:
        """True while the poller stands in for the live streams (polling at full speed)."""
        return self._schedule.interval_s == self.settings.poll_interval_s

    def _adjust_speed(self, sink: TradeSink) -> None:
        fast = self._streams_down()
        wanted = self.settings.poll_interval_s if fast else self.settings.reconcile_interval_s
        if wanted != self._schedule.interval_s:
            self._schedule.set_interval(wanted, self._monotonic())
            sink.count(SOURCE, "fallback_on" if fast else "fallback_off")
            logger.warning("data api poller speed changed", extra={"fallback": fast, "interval_s": wanted})

    async def _worker(self, sink: TradeSink, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self._adjust_speed(sink)
            picked = self._schedule.take(self._monotonic())
            if not isinstance(picked, str):
                await self._sleep(min(picked, self.settings.idle_wait_s))
                continue
            try:
                await self._poll_guarded(picked, sink)
            finally:
                self._schedule.release(picked, self._monotonic())
                self.polls[picked] += 1

    async def _poll_guarded(self, wallet: str, sink: TradeSink) -> None:
        """One poll; feed errors are counted and logged, never allowed to end the worker."""
        try:
            await self.poll_wallet(wallet, sink)
        except TransientError as exc:
            sink.count(SOURCE, "poll_error.transient")
            logger.warning("data api poll failed", extra={"wallet": wallet, "error": str(exc)})
        except UpstreamError as exc:
            sink.count(SOURCE, "poll_error.upstream")
            logger.error("data api answered unusably", extra={"wallet": wallet, "error": str(exc)})
        except Exception:  # a claim or store failure: the mark stays, the next poll retries
            sink.count(SOURCE, "poll_error.unexpected")
            logger.exception("data api poll failed unexpectedly", extra={"wallet": wallet})

    async def poll_wallet(self, wallet: str, sink: TradeSink) -> list[WhaleTrade]:
        """Fetch the wallet's rows down to its mark, hand new trades to the sink, then advance the mark."""
        mark = await self._load_mark(wallet)
        fetch = await self._client.trades_since(wallet, is_older=mark.is_behind, page_size=self.settings.page_size)
        observed: list[tuple[str, int]] = []
        legs: list[WhaleTrade] = []
        for page in fetch.pages:
            for row in page.rows:
                timestamp, identity = row_timestamp(row), row_content_identity(row)
                if timestamp is not None:
                    if not mark.is_new(identity, timestamp):
                        continue
                    observed.append((identity, timestamp))
                parsed = parse_trade_row(row, page.received_at, wallet)
                if isinstance(parsed, RowReject):
                    sink.reject(SOURCE, parsed.reason.value, {"detail": parsed.detail, "row": row})
                else:
                    legs.append(parsed)
        # repeats across pages are gone (content identity), so rows sharing a key are legs of one fill, even when
        # a page boundary fell between them
        trades = merge_legs(legs)
        trades.reverse()  # pages are newest first; the pipeline wants each market's trades in time order
        trades.sort(key=lambda t: t.timestamp)
        if trades:
            await sink.accept(trades)
        advanced = mark.advanced(observed, self.settings.overlap_s)
        if advanced != mark:
            self._marks[wallet] = advanced
            self._dirty.add(wallet)
        sink.count(SOURCE, "requests", fetch.requests)
        if fetch.repeated_rows:
            sink.count(SOURCE, "page_boundary_repeats", fetch.repeated_rows)
        if fetch.truncated:
            sink.count(SOURCE, "truncated_backfill")
            logger.error(
                "backfill truncated: one second held more rows than offset paging reaches", extra={"wallet": wallet}
            )
        return trades

    async def _load_mark(self, wallet: str) -> HighWaterMark:
        mark = self._marks.get(wallet)
        if mark is None:
            mark = await self._store.load(wallet)
            if mark is None:
                # persisted even if the wallet stays quiet: a restart after a gap must not move the cutoff
                mark = HighWaterMark.starting_at(
                    math.floor(self._wall().timestamp()) - self.settings.initial_lookback_s
                )
                self._dirty.add(wallet)
            self._marks[wallet] = mark
        return mark

    async def checkpoint(self) -> None:
        """Persist the marks that moved since the last checkpoint (kept dirty when the store fails)."""
        dirty, self._dirty = self._dirty, set()
        if not dirty:
            return
        try:
            await self._store.save({wallet: self._marks[wallet] for wallet in dirty})
        except BaseException:
            self._dirty |= dirty
            raise
