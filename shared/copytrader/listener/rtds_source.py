"""`RtdsSource`: the listener's fast detection source, Polymarket's RTDS `activity` firehose filtered client-side.

RTDS streams every Polymarket fill ~2 s after the CLOB match, with the wallet (`proxyWallet`), on one public
socket (REFERENCE.md section b and "How a copy trader can observe another wallet's trades in real time").
It is also unofficial and fragile (ANCHORS 2.1.1-2.1.3): the activity topic is undocumented, `trades` has
been reported disabled while `orders_matched` worked (real-time-data-client issue #42), frames can arrive
late (#36), and the stream can stop while the socket stays open and answers pings (#26, #35). So:

Connection
    One connection at a time to `url`. On every connect the source subscribes to both activity types
    (`copytrader.polymarket.rtds.subscribe_message`): a subscription does not survive a new socket. It sends
    the app-level text `PING` on connect and every `ping_interval_s` (RTDS docs: every 5 s; a third party
    measured that without it the server goes silent after ~6 min). websockets' own protocol pings are off:
    liveness is judged on payloads, which is the stricter test.

Silent stall
    The official guidance (TROUBLESHOOTING.md of real-time-data-client) is followed: the time of the last
    *payload* is tracked apart from ping/pong and control frames; when no payload arrived for
    `stale_after_s` (15 s, their example; the firehose carries ~50 frames/s) the socket is hard-closed (TCP
    aborted, no closing handshake to wait for) and a NEW one opened, because re-subscribing on a frozen
    connection does not bring the data back. Any wallet's
    payload counts: the firehose flowing is what proves the feed alive, and `SourceHealth.beat` is called
    for each one. `SourceHealth.connected` follows the socket.

Reconnection
    After a close, an error, a failed connect or a stall the source waits `backoff_delay` (exponential from
    `backoff_initial_s`, capped at `backoff_max_s`, with half of it random so a fleet of listeners does not
    reconnect in step) and connects again. A connection that delivered at least one payload resets the
    backoff. `run` never raises on feed errors: they are counted and logged.

Delivery
    Frames are parsed as they are read (`parse_frame`; the wallet filter runs before any validation). A
    tracked trade is queued, and a separate task hands the queue to the sink after `batch_window_s`, so the
    frames of one fill (taker, makers, both activity types) that arrive within a few milliseconds become one
    `accept` and their legs are merged (`merge_burst`). Reading never waits on the sink: a slow claim cannot
    stall the socket or fake a stale feed. If `accept` raises (a claim outage) the batch is offered again
    after a backoff; the queue is bounded (`max_pending`, overflow counted as `dropped`).

No backfill
    RTDS has no replay: what is sent while the socket is down or stalled is lost to this source. The Data
    API poller reconciles those gaps (`copytrader.listener.data_api_poller`), and the trades table claims
    each canonical key once, whichever source sees it first. `checkpoint` therefore has nothing to persist.
    A maker leg of a fill that arrives after its burst was accepted is dropped by that claim, so the trade
    keeps the size of the legs seen first.

Counters (`sink.count("rtds", ...)`): frames, payloads, untracked, trades, connects, reconnects,
stale_reconnects, disconnects, connect_errors, pings, control (ignored non-payload frames), delivered,
accept_errors, dropped; rejects go to `sink.reject` with the raw frame.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from websockets.asyncio.client import ClientConnection, connect

from copytrader.listener.health import SourceHealth
from copytrader.listener.ports import TradeSink
from copytrader.polymarket.rtds import (
    PING,
    RTDS_URL,
    FrameReject,
    Ignored,
    TradeFrame,
    Untracked,
    is_payload,
    merge_burst,
    parse_frame,
    subscribe_message,
)
from copytrader.runtime.backoff import backoff_delay

logger = logging.getLogger(__name__)

SOURCE = "rtds"


@dataclass(frozen=True)
class RtdsSettings:
    url: str = RTDS_URL
    ping_interval_s: float = 5.0
    stale_after_s: float = 15.0
    open_timeout_s: float = 10.0  # TCP + TLS + WebSocket handshake
    close_timeout_s: float = 2.0  # wait for the closing handshake, then drop the TCP connection
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    batch_window_s: float = 0.005  # how long a burst may gather before it is handed to the sink
    max_batch: int = 200
    max_pending: int = 10_000

    def __post_init__(self) -> None:
        positive = {
            "ping_interval_s": self.ping_interval_s,
            "stale_after_s": self.stale_after_s,
            "open_timeout_s": self.open_timeout_s,
            "close_timeout_s": self.close_timeout_s,
            "backoff_initial_s": self.backoff_initial_s,
            "max_batch": self.max_batch,
            "max_pending": self.max_pending,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"RtdsSettings.{name} must be > 0, got {value!r}")
        if self.backoff_max_s < self.backoff_initial_s or self.batch_window_s < 0:
            raise ValueError("RtdsSettings needs backoff_max_s >= backoff_initial_s and batch_window_s >= 0")


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def _first(*awaitables: Awaitable[object]) -> None:
    """Wait until one of `awaitables` finishes; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@dataclass
class _Link:
    """The state of one connection: when it last delivered a payload, and how many it delivered."""

    last_payload: float
    payloads: int = 0


class RtdsSource:
    """A `TradeSource` over the RTDS `activity` topic (see the module docstring).

    `wall` stamps `detected_at`; `monotonic`, `sleep` and `jitter` (a draw in [0, 1)) drive the PING,
    staleness and backoff timers, and are injected so tests can pin them. `health`, when given, gets the
    source registered with `stale_after_s` and is told of every payload and connection change.
    """

    name = SOURCE

    def __init__(
        self,
        settings: RtdsSettings | None = None,
        *,
        health: SourceHealth | None = None,
        wall: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings or RtdsSettings()
        self._health = health
        self._wall, self._monotonic, self._sleep, self._jitter = wall, monotonic, sleep, jitter
        self._tracked: frozenset[str] = frozenset()
        self._pending: deque[TradeFrame] = deque()
        self._arrived = asyncio.Event()
        self._connections = 0
        if health is not None:
            health.register(SOURCE, self.settings.stale_after_s)

    def track(self, wallets: frozenset[str]) -> None:
        """Swap the wallet filter; the reader sees the new set from its next frame (no reconnect needed:
        RTDS has no server-side wallet filter, the filter is ours)."""
        self._tracked = frozenset(wallet.lower() for wallet in wallets)

    async def checkpoint(self) -> None:
        """Nothing to persist: RTDS cannot replay, so there is no position to resume from."""

    async def run(self, sink: TradeSink, stop: asyncio.Event) -> None:
        """Connect, read and reconnect until `stop` is set; then hand over what is queued and return."""
        self._arrived = asyncio.Event()  # bound to this run's event loop
        delivery = asyncio.create_task(self._deliver(sink, stop), name="rtds:deliver")
        try:
            attempt = 0
            while not stop.is_set():
                delivered_payloads = await self._session(sink, stop)
                if stop.is_set():
                    break
                attempt = 0 if delivered_payloads else attempt + 1
                await _first(self._sleep(self._backoff(attempt)), stop.wait())
            await delivery
        finally:
            delivery.cancel()

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.settings.backoff_initial_s, self.settings.backoff_max_s, self._jitter())

    # ------------------------------------------------------------------------------------------- connection

    async def _session(self, sink: TradeSink, stop: asyncio.Event) -> bool:
        """One connection from open to close; True when it delivered at least one payload."""
        opening = asyncio.ensure_future(
            connect(
                self.settings.url,
                open_timeout=self.settings.open_timeout_s,
                close_timeout=self.settings.close_timeout_s,
                ping_interval=None,
            )
        )
        await _first(opening, stop.wait())  # a stop during the handshake must not wait for its timeout
        if opening.cancelled():
            return False
        if (error := opening.exception()) is not None:
            # DNS, TCP, TLS, HTTP status, handshake or timeout: all mean "try again later"
            sink.count(SOURCE, "connect_errors")
            logger.warning("rtds connect failed", extra={"error": repr(error)})
            return False
        ws = opening.result()
        self._connections += 1
        sink.count(SOURCE, "connects")
        if self._connections > 1:
            sink.count(SOURCE, "reconnects")
        self._set_up(True)
        link = _Link(last_payload=self._monotonic())
        try:
            await ws.send(subscribe_message())
            await self._supervise(ws, sink, stop, link)
        except Exception as exc:  # the subscribe could not be sent: the socket died at once
            sink.count(SOURCE, "disconnects")
            logger.warning("rtds connection lost", extra={"error": repr(exc)})
        finally:
            await self._close(ws)
            self._set_up(False)
        return link.payloads > 0

    async def _supervise(self, ws: ClientConnection, sink: TradeSink, stop: asyncio.Event, link: _Link) -> None:
        """Read, ping and watch for staleness until one of them ends (or `stop`); cancel the rest."""
        reader = asyncio.create_task(self._read(ws, sink, link))
        pinger = asyncio.create_task(self._ping(ws, sink))
        watchdog = asyncio.create_task(self._watch(link))
        stopping = asyncio.create_task(stop.wait())
        tasks = (reader, pinger, watchdog, stopping)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if stop.is_set():
            return
        if watchdog.done() and not watchdog.cancelled():
            ws.transport.abort()  # hard close: nothing more is expected of this socket, not even a close frame
            sink.count(SOURCE, "stale_reconnects")
            logger.warning(
                "rtds feed stale: no payload, replacing the socket",
                extra={"idle_s": round(self._monotonic() - link.last_payload, 3), "payloads": link.payloads},
            )
            return
        sink.count(SOURCE, "disconnects")
        ended = reader if reader.done() and not reader.cancelled() else pinger
        error = ended.exception() if ended.done() and not ended.cancelled() else None
        logger.warning(
            "rtds connection closed",
            extra={"close_code": ws.close_code, "close_reason": ws.close_reason, "error": repr(error)},
        )

    async def _close(self, ws: ClientConnection) -> None:
        """Close the socket: closing handshake up to `close_timeout_s`, then websockets drops the TCP link."""
        try:
            await ws.close()
        except Exception as exc:
            logger.debug("rtds close failed", extra={"error": repr(exc)})

    def _set_up(self, up: bool) -> None:
        if self._health is not None:
            self._health.connected(SOURCE, up)

    async def _ping(self, ws: ClientConnection, sink: TradeSink) -> None:
        while True:
            await ws.send(PING)
            sink.count(SOURCE, "pings")
            await self._sleep(self.settings.ping_interval_s)

    async def _watch(self, link: _Link) -> None:
        """Return when the connection has gone `stale_after_s` without a payload (sleeping to each deadline)."""
        while (idle := self._monotonic() - link.last_payload) < self.settings.stale_after_s:
            await self._sleep(self.settings.stale_after_s - idle)

    # -------------------------------------------------------------------------------------------------- frames

    async def _read(self, ws: ClientConnection, sink: TradeSink, link: _Link) -> None:
        async for frame in ws:
            self._on_frame(frame, sink, link)

    def _on_frame(self, frame: str | bytes, sink: TradeSink, link: _Link) -> None:
        sink.count(SOURCE, "frames")
        result = parse_frame(frame, self._wall(), self._tracked)
        if is_payload(result):
            link.last_payload = self._monotonic()
            link.payloads += 1
            sink.count(SOURCE, "payloads")
            if self._health is not None:
                self._health.beat(SOURCE)
        if isinstance(result, Untracked):
            sink.count(SOURCE, "untracked")
        elif isinstance(result, TradeFrame):
            sink.count(SOURCE, "trades")
            self._queue(result, sink)
        elif isinstance(result, FrameReject):
            sink.reject(SOURCE, result.reason, {"detail": result.detail, "frame": frame})
        elif isinstance(result, Ignored):
            sink.count(SOURCE, "control")

    def _queue(self, frame: TradeFrame, sink: TradeSink) -> None:
        if len(self._pending) >= self.settings.max_pending:
            sink.count(SOURCE, "dropped")
            return
        self._pending.append(frame)
        self._arrived.set()

    # ------------------------------------------------------------------------------------------------ delivery

    async def _deliver(self, sink: TradeSink, stop: asyncio.Event) -> None:
        """Hand queued trades to the sink in bursts; once `stop` is set, one last attempt, then return."""
        failures = 0
        while self._pending or not stop.is_set():
            if not self._pending:
                self._arrived.clear()
                await _first(self._arrived.wait(), stop.wait())
                continue
            if not stop.is_set():
                await self._sleep(self.settings.batch_window_s)  # let the rest of the burst arrive
            frames = [self._pending.popleft() for _ in range(min(len(self._pending), self.settings.max_batch))]
            trades = merge_burst(frames)
            try:
                await sink.accept(trades)
            except Exception as exc:
                sink.count(SOURCE, "accept_errors")
                logger.warning("rtds trades not claimed", extra={"trades": len(trades), "error": repr(exc)})
                if stop.is_set():  # no retry at shutdown: the Data API poller reconciles them
                    sink.count(SOURCE, "dropped", len(frames) + len(self._pending))
                    self._pending.clear()
                    return
                self._pending.extendleft(reversed(frames))
                failures += 1
                await _first(self._sleep(self._backoff(failures)), stop.wait())
            else:
                failures = 0
                sink.count(SOURCE, "delivered", len(trades))
