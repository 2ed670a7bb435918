"""The seams between the listener's parts, as Protocols: what a trade source needs and what the listener needs.

A source (Data API polling here; chain logs and RTDS later) only sees a `TradeSink`: it hands over canonical
`WhaleTrade`s and counts what it saw. The listener only sees `TradeSource`s: it tells them which wallets to
watch, runs them, and asks them to persist their progress. Dedup, batching and publishing stay in one place
(`copytrader.listener.outbox`), so adding a source cannot weaken the exactly-once guarantee.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from copytrader.listener.publish import PublishReport
from copytrader.model import WhaleTrade


class TradeSink(Protocol):
    async def accept(self, trades: Sequence[WhaleTrade]) -> None:
        """Claim and queue trades for publishing (oldest first). Raises when a claim could not be made:
        the source must then keep its progress where it was, so the trades are offered again."""
        ...

    def count(self, source: str, event: str, n: int = 1) -> None:
        """Add `n` to the counter `<source>.<event>` (polls, errors, untracked frames)."""
        ...

    def reject(self, source: str, reason: str, raw: object) -> None:
        """Drop an input that cannot become a trade: count `<source>.reject.<reason>` and keep the raw
        input (truncated) for inspection. Never raises."""
        ...


class TradeSource(Protocol):
    name: str

    def track(self, wallets: frozenset[str]) -> None:
        """Replace the set of watched wallets (lower-case addresses); takes effect without a restart."""
        ...

    async def run(self, sink: TradeSink, stop: asyncio.Event) -> None:
        """Deliver trades until `stop` is set, then return promptly. Must not raise on feed errors."""
        ...

    async def checkpoint(self) -> None:
        """Persist progress (high-water marks) so a restart resumes where this process stopped."""
        ...


class WatchList(Protocol):
    async def wallets(self) -> frozenset[str]:
        """The wallets to watch now (lower-case addresses)."""
        ...


class Claims(Protocol):
    """`copytrader.store.trades.SeenTrades`: True only for the first sighting of a trade key anywhere; claims
    stay pending until published, and a stale pending claim can be retaken by exactly one task."""

    def claim(self, trade: WhaleTrade, now: datetime) -> bool: ...

    def mark_published(self, key: str, now: datetime) -> None: ...

    def stale_unpublished(self, older_than: datetime, limit: int = 100) -> list[WhaleTrade]: ...

    def retake(self, key: str, now: datetime, older_than: datetime) -> bool: ...


class Publisher(Protocol):
    """`copytrader.listener.publish.TradePublisher`: SQS FIFO + EventBridge, reporting the keys that failed."""

    def publish(self, trades: Sequence[WhaleTrade]) -> PublishReport: ...
