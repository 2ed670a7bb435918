"""`ChainSource`: watched wallets' fills from Polygon `OrderFilled` logs over a JSON-RPC WebSocket.

Why: chain logs are the only complete, final and wallet-attributed push feed, ≈ one block (~2 s) after the
match (REFERENCE.md, "How a copy trader can observe another wallet's trades in real time"; decoding in
`copytrader.polymarket.chain`, REFERENCE.md section g).

Per connection: subscribe to `newHeads` (the heartbeat, and block timestamps kept in a bounded map) and to
`logs` with the wallets' filters (maker topic = watched wallet, ≤ `max_topics` wallets per filter), then
backfill with `eth_getLogs` from the last processed block + 1 to the current head in ranges of at most
`max_block_range` blocks (halved on a range error). Subscribing before reading the head leaves no gap;
logs seen twice (subscription and backfill) are dropped by (block hash, log index). This module holds the
connection loop; what becomes of the logs and headers (legs grouped into trades, block times, the last
processed block, the backfill) is `copytrader.listener.chain_blocks`.

Failures: a closed socket, an RPC error or a stall (no `newHeads` for `stale_after_s`; the socket may still
answer pings, the RTDS-style silent stall of ANCHORS.md 2.1 #1) end the connection; a NEW socket is opened
after a jittered exponential backoff (re-subscribing on a stalled socket does not help). `run` never raises
on feed errors. The RPC URL is an operator secret: only its host is ever logged.

Counters (`chain.<event>`): logs, backfilled_logs, trades, heads, reconnects, stale_reconnects,
duplicate_logs, untracked_logs, removed_after_emit, lookup_retries, accept_errors, backfill_truncated,
connection_errors.<type>. Rejects (`chain.reject.<reason>`, raw logs kept): the decoder's reasons
(`copytrader.polymarket.chain.ChainRejectReason`), unknown_token, token_lookup_failed, invalid_trade,
late_leg, malformed_head.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from copytrader.errors import RpcError, TransientError, UpstreamError
from copytrader.listener.chain_blocks import ChainBlocks
from copytrader.listener.chain_rpc import WAKE, Closed, Event, Note, RpcSession, hex_quantity
from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.listener.health import SourceHealth
from copytrader.listener.ports import TradeSink
from copytrader.model import Source
from copytrader.polymarket.tokens import TokenResolver
from copytrader.runtime.backoff import backoff_delay

logger = logging.getLogger(__name__)
# The websockets library logs the handshake's request line (with the URL's path, which may hold an API key)
# at DEBUG: its records go to this logger, which never emits below INFO.
websocket_logger = logging.getLogger(f"{__name__}.websocket")
websocket_logger.setLevel(logging.INFO)

SOURCE = Source.CHAIN.value


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _host(url: str) -> str:
    """What may be logged of the RPC URL (it can embed an API key in its path or query)."""
    try:
        return urlsplit(url).hostname or "?"
    except ValueError:
        return "?"


# ------------------------------------------------------------------------------------------------- source


class ChainSource:
    """A `TradeSource` over a Polygon JSON-RPC WebSocket; see the module docstring."""

    name = SOURCE

    def __init__(
        self,
        rpc_url: str,
        resolver: TokenResolver,
        health: SourceHealth | None = None,
        settings: ChainSourceSettings | None = None,
        *,
        wall: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings or ChainSourceSettings()
        self._url, self.host = rpc_url, _host(rpc_url)
        self._health = health
        if health is not None:
            health.register(SOURCE, self.settings.stale_after_s)
        self._wall, self._monotonic, self._sleep, self._jitter = wall, monotonic, sleep, jitter
        self._filters_changed = False
        self._inbox: asyncio.Queue[Event] | None = None
        self._connections = 0
        self.blocks = ChainBlocks(resolver, self.settings, self.host, wall=wall, monotonic=monotonic)
        self.pending = self.blocks.pending

    def __repr__(self) -> str:
        return f"ChainSource(host={self.host!r}, wallets={len(self.blocks.wallets)}, cursor={self.blocks.cursor})"

    @property
    def last_processed_block(self) -> int | None:
        return self.blocks.cursor

    def track(self, wallets: frozenset[str]) -> None:
        """Watch these wallets from now on: the logs filters are replaced on the open connection."""
        lowered = frozenset(w.strip().lower() for w in wallets)
        if lowered != self.blocks.wallets:
            self.blocks.wallets = lowered
            self._filters_changed = True
            self._wake()

    async def checkpoint(self) -> None:
        """Nothing to persist: on restart the Data API poller's high-water marks cover the blocks missed
        while down, and the trades-table claim absorbs what both sources report. The last processed block
        stays in memory (`last_processed_block`) for backfills after a reconnect."""

    def _wake(self) -> None:
        if self._inbox is not None:
            self._inbox.put_nowait(WAKE)

    # ---- connection loop ---------------------------------------------------------------------------------

    async def run(self, sink: TradeSink, stop: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(stop.wait())
        waiter.add_done_callback(lambda _: self._wake())
        failures = 0  # connections in a row that never delivered a header
        try:
            while not stop.is_set():
                healthy = await self._connection(sink, stop)
                if stop.is_set():
                    break
                failures = 0 if healthy else failures + 1
                await self._pause(self._backoff(max(failures - 1, 0)), stop)
        finally:
            waiter.cancel()

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self.settings.backoff_base_s, self.settings.backoff_max_s, self._jitter())

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        sleeping = asyncio.ensure_future(self._sleep(seconds))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeping, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeping, stopping):
            task.cancel()

    async def _connection(self, sink: TradeSink, stop: asyncio.Event) -> bool:
        """One socket from open to close; True when it delivered at least one block header."""
        inbox: asyncio.Queue[Event] = asyncio.Queue()
        healthy = False
        try:
            ws = await connect(
                self._url,
                open_timeout=self.settings.open_timeout_s,
                close_timeout=self.settings.close_timeout_s,
                max_size=self.settings.max_message_bytes,
                logger=websocket_logger,
            )
        except Exception as exc:  # the message may carry the URL: log only its type
            sink.count(SOURCE, f"connection_errors.{type(exc).__name__}")
            logger.warning("chain rpc connect failed", extra={"host": self.host, "error": type(exc).__name__})
            return False
        rpc = RpcSession(ws, inbox, self.settings.request_timeout_s, self._beat, self._wall, self._monotonic)
        reader = asyncio.ensure_future(rpc.read())
        self._inbox, self.blocks.head = inbox, -1
        try:
            healthy = await self._serve(rpc, inbox, sink, stop)
        except (RpcError, TimeoutError, TransientError, UpstreamError, WebSocketException, OSError) as exc:
            sink.count(SOURCE, f"connection_errors.{type(exc).__name__}")
            logger.warning(
                "chain rpc connection failed", extra={"host": self.host, "error": f"{type(exc).__name__}: {exc}"}
            )
        except Exception:
            sink.count(SOURCE, "connection_errors.unexpected")
            logger.exception("chain source failed unexpectedly", extra={"host": self.host})
        finally:
            self._inbox = None
            if self._health is not None:
                self._health.connected(SOURCE, False)
            await ws.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return healthy

    def _beat(self) -> None:
        if self._health is not None:
            self._health.beat(SOURCE)

    async def _serve(self, rpc: RpcSession, inbox: asyncio.Queue[Event], sink: TradeSink, stop: asyncio.Event) -> bool:
        heads = str(await rpc.call("eth_subscribe", ["newHeads"]))
        log_subs = await self._subscribe_logs(rpc, [])
        opened = self._monotonic()
        self._connections += 1
        if self._connections > 1:
            sink.count(SOURCE, "reconnects")
        if self._health is not None:
            self._health.connected(SOURCE, True)
        logger.info("chain rpc subscribed", extra={"host": self.host, "filters": len(log_subs)})
        head = hex_quantity(await rpc.call("eth_blockNumber", []), "eth_blockNumber")
        if self.blocks.cursor is None:
            self.blocks.cursor = head - 1  # first connection: start at the current block (the poller covers before)
        await self.blocks.backfill(rpc, sink, stop, head)
        while not stop.is_set():
            event = await self._next(inbox, rpc.last_note.get(heads, opened))
            if isinstance(event, Closed):
                logger.warning("chain rpc connection closed", extra={"host": self.host, "reason": event.reason})
                return heads in rpc.last_note
            if isinstance(event, Note):
                await self.blocks.on_note(rpc, sink, event, heads)
            if self._filters_changed:
                log_subs = await self._subscribe_logs(rpc, log_subs)
            if self._monotonic() - rpc.last_note.get(heads, opened) > self.settings.stale_after_s:
                sink.count(SOURCE, "stale_reconnects")
                logger.warning("chain rpc stale: opening a new socket", extra={"host": self.host})
                rpc.abort()
                return True
            if inbox.empty():  # legs already received but not yet read may belong to a "quiet" block
                await self.blocks.flush(rpc, sink, self.pending.quiet(self._monotonic(), self.settings.flush_delay_s))
        return True

    async def _next(self, inbox: asyncio.Queue[Event], last_head: float) -> Event | None:
        """The next event, or None when a deadline (staleness, a quiet block, a retry) comes first."""
        deadline = last_head + self.settings.stale_after_s
        due = self.pending.next_due(self.settings.flush_delay_s)
        if due is not None:
            deadline = min(deadline, due)
        try:
            async with asyncio.timeout(max(deadline - self._monotonic(), 0.0) + 0.001):
                return await inbox.get()
        except TimeoutError:
            return None

    async def _subscribe_logs(self, rpc: RpcSession, old: Sequence[str]) -> list[str]:
        """Subscribe the current wallets' filters, then drop the old subscriptions (no gap between them)."""
        self._filters_changed = False
        new = [str(await rpc.call("eth_subscribe", ["logs", f])) for f in self.blocks.filters()]
        for subscription in old:
            await rpc.call("eth_unsubscribe", [subscription])
        return new
