"""`ChainSource`: watched wallets' fills from Polygon `OrderFilled` logs over a JSON-RPC WebSocket.

Why: chain logs are the only complete, final and wallet-attributed push feed, ≈ one block (~2 s) after the
match (REFERENCE.md, "How a copy trader can observe another wallet's trades in real time"; decoding in
`copytrader.polymarket.chain`, REFERENCE.md section g).

Per connection: subscribe to `newHeads` (the heartbeat, and block timestamps kept in a bounded map) and to
`logs` with the wallets' filters (maker topic = watched wallet, ≤ `max_topics` wallets per filter), then
backfill with `eth_getLogs` from the last processed block + 1 to the current head in ranges of at most
`max_block_range` blocks (halved on a range error). Subscribing before reading the head leaves no gap;
logs seen twice (subscription and backfill) are dropped by (block hash, log index).

Legs: a wallet's several fills of one token and side in one transaction are one trade (`trade_key`), so
legs wait in `PendingLegs` until their block is complete: flushed when a `newHeads` arrives for their block
or a later one, or when their block got no new leg for `flush_delay_s` (geth-style nodes send a block's
header before its logs, so this delay is usually the latency it adds: shorter is faster, but logs of one
block held up longer than it on the wire would split a trade). A flush resolves each token to its market
(`TokenResolver`; unknown -> reject `unknown_token`, the logs kept), takes the block time (from `newHeads`,
else `eth_getBlockByNumber`), sums the legs and hands the trades to the sink oldest first. A failed look-up
or a failed claim keeps the legs pending and retries after `retry_s`; nothing advances past them. A leg
arriving after its trade was emitted is rejected as `late_leg` (re-emitting the key would be absorbed by
the claim, with a wrong size); a reorg's `removed` log withdraws a leg still pending.

Progress: the last processed block is the highest block whose logs have all reached the sink: at most
the newest `newHeads` - 1 (a block's logs may follow its header) and below the oldest pending leg. It is
kept in memory only: a restart resumes at the head, and the Data API poller's high-water marks cover the
gap (see `checkpoint`).

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
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from copytrader.errors import RpcError, TransientError, UpstreamError
from copytrader.listener.chain_legs import Added, LegGroup, PendingLegs, Withdrawn, whale_trade
from copytrader.listener.chain_rpc import WAKE, Closed, Event, Note, RpcSession
from copytrader.listener.health import SourceHealth
from copytrader.listener.ports import TradeSink
from copytrader.model import Source, WhaleTrade
from copytrader.polymarket.chain import (
    ChainReject,
    block_range_filter,
    decode_order_filled,
    subscription_filters,
)
from copytrader.polymarket.tokens import TokenInfo, TokenResolver
from copytrader.runtime.backoff import backoff_delay

logger = logging.getLogger(__name__)
# The websockets library logs the handshake's request line (with the URL's path, which may hold an API key)
# at DEBUG: its records go to this logger, which never emits below INFO.
websocket_logger = logging.getLogger(f"{__name__}.websocket")
websocket_logger.setLevel(logging.INFO)

SOURCE = Source.CHAIN.value


@dataclass(frozen=True)
class ChainSourceSettings:
    stale_after_s: float = 20.0  # no newHeads for this long: open a new socket (Polygon mines every ~2 s)
    max_block_range: int = 2_000  # blocks per eth_getLogs call (public RPCs cap ranges and result counts)
    max_backfill_blocks: int = 43_200  # ~24 h of blocks; older gaps are left to the Data API poller
    max_topics: int = 500  # wallets per logs filter
    flush_delay_s: float = 0.25  # a block with no new leg for this long is flushed without its successor
    retry_s: float = 1.0  # wait before retrying legs whose look-up or claim failed
    request_timeout_s: float = 15.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    block_times_kept: int = 4_096
    remember_blocks: int = 256  # log ids and emitted keys are remembered this far behind the cursor
    max_message_bytes: int = 64 * 2**20  # one eth_getLogs answer can be large
    lookup_concurrency: int = 8


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
        self._resolver, self._health = resolver, health
        if health is not None:
            health.register(SOURCE, self.settings.stale_after_s)
        self._wall, self._monotonic, self._sleep, self._jitter = wall, monotonic, sleep, jitter
        self._wallets: frozenset[str] = frozenset()
        self._filters_changed = False
        self._inbox: asyncio.Queue[Event] | None = None
        self._connections = 0
        self._cursor: int | None = None
        self._head = -1  # the newest newHeads number of the current connection
        self._block_times: OrderedDict[int, datetime] = OrderedDict()
        self.pending = PendingLegs()

    def __repr__(self) -> str:
        return f"ChainSource(host={self.host!r}, wallets={len(self._wallets)}, cursor={self._cursor})"

    @property
    def last_processed_block(self) -> int | None:
        return self._cursor

    def track(self, wallets: frozenset[str]) -> None:
        """Watch these wallets from now on: the logs filters are replaced on the open connection."""
        lowered = frozenset(w.strip().lower() for w in wallets)
        if lowered != self._wallets:
            self._wallets = lowered
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
        self._inbox, self._head = inbox, -1
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
        head = _quantity(await rpc.call("eth_blockNumber", []), "eth_blockNumber")
        if self._cursor is None:
            self._cursor = head - 1  # first connection: start at the current block (the poller covers before)
        await self._backfill(rpc, sink, stop, head)
        while not stop.is_set():
            event = await self._next(inbox, rpc.last_note.get(heads, opened))
            if isinstance(event, Closed):
                logger.warning("chain rpc connection closed", extra={"host": self.host, "reason": event.reason})
                return heads in rpc.last_note
            if isinstance(event, Note):
                await self._on_note(rpc, sink, event, heads)
            if self._filters_changed:
                log_subs = await self._subscribe_logs(rpc, log_subs)
            if self._monotonic() - rpc.last_note.get(heads, opened) > self.settings.stale_after_s:
                sink.count(SOURCE, "stale_reconnects")
                logger.warning("chain rpc stale: opening a new socket", extra={"host": self.host})
                rpc.abort()
                return True
            if inbox.empty():  # legs already received but not yet read may belong to a "quiet" block
                await self._flush(rpc, sink, self.pending.quiet(self._monotonic(), self.settings.flush_delay_s))
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
        new = [str(await rpc.call("eth_subscribe", ["logs", f])) for f in self._filters()]
        for subscription in old:
            await rpc.call("eth_unsubscribe", [subscription])
        return new

    def _filters(self) -> list[dict[str, object]]:
        return subscription_filters(self._wallets, self.settings.max_topics)

    # ---- notifications -----------------------------------------------------------------------------------

    async def _on_note(self, rpc: RpcSession, sink: TradeSink, note: Note, heads: str) -> None:
        if note.subscription != heads:
            sink.count(SOURCE, "logs")
            self._ingest(sink, note.result, note.received_at, note.received_mono)
            return
        header = note.result if isinstance(note.result, dict) else {}
        try:
            number = _quantity(header.get("number"), "newHeads number")
        except RpcError as exc:
            sink.reject(SOURCE, "malformed_head", {"detail": str(exc), "head": note.result})
            return
        self._remember_block_time(number, header.get("timestamp"))
        sink.count(SOURCE, "heads")
        self._head = max(self._head, number)
        await self._flush(rpc, sink, self.pending.through(number, self._monotonic()))
        self._advance(self._head - 1)

    def _ingest(self, sink: TradeSink, log: object, received_at: datetime, received_mono: float) -> None:
        decoded = decode_order_filled(log)
        if isinstance(decoded, ChainReject):
            sink.reject(SOURCE, decoded.reason.value, {"detail": decoded.detail, "log": log})
            # only a `removed_by_reorg` reject carries its fill: withdraw that leg
            if decoded.fill is not None and self.pending.withdraw(decoded.fill) is Withdrawn.EMITTED:
                sink.count(SOURCE, "removed_after_emit")
            return
        if decoded.maker not in self._wallets:
            sink.count(SOURCE, "untracked_logs")  # an old filter's notification after `track` removed it
            return
        added = self.pending.add(decoded, log, received_at, received_mono)
        if added is Added.DUPLICATE:
            sink.count(SOURCE, "duplicate_logs")
        elif added is Added.LATE:
            sink.reject(SOURCE, "late_leg", {"detail": f"trade {decoded.key} was already emitted", "log": log})

    def _remember_block_time(self, number: int, timestamp: object) -> None:
        try:
            seconds = _quantity(timestamp, "block timestamp")
        except RpcError:
            return
        self._block_times[number] = datetime.fromtimestamp(seconds, tz=UTC)
        self._block_times.move_to_end(number)
        while len(self._block_times) > self.settings.block_times_kept:
            self._block_times.popitem(last=False)

    async def _block_time(self, rpc: RpcSession, number: int) -> datetime:
        known = self._block_times.get(number)
        if known is not None:
            return known
        block = await rpc.call("eth_getBlockByNumber", [hex(number), False])
        if not isinstance(block, dict):
            raise TransientError(f"block {number} is not available yet")
        self._remember_block_time(number, block.get("timestamp"))
        if number not in self._block_times:
            raise RpcError(f"block {number} has no readable timestamp")
        return self._block_times[number]

    # ---- flushing ----------------------------------------------------------------------------------------

    async def _flush(self, rpc: RpcSession, sink: TradeSink, groups: list[LegGroup]) -> None:
        """Turn complete groups into trades and hand them to the sink; failures stay pending for a retry."""
        if not groups:
            return
        slots = asyncio.Semaphore(self.settings.lookup_concurrency)

        async def guarded(call: Awaitable[Any]) -> Any:
            async with slots:
                return await call

        tokens = sorted({g.legs[0].token_id for g in groups})
        blocks = sorted({g.block_number for g in groups})
        found = await asyncio.gather(*(guarded(self._resolver.resolve(t)) for t in tokens), return_exceptions=True)
        times = await asyncio.gather(*(guarded(self._block_time(rpc, b)) for b in blocks), return_exceptions=True)
        infos, block_times = dict(zip(tokens, found, strict=True)), dict(zip(blocks, times, strict=True))
        trades: list[WhaleTrade] = []
        ready: list[LegGroup] = []
        retry: list[LegGroup] = []
        for group in groups:
            info, block_time = infos[group.legs[0].token_id], block_times[group.block_number]
            if isinstance(block_time, BaseException) or isinstance(info, TransientError | asyncio.CancelledError):
                retry.append(group)
                continue
            trade = self._trade_or_reject(sink, group, info, block_time)
            if trade is None:
                self.pending.settle([group], emitted=False)
            else:
                trades.append(trade)
                ready.append(group)
        if retry:
            sink.count(SOURCE, "lookup_retries", len(retry))
            self.pending.postpone(retry, self._monotonic() + self.settings.retry_s)
        if trades:
            try:
                await sink.accept(trades)
            except Exception:
                sink.count(SOURCE, "accept_errors")
                logger.exception("chain trades could not be claimed; retrying", extra={"trades": len(trades)})
                self.pending.postpone(ready, self._monotonic() + self.settings.retry_s)
                return
            self.pending.settle(ready, emitted=True)
            sink.count(SOURCE, "trades", len(trades))

    @staticmethod
    def _trade_or_reject(
        sink: TradeSink, group: LegGroup, info: TokenInfo | BaseException | None, block_time: datetime
    ) -> WhaleTrade | None:
        if info is None:
            sink.reject(SOURCE, "unknown_token", {"detail": f"token {group.legs[0].token_id}", "logs": group.raw})
        elif isinstance(info, BaseException):
            sink.reject(SOURCE, "token_lookup_failed", {"detail": f"{type(info).__name__}: {info}", "logs": group.raw})
        else:
            try:
                return whale_trade(group, info, block_time)
            except ValidationError as exc:
                sink.reject(SOURCE, "invalid_trade", {"detail": str(exc.errors()[0]["msg"]), "logs": group.raw})
        return None

    def _advance(self, complete_through: int) -> None:
        """Move the cursor to `complete_through`, but never past a block with legs still pending."""
        if self._cursor is None:
            return
        oldest = self.pending.oldest_block
        target = complete_through if oldest is None else min(complete_through, oldest - 1)
        if target > self._cursor:
            self._cursor = target
            self.pending.forget_below(target - self.settings.remember_blocks)

    # ---- backfill ----------------------------------------------------------------------------------------

    async def _backfill(self, rpc: RpcSession, sink: TradeSink, stop: asyncio.Event, head: int) -> None:
        """Fetch the logs of blocks (cursor, head] with eth_getLogs, chunk by chunk, through the same grouping."""
        assert self._cursor is not None
        start = self._cursor + 1
        if head - start + 1 > self.settings.max_backfill_blocks:
            skipped = head - start + 1 - self.settings.max_backfill_blocks
            sink.count(SOURCE, "backfill_truncated", skipped)
            logger.warning("chain backfill truncated", extra={"host": self.host, "blocks_skipped": skipped})
            start = head - self.settings.max_backfill_blocks + 1
            self._cursor = start - 1
        for low in range(start, head + 1, self.settings.max_block_range):
            if stop.is_set():
                return
            high = min(low + self.settings.max_block_range - 1, head)
            logs: list[Any] = []
            for log_filter in self._filters():
                logs.extend(await self._get_logs(rpc, log_filter, low, high))
            sink.count(SOURCE, "backfilled_logs", len(logs))
            received_at, received_mono = self._wall(), self._monotonic()
            for log in sorted(logs, key=_log_order):
                self._ingest(sink, log, received_at, received_mono)
            await self._flush(rpc, sink, self.pending.through(high, received_mono))
            self._advance(high)

    async def _get_logs(self, rpc: RpcSession, log_filter: dict[str, object], low: int, high: int) -> list[Any]:
        """eth_getLogs over [low, high]; on an error (range or result-count limits) the range is halved."""
        try:
            result = await rpc.call("eth_getLogs", [block_range_filter(log_filter, low, high)])
        except RpcError:
            if low == high:
                raise
            middle = (low + high) // 2
            return await self._get_logs(rpc, log_filter, low, middle) + await self._get_logs(
                rpc, log_filter, middle + 1, high
            )
        if not isinstance(result, list):
            raise UpstreamError(f"eth_getLogs returned {type(result).__name__}, expected a list")
        return result


def _quantity(value: object, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(f"{what} is not a hex quantity: {str(value)[:80]!r}")


def _log_order(log: Any) -> tuple[int, int]:
    try:
        return int(log["blockNumber"], 16), int(log["logIndex"], 16)
    except (KeyError, TypeError, ValueError):
        return -1, -1  # malformed: decoded first, and rejected
