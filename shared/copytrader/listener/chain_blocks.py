"""What the chain source makes of the logs and block headers a connection delivers: legs, trades, the cursor, and
the backfill of the blocks missed while no connection was open.

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

Progress: the last processed block (`cursor`) is the highest block whose logs have all reached the sink: at
most the newest `newHeads` - 1 (a block's logs may follow its header) and below the oldest pending leg. It is
kept in memory only: a restart resumes at the head, and the Data API poller's high-water marks cover the
gap (`ChainSource.checkpoint`).

Backfill: once a connection has subscribed, `eth_getLogs` from the cursor + 1 to the current head in ranges of
at most `max_block_range` blocks (halved on a range error), at most `max_backfill_blocks` behind the head (older
gaps are left to the Data API poller); logs seen twice (subscription and backfill) are dropped by (block hash,
log index). Counters and rejects are the source's (`chain.<event>`, listed in `copytrader.listener.chain_source`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from copytrader.errors import RpcError, TransientError, UpstreamError
from copytrader.listener.chain_legs import Added, LegGroup, PendingLegs, Withdrawn, whale_trade
from copytrader.listener.chain_rpc import Note, RpcSession, hex_quantity
from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.listener.ports import TradeSink
from copytrader.model import Source, WhaleTrade, utc_from_epoch
from copytrader.polymarket.chain import (
    ChainReject,
    block_range_filter,
    decode_order_filled,
    subscription_filters,
)
from copytrader.polymarket.tokens import TokenInfo, TokenResolver

logger = logging.getLogger(__name__)

SOURCE = Source.CHAIN.value


class ChainBlocks:
    """The chain source's legs, block times and cursor, and what turns notifications and backfilled logs into
    trades for the sink; see the module docstring. One per source, kept across its connections."""

    def __init__(
        self,
        resolver: TokenResolver,
        settings: ChainSourceSettings,
        host: str,
        *,
        wall: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self.settings, self.host = settings, host
        self._resolver = resolver
        self._wall, self._monotonic = wall, monotonic
        self.wallets: frozenset[str] = frozenset()
        self.cursor: int | None = None
        self.head = -1  # the newest newHeads number of the current connection
        self._block_times: OrderedDict[int, datetime] = OrderedDict()
        self.pending = PendingLegs()

    def filters(self) -> list[dict[str, object]]:
        return subscription_filters(self.wallets, self.settings.max_topics)

    # ---- notifications -----------------------------------------------------------------------------------

    async def on_note(self, rpc: RpcSession, sink: TradeSink, note: Note, heads: str) -> None:
        if note.subscription != heads:
            sink.count(SOURCE, "logs")
            self._ingest(sink, note.result, note.received_at, note.received_mono)
            return
        header = note.result if isinstance(note.result, dict) else {}
        try:
            number = hex_quantity(header.get("number"), "newHeads number")
        except RpcError as exc:
            sink.reject(SOURCE, "malformed_head", {"detail": str(exc), "head": note.result})
            return
        if not self._remember_block_time(number, header.get("timestamp")):
            # its number still counts; its time is looked up (eth_getBlockByNumber) if a leg of it needs one
            detail = f"timestamp {str(header.get('timestamp'))[:40]!r} is not a hex epoch up to 9999-12-31"
            sink.reject(SOURCE, "malformed_head", {"detail": detail, "head": note.result})
        sink.count(SOURCE, "heads")
        self.head = max(self.head, number)
        await self.flush(rpc, sink, self.pending.through(number, self._monotonic()))
        self._advance(self.head - 1)

    def _ingest(self, sink: TradeSink, log: object, received_at: datetime, received_mono: float) -> None:
        decoded = decode_order_filled(log)
        if isinstance(decoded, ChainReject):
            sink.reject(SOURCE, decoded.reason.value, {"detail": decoded.detail, "log": log})
            # only a `removed_by_reorg` reject carries its fill: withdraw that leg
            if decoded.fill is not None and self.pending.withdraw(decoded.fill) is Withdrawn.EMITTED:
                sink.count(SOURCE, "removed_after_emit")
            return
        if decoded.maker not in self.wallets:
            sink.count(SOURCE, "untracked_logs")  # an old filter's notification after `track` removed it
            return
        added = self.pending.add(decoded, log, received_at, received_mono)
        if added is Added.DUPLICATE:
            sink.count(SOURCE, "duplicate_logs")
        elif added is Added.LATE:
            sink.reject(SOURCE, "late_leg", {"detail": f"trade {decoded.key} was already emitted", "log": log})

    def _remember_block_time(self, number: int, timestamp: object) -> bool:
        """Keep block `number`'s time; False when `timestamp` is not a hex epoch a datetime can hold."""
        try:
            at = utc_from_epoch(hex_quantity(timestamp, "block timestamp"))
        except (RpcError, ValueError):
            return False
        self._block_times[number] = at
        self._block_times.move_to_end(number)
        while len(self._block_times) > self.settings.block_times_kept:
            self._block_times.popitem(last=False)
        return True

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

    async def flush(self, rpc: RpcSession, sink: TradeSink, groups: list[LegGroup]) -> None:
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
        if self.cursor is None:
            return
        oldest = self.pending.oldest_block
        target = complete_through if oldest is None else min(complete_through, oldest - 1)
        if target > self.cursor:
            self.cursor = target
            self.pending.forget_below(target - self.settings.remember_blocks)

    # ---- backfill ----------------------------------------------------------------------------------------

    async def backfill(self, rpc: RpcSession, sink: TradeSink, stop: asyncio.Event, head: int) -> None:
        """Fetch the logs of blocks (cursor, head] with eth_getLogs, chunk by chunk, through the same grouping."""
        assert self.cursor is not None
        start = self.cursor + 1
        if head - start + 1 > self.settings.max_backfill_blocks:
            skipped = head - start + 1 - self.settings.max_backfill_blocks
            sink.count(SOURCE, "backfill_truncated", skipped)
            logger.warning("chain backfill truncated", extra={"host": self.host, "blocks_skipped": skipped})
            start = head - self.settings.max_backfill_blocks + 1
            self.cursor = start - 1
        for low in range(start, head + 1, self.settings.max_block_range):
            if stop.is_set():
                return
            high = min(low + self.settings.max_block_range - 1, head)
            logs: list[Any] = []
            for log_filter in self.filters():
                logs.extend(await self._get_logs(rpc, log_filter, low, high))
            sink.count(SOURCE, "backfilled_logs", len(logs))
            received_at, received_mono = self._wall(), self._monotonic()
            for log in sorted(logs, key=_log_order):
                self._ingest(sink, log, received_at, received_mono)
            await self.flush(rpc, sink, self.pending.through(high, received_mono))
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


def _log_order(log: Any) -> tuple[int, int]:
    try:
        return int(log["blockNumber"], 16), int(log["logIndex"], 16)
    except (KeyError, TypeError, ValueError):
        return -1, -1  # malformed: decoded first, and rejected
