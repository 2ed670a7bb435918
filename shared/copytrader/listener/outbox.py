"""The `Outbox`: every source's trades pass here to be claimed once, batched, and published.

Claim: `SeenTrades.claim` (a conditional put on the trades table) returns True for the first sighting of
a trade key by any source, any restart or any concurrent listener task; only claimed trades are queued.
Claims run in worker threads (boto3 blocks), a few at a time.

Publish: claimed trades are sent at once: a claim that lands starts a background flush that sends the
buffer in batches of up to 10 (the SQS and EventBridge batch size) until it is empty, so whatever is
claimed while a send is in flight goes out in the next batch (batching without waiting: the latency from
receipt to queue is one claim plus one send). The listener's periodic flush only retries what failed,
once its backoff has passed. Trades whose SQS send
failed go back to the front of the buffer and are retried with backoff: SQS FIFO drops a resend of the
same deduplication id (the trade key) within 5 minutes, so a retry cannot duplicate. EventBridge failures
are counted and logged but not retried (the bus has no dedup; its consumers key on `detail.key`).

Cancellation: at shutdown a source may be cancelled while its trades are being claimed, and the flush
chore while a batch is being sent. Both pieces of work are shielded and tracked, and `drain` waits for
them before the last flush, so a cancellation never drops a claimed trade. What this cannot cover is the
process being killed (SIGKILL, OOM) between a claim and its publish: the claim then blocks every later
sighting; `republish_stale` closes that gap: claims still pending after `stale_after_s` (their claimant
died) are retaken by exactly one task and published again (`copytrader.store.trades`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from copytrader.listener.ports import Claims, Publisher
from copytrader.listener.publish import BATCH
from copytrader.listener.rejects import RejectLog
from copytrader.listener.sightings import Sightings
from copytrader.model import WhaleTrade

logger = logging.getLogger(__name__)

MAX_RETRY_BACKOFF_S = 5.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    def __init__(
        self,
        claims: Claims,
        publisher: Publisher,
        counters: Counter[str] | None = None,
        *,
        claim_concurrency: int = 8,
        sightings: Sightings | None = None,
        wall: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._claims, self._publisher = claims, publisher
        self.counters: Counter[str] = Counter() if counters is None else counters
        self._wall, self._monotonic = wall, monotonic
        self._claim_slots = asyncio.Semaphore(claim_concurrency)
        self._buffer: list[WhaleTrade] = []
        self._flush_lock = asyncio.Lock()
        self._inflight: set[str] = set()  # keys being claimed or published right now
        self._claiming: set[asyncio.Task[None]] = set()
        self._publishing: set[asyncio.Task[None]] = set()
        self._flushing: asyncio.Task[None] | None = None
        self._failures = 0
        self._retry_at = float("-inf")
        self.rejects = RejectLog(self.counters)
        self.sightings = sightings

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def count(self, source: str, event: str, n: int = 1) -> None:
        self.counters[f"{source}.{event}"] += n

    def reject(self, source: str, reason: str, raw: object) -> None:
        self.rejects.reject(source, reason, raw)

    async def accept(self, trades: Sequence[WhaleTrade]) -> None:
        if self.sightings is not None:
            self.sightings.note(trades)
        task = asyncio.ensure_future(self._claim_all(list(trades)))
        self._claiming.add(task)
        task.add_done_callback(self._claiming.discard)
        await asyncio.shield(task)
        if self._buffer:
            self._flush_soon()

    def _flush_soon(self) -> None:
        """Start the background flush unless one is running (it sends until the buffer is empty)."""
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.ensure_future(self._flush_until_empty())

    async def _flush_until_empty(self) -> None:
        while self._buffer and self._monotonic() >= self._retry_at:
            await self.flush()

    async def _claim_all(self, trades: list[WhaleTrade]) -> None:
        now = self._wall()
        # in flight from the claim until published or buffered: the stale sweep must not retake them meanwhile
        self._inflight.update(t.key for t in trades)

        async def claim(trade: WhaleTrade) -> bool:
            async with self._claim_slots:
                return await asyncio.to_thread(self._claims.claim, trade, now)

        try:
            results = await asyncio.gather(*(claim(t) for t in trades), return_exceptions=True)
        finally:
            self._inflight.difference_update(t.key for t in trades)
        failure: BaseException | None = None
        for trade, result in zip(trades, results, strict=True):
            if result is True:
                self._buffer.append(trade)
                self.counters[f"{trade.source.value}.claimed"] += 1
            elif result is False:
                self.counters[f"{trade.source.value}.duplicates"] += 1
            else:
                self.counters["claim_errors"] += 1
                failure = failure or result
        if failure is not None:
            raise failure

    async def flush(self, force: bool = False) -> None:
        """Publish one batch of what is buffered; after a failure wait out the backoff unless `force`d."""
        async with self._flush_lock:
            if not self._buffer or (not force and self._monotonic() < self._retry_at):
                return
            batch, self._buffer = self._buffer[:BATCH], self._buffer[BATCH:]
            self._inflight.update(t.key for t in batch)  # before the task starts: no gap the sweep could see
            task = asyncio.ensure_future(self._publish(batch))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)
            await asyncio.shield(task)

    async def _publish(self, batch: list[WhaleTrade]) -> None:
        """Send one batch and account for it; runs to completion even when the flushing task is cancelled.

        `flush` put its keys in flight; they stay there until marked published or back in the buffer, so the
        stale-claim sweep never retakes a trade that is merely slow to publish (that would send it twice).
        """
        keys = [t.key for t in batch]
        try:
            await self._send(batch)
        finally:
            self._inflight.difference_update(keys)

    async def _send(self, batch: list[WhaleTrade]) -> None:
        try:
            report = await asyncio.to_thread(self._publisher.publish, batch)
        except Exception:
            logger.exception("publishing failed; trades kept for retry", extra={"trades": len(batch)})
            self.counters["publish_errors"] += 1
            self._requeue(batch)
            return
        self.counters["published"] += report.queued
        self.counters["evented"] += report.evented
        failed_queue = set(report.failed_queue)
        accepted = [t.key for t in batch if t.key not in failed_queue]
        if accepted:
            await asyncio.to_thread(self._mark_published, accepted)
        if report.failed_events:
            self.counters["event_failures"] += len(report.failed_events)
            logger.error("trades not sent to the event bus", extra={"keys": report.failed_events})
        failed = set(report.failed_queue)
        if failed:
            self.counters["queue_failures"] += len(failed)
            logger.warning("trades not queued; retrying", extra={"keys": sorted(failed)})
            self._requeue([t for t in batch if t.key in failed])
        else:
            self._failures = 0

    def _mark_published(self, keys: list[str]) -> None:
        """Clear the claims' pending mark; a failure only means a later sweep may publish them again."""
        now = self._wall()
        for key in keys:
            try:
                self._claims.mark_published(key, now)
            except Exception:
                self.counters["mark_published_errors"] += 1
                logger.warning("could not mark a claim published", extra={"key": key}, exc_info=True)

    async def republish_stale(self, stale_after_s: float = 60.0) -> int:
        """Publish the trades whose claim is still pending `stale_after_s` after it was made (its claimant
        died between claim and publish); each is retaken by exactly one task. Returns how many."""
        now = self._wall()
        cutoff = now - timedelta(seconds=stale_after_s)
        stale = await asyncio.to_thread(self._claims.stale_unpublished, cutoff)
        pending = {t.key for t in self._buffer} | self._inflight
        taken = []
        for trade in stale:
            if trade.key not in pending and await asyncio.to_thread(self._claims.retake, trade.key, now, cutoff):
                taken.append(trade)
        if taken:
            self.counters["republished_stale_claims"] += len(taken)
            logger.warning("republishing claims left unpublished", extra={"keys": [t.key for t in taken]})
            self._buffer.extend(taken)
            self._flush_soon()
        return len(taken)

    def _requeue(self, trades: list[WhaleTrade]) -> None:
        self._buffer[:0] = trades
        self._failures += 1
        self._retry_at = self._monotonic() + min(MAX_RETRY_BACKOFF_S, 0.1 * 2.0**self._failures)

    async def drain(self) -> list[WhaleTrade]:
        """Wait for claims in progress, then flush once more; returns what is still unpublished."""
        if self._claiming:
            await asyncio.gather(*self._claiming, return_exceptions=True)
        if self._flushing is not None:
            await asyncio.gather(self._flushing, return_exceptions=True)
        if self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
        while self._buffer:
            before = len(self._buffer)
            await self.flush(force=True)
            if len(self._buffer) >= before:  # the send failed again: give up, report what is left
                break
        if self._buffer:
            logger.error("claimed trades left unpublished at shutdown", extra={"keys": [t.key for t in self._buffer]})
        return list(self._buffer)
