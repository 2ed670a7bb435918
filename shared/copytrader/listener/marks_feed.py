"""`MarkFeed`: price marks for every token we hold, from the CLOB market channel with REST polling as the fallback.

Held set
    `held.tokens()` (our positions holding shares, `copytrader.listener.held_tokens`) is read at start and every
    `refresh_interval_s`, like the watch list. A change is sent on the live socket as `subscribe`/`unsubscribe`
    operations; a new socket subscribes to the whole set. With nothing held no socket is opened.

Socket (the patterns of `copytrader.listener.rtds_source`)
    One connection at a time to `url`; the subscription is sent at once (the server may close a socket that does
    not subscribe) and again on every new socket, whose first frames are a `book` snapshot per token. The text
    `PING` goes out every `ping_interval_s` (10 s, as documented; the server drops a silent client after ~10 s) and
    comes back `PONG`. A quiet market sends nothing, so liveness is any frame, PONG included: no frame for
    `stale_after_s` and the TCP link is aborted and a new socket opened. Reconnects back off exponentially with
    jitter (`runtime.backoff`), reset by a connection that delivered. `SourceHealth` (name `clob_market`) is told
    of every frame and connection change. Nothing here raises on feed errors: they are counted and logged.

REST fallback
    Every `rest_interval_s`, `GET /book` (the CLOB's public book, with `last_trade_price`) for each held token
    whose mark is older than `rest_after_s` (a quiet market, or no snapshot yet), or for every held token while
    the socket is down; at most `rest_batch` tokens a round, the oldest first. So a mark's `at` is never much older
    than `rest_after_s` while the CLOB answers. Public rate limit of `/book`: 1,500 per 10 s; a round uses at most
    `rest_batch` (50).

Writes
    Every `flush_interval_s` the marks the `MarkBook`'s policy says are due are written to the marks table in a
    worker thread (BatchWriteItem); a failed write is counted and retried at the next flush. On stop: one last flush.

Counters (`counters["clob_market.<event>"]`): frames, quotes, alive, rejects.<reason>, connects, reconnects,
disconnects, connect_errors, stale_reconnects, pings, rest_polls, rest_missing, rest_errors, write_errors; and the
book's `marks.*`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect

from copytrader.listener.health import SourceHealth
from copytrader.listener.marks_book import MarkBook, MarkCallback, MarkWritePolicy
from copytrader.model.marks import Mark, MarkSource
from copytrader.polymarket.clob_market import (
    MARKET_CHANNEL_URL,
    PING,
    Alive,
    Quote,
    Reject,
    change_message,
    parse_book,
    parse_frame,
    subscribe_message,
)
from copytrader.runtime.backoff import backoff_delay

logger = logging.getLogger(__name__)

SOURCE = "clob_market"


class HeldTokens(Protocol):
    async def tokens(self) -> frozenset[str]: ...


class MarkStore(Protocol):
    """`copytrader.store.marks.PriceMarks` (blocking: called in a worker thread)."""

    def write(self, marks: list[Mark], now: datetime) -> int: ...


BookFetch = Callable[[str], Awaitable[Any]]  # GET /book?token_id= -> the JSON answer, None on 404; raises on errors


@dataclass(frozen=True)
class MarkFeedSettings:
    url: str = MARKET_CHANNEL_URL
    ping_interval_s: float = 10.0
    stale_after_s: float = 30.0  # no frame at all (PONGs included) this long: replace the socket
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    rest_after_s: float = 20.0  # a mark older than this is polled over REST
    rest_interval_s: float = 5.0
    rest_batch: int = 50
    flush_interval_s: float = 1.0
    refresh_interval_s: float = 60.0
    policy: MarkWritePolicy = field(default_factory=MarkWritePolicy)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MarkFeed:
    """Marks of the held tokens (see the module docstring); `on_mark` registers a fast-stop callback."""

    name = SOURCE

    def __init__(
        self,
        held: HeldTokens,
        store: MarkStore | None,
        fetch_book: BookFetch | None,
        settings: MarkFeedSettings | None = None,
        *,
        counters: Counter[str] | None = None,
        health: SourceHealth | None = None,
        wall: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings or MarkFeedSettings()
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self.book = MarkBook(self.settings.policy, self.counters)
        self._held, self._store, self._fetch = held, store, fetch_book
        self._health = health
        self._wall, self._monotonic, self._sleep, self._jitter = wall, monotonic, sleep, jitter
        self._ws: ClientConnection | None = None
        self._subscribed: frozenset[str] = frozenset()
        self._held_changed = asyncio.Event()
        self._connections = 0
        if health is not None:
            health.register(SOURCE, self.settings.stale_after_s)

    def on_mark(self, callback: MarkCallback) -> None:
        """Call `callback(mark)` on every mark update (`MarkBook`: synchronous, must be cheap)."""
        self.book.on_mark(callback)

    def _count(self, event: str, n: int = 1) -> None:
        self.counters[f"{SOURCE}.{event}"] += n

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # ------------------------------------------------------------------------------------------------ run
    async def run(self, stop: asyncio.Event) -> None:
        """Keep the marks until `stop` is set; then write what is due and return."""
        self._held_changed = asyncio.Event()  # bound to this run's loop
        await self._first_refresh(stop)
        tasks = [
            asyncio.create_task(self._sockets(stop), name="marks:socket"),
            asyncio.create_task(self._every(self.settings.rest_interval_s, self.poll_rest), name="marks:rest"),
            asyncio.create_task(self._every(self.settings.flush_interval_s, self.flush), name="marks:flush"),
            asyncio.create_task(self._every(self.settings.refresh_interval_s, self.refresh), name="marks:refresh"),
        ]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.flush()

    async def _first_refresh(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
                return
            except Exception:
                logger.exception("could not read the held tokens; retrying")
                await self._sleep(self.settings.backoff_initial_s)

    async def refresh(self) -> None:
        """Read the held set; subscribe the live socket to what was added and unsubscribe what went."""
        held = await self._held.tokens()
        if held == self.book.held:
            return
        self.book.hold(held)
        self._held_changed.set()
        ws = self._ws
        if ws is None:
            return
        added, removed = held - self._subscribed, self._subscribed - held
        try:
            if added:
                await ws.send(change_message(added, subscribe=True))
            if removed:
                await ws.send(change_message(removed, subscribe=False))
            self._subscribed = held
        except Exception as exc:  # the socket died: the reconnect subscribes to the whole set
            logger.warning("marks subscription change failed", extra={"error": repr(exc)})

    async def _every(self, interval_s: float, chore: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._sleep(interval_s)
            try:
                await chore()
            except Exception:
                logger.exception("marks chore failed", extra={"chore": getattr(chore, "__name__", "?")})

    # --------------------------------------------------------------------------------------------- socket
    async def _sockets(self, stop: asyncio.Event) -> None:
        attempt = 0
        while not stop.is_set():
            if not self.book.held:
                self._held_changed.clear()
                await self._held_changed.wait()
                continue
            delivered = await self._session(stop)
            attempt = 0 if delivered else attempt + 1
            delay = backoff_delay(attempt, self.settings.backoff_initial_s, self.settings.backoff_max_s, self._jitter())
            await self._sleep(delay)

    async def _session(self, stop: asyncio.Event) -> bool:
        """One connection from open to close; True when it delivered at least one quote."""
        try:
            ws = await connect(
                self.settings.url,
                open_timeout=self.settings.open_timeout_s,
                close_timeout=self.settings.close_timeout_s,
                ping_interval=None,
            )
        except Exception as exc:  # DNS, TCP, TLS, HTTP status, handshake, timeout: try again later
            self._count("connect_errors")
            logger.warning("clob market channel connect failed", extra={"error": repr(exc)})
            return False
        self._connections += 1
        self._count("connects")
        if self._connections > 1:
            self._count("reconnects")
        before = self.counters[f"{SOURCE}.quotes"]
        last_frame = [self._monotonic()]
        try:
            self._subscribed = self.book.held
            await ws.send(subscribe_message(self._subscribed))
            self._ws = ws
            self._set_up(True)
            await self._supervise(ws, stop, last_frame)
        except Exception as exc:
            self._count("disconnects")
            logger.warning("clob market channel lost", extra={"error": repr(exc)})
        finally:
            self._ws = None
            self._set_up(False)
            try:
                await ws.close()
            except Exception as exc:
                logger.debug("clob market channel close failed", extra={"error": repr(exc)})
        return self.counters[f"{SOURCE}.quotes"] > before

    async def _supervise(self, ws: ClientConnection, stop: asyncio.Event, last_frame: list[float]) -> None:
        tasks = (
            asyncio.create_task(self._read(ws, last_frame)),
            asyncio.create_task(self._ping(ws)),
            watchdog := asyncio.create_task(self._watch(last_frame)),
            asyncio.create_task(stop.wait()),
        )
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if stop.is_set():
            return
        if watchdog.done() and not watchdog.cancelled():
            ws.transport.abort()
            self._count("stale_reconnects")
            logger.warning("clob market channel silent: replacing the socket")
            return
        self._count("disconnects")
        logger.warning("clob market channel closed", extra={"close_code": ws.close_code})

    def _set_up(self, up: bool) -> None:
        if self._health is not None:
            self._health.connected(SOURCE, up)

    async def _ping(self, ws: ClientConnection) -> None:
        while True:
            await ws.send(PING)
            self._count("pings")
            await self._sleep(self.settings.ping_interval_s)

    async def _watch(self, last_frame: list[float]) -> None:
        while (idle := self._monotonic() - last_frame[0]) < self.settings.stale_after_s:
            await self._sleep(self.settings.stale_after_s - idle)

    async def _read(self, ws: ClientConnection, last_frame: list[float]) -> None:
        async for frame in ws:
            last_frame[0] = self._monotonic()
            self.on_frame(frame)

    def on_frame(self, frame: str | bytes) -> None:
        """Apply one market-channel frame (public for the latency bench: it is the whole tick path)."""
        self._count("frames")
        if self._health is not None:
            self._health.beat(SOURCE)
        for parsed in parse_frame(frame, self._wall()):
            if isinstance(parsed, Quote):
                self._count("quotes")
                self.book.apply(parsed, MarkSource.CLOB_WS)
            elif isinstance(parsed, Alive):
                self._count("alive")
            elif isinstance(parsed, Reject):
                self._count(f"rejects.{parsed.reason}")
                logger.debug("clob market frame rejected", extra={"reason": parsed.reason, "detail": parsed.detail})

    # ------------------------------------------------------------------------------------- REST and writes
    async def poll_rest(self) -> None:
        """`GET /book` for the quiet held tokens (every held token while the socket is down), oldest first."""
        if self._fetch is None:
            return
        now = self._wall()
        after = timedelta(seconds=-1) if self._ws is None else timedelta(seconds=self.settings.rest_after_s)
        for token in self.book.quiet(now, after)[: self.settings.rest_batch]:
            try:
                payload = await self._fetch(token)
            except Exception as exc:
                self._count("rest_errors")
                logger.warning("GET /book failed", extra={"token_id": token, "error": repr(exc)})
                continue
            self._count("rest_polls")
            if payload is None:
                self._count("rest_missing")
                continue
            parsed = parse_book(payload, self._wall())
            if isinstance(parsed, Reject):
                self._count(f"rejects.{parsed.reason}")
            elif parsed.token_id == token:
                self.book.apply(parsed, MarkSource.REST)

    async def flush(self) -> None:
        """Write the marks that are due (`MarkBook.due`); a failure is counted and retried at the next flush."""
        if self._store is None:
            return
        now = self._wall()
        due = self.book.due(now)
        if not due:
            return
        try:
            await asyncio.to_thread(self._store.write, due, now)
        except Exception as exc:
            self._count("write_errors")
            logger.warning("marks write failed", extra={"marks": len(due), "error": repr(exc)})
            return
        self.book.written(due, now)
