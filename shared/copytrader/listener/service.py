"""`Listener`: runs every trade source in one asyncio process around one `Outbox`.

Besides the sources it runs five chores on the injected clock: retry the outbox's failed sends
(`flush_interval_s`), refresh the watch list and hand it to every source (`refresh_interval_s`),
checkpoint the sources' high-water marks (`checkpoint_interval_s`), and report (`stats_interval_s`):
settle the per-source reconciliation window, emit the metrics (`copytrader.listener.telemetry`) and log
the counters and each source's health; and sweep (`sweep_interval_s`): publish claims a killed process
left unpublished (`Outbox.republish_stale`). With a `heartbeat_file` a sixth touches that file every
`heartbeat_interval_s` (`copytrader.runtime.heartbeat`), which the container's health check reads: the
file goes stale when the event loop stops turning.

Shutdown (the `stop` event, set on SIGTERM by the entry point): sources get `shutdown_grace_s` to finish
the poll in hand, then are cancelled; claims in progress complete; the outbox is flushed; every source
checkpoints its marks; the counters are logged. ECS waits 30 s between SIGTERM and SIGKILL by default.
A source that ends on its own (it must not) stops the listener the same way and its error is re-raised,
so the task exits non-zero and ECS replaces it.

With a `MarkFeed` (`marks`) it also keeps a price mark of every token we hold (`copytrader.listener.marks_feed`)
and writes them for the Lambdas; `on_mark(callback)` is the fast-stop seam: the callback gets every mark update.
With `FastExits` (`exits`, which needs the marks) the stop, trailing stop and take-profit are evaluated on every
mark and their exit signals published to the copy queue (`copytrader.listener.fast_exits`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from copytrader.errors import SourceEnded
from copytrader.listener.fast_exits import FastExits
from copytrader.listener.health import SourceHealth
from copytrader.listener.marks_book import MarkCallback
from copytrader.listener.marks_feed import MarkFeed
from copytrader.listener.outbox import Outbox
from copytrader.listener.ports import TradeSource, WatchList
from copytrader.listener.telemetry import ListenerTelemetry
from copytrader.runtime import heartbeat

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ListenerSettings:
    flush_interval_s: float = 0.1
    refresh_interval_s: float = 60.0
    checkpoint_interval_s: float = 30.0
    stats_interval_s: float = 60.0
    sweep_interval_s: float = 30.0  # look for claims whose publish never happened (a killed process)
    stale_claim_s: float = 60.0
    shutdown_grace_s: float = 10.0
    retry_watch_list_s: float = 5.0  # wait between attempts to read the first watch list
    heartbeat_file: str | None = None  # the liveness file the container health check reads; None: no file
    heartbeat_interval_s: float = heartbeat.BEAT_EVERY_S


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Listener:
    def __init__(
        self,
        sources: Sequence[TradeSource],
        outbox: Outbox,
        watch_list: WatchList,
        settings: ListenerSettings | None = None,
        *,
        health: SourceHealth | None = None,
        telemetry: ListenerTelemetry | None = None,
        wall: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        marks: MarkFeed | None = None,
        exits: FastExits | None = None,
    ) -> None:
        if not sources:
            raise ValueError("a listener needs at least one source")
        self.sources = tuple(sources)
        self.outbox = outbox
        self.settings = settings or ListenerSettings()
        self.health = health or SourceHealth()
        self.telemetry = telemetry
        self._watch_list, self._sleep, self._wall = watch_list, sleep, wall
        self.wallets: frozenset[str] = frozenset()
        self.marks = marks
        self.exits = exits
        if exits is not None:  # the fast stops ride the price marks
            self.on_mark(exits.on_mark)

    def on_mark(self, callback: MarkCallback) -> None:
        """The fast-stop seam: call `callback(mark)` on every price mark update of a held token (`MarkFeed`,
        `MarkBook`: synchronously on the event loop, so it must be cheap and must not block)."""
        if self.marks is None:
            raise RuntimeError("this listener keeps no price marks (no marks table configured)")
        self.marks.on_mark(callback)

    @property
    def counters(self) -> dict[str, int]:
        return dict(self.outbox.counters)

    async def refresh(self) -> None:
        """Read the watch list and hand it to every source."""
        wallets = await self._watch_list.wallets()
        if wallets != self.wallets:
            logger.info(
                "watch list changed",
                extra={
                    "wallets": len(wallets),
                    "added": len(wallets - self.wallets),
                    "removed": len(self.wallets - wallets),
                },
            )
        self.wallets = wallets
        for source in self.sources:
            source.track(wallets)

    async def checkpoint(self) -> None:
        for source in self.sources:
            await source.checkpoint()

    def report(self) -> None:
        """Settle the reconciliation window, emit the metrics, log the counters and the sources' health."""
        sightings = self.outbox.sightings
        window = sightings.settle(self._wall()) if sightings is not None else None
        emitted = self.telemetry.emit(window) if self.telemetry is not None else {}
        reconciliation = (
            {"settled": window.settled, "first": dict(window.first), "missed": dict(window.missed)} if window else {}
        )
        logger.info(
            "listener stats",
            extra={
                "wallets": len(self.wallets),
                "pending": self.outbox.pending,
                "counters": self.counters,
                "health": self.health.snapshot(),
                "reconciliation": reconciliation,
                "metrics": len(emitted),
                "marks": dict(self.marks.counters) if self.marks is not None else {},
                "exits": dict(self.exits.counters) if self.exits is not None else {},
            },
        )

    async def run(self, stop: asyncio.Event) -> None:
        if not await self._first_watch_list(stop):
            return
        running = {asyncio.create_task(s.run(self.outbox, stop), name=f"source:{s.name}"): s for s in self.sources}
        marking = asyncio.create_task(self.marks.run(stop), name="marks") if self.marks is not None else None
        exiting = asyncio.create_task(self.exits.run(stop), name="exits") if self.exits is not None else None
        chores = [
            asyncio.create_task(self._every(self.settings.flush_interval_s, self.outbox.flush, "flush")),
            asyncio.create_task(self._every(self.settings.refresh_interval_s, self.refresh, "refresh")),
            asyncio.create_task(self._every(self.settings.checkpoint_interval_s, self.checkpoint, "checkpoint")),
            asyncio.create_task(self._every(self.settings.stats_interval_s, self._stats, "stats")),
            asyncio.create_task(self._every(self.settings.sweep_interval_s, self._sweep, "sweep")),
        ]
        if self.settings.heartbeat_file is not None:
            await self._beat()
            chores.append(asyncio.create_task(self._every(self.settings.heartbeat_interval_s, self._beat, "heartbeat")))
        stopping = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({stopping, *running}, return_when=asyncio.FIRST_COMPLETED)
        ended = [] if stop.is_set() else [task for task in running if task in done]
        stop.set()
        stopping.cancel()
        await self._shutdown(running, chores)
        if marking is not None:  # it returns on `stop` after its last write
            await asyncio.gather(marking, return_exceptions=True)
        if exiting is not None:  # it returns on `stop` after publishing what waits
            await asyncio.gather(exiting, return_exceptions=True)
        if ended:
            error = ended[0].exception()
            raise SourceEnded(f"source {running[ended[0]].name} ended before the stop signal") from error

    async def _first_watch_list(self, stop: asyncio.Event) -> bool:
        while not stop.is_set():
            try:
                await self.refresh()
                return True
            except Exception:
                logger.exception("could not read the watch list; retrying")
                await self._sleep(self.settings.retry_watch_list_s)
        return False

    async def _shutdown(self, running: dict[asyncio.Task[None], TradeSource], chores: list[asyncio.Task[None]]) -> None:
        for chore in chores:
            chore.cancel()
        pending = [task for task in running if not task.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=self.settings.shutdown_grace_s)
            for task in late:
                task.cancel()
        outcomes = await asyncio.gather(*running, return_exceptions=True)
        for source, outcome in zip(running.values(), outcomes, strict=True):
            if isinstance(outcome, Exception):
                logger.error("source failed", extra={"source": source.name, "error": repr(outcome)})
        await asyncio.gather(*chores, return_exceptions=True)
        await self.outbox.drain()
        try:
            await self.checkpoint()
        except Exception:
            logger.exception("could not persist the high-water marks at shutdown")
        self.report()

    async def _stats(self) -> None:
        self.report()

    async def _beat(self) -> None:
        if self.settings.heartbeat_file is not None:
            heartbeat.beat(self.settings.heartbeat_file, self._wall())

    async def _sweep(self) -> None:
        await self.outbox.republish_stale(self.settings.stale_claim_s)

    async def _every(self, interval_s: float, chore: Callable[[], Awaitable[None]], name: str) -> None:
        while True:
            await self._sleep(interval_s)
            try:
                await chore()
            except Exception:
                logger.exception("listener chore failed", extra={"chore": name})
