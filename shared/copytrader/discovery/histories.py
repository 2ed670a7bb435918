"""Per-wallet history from the Data API, refreshed through the discovery cache.

For each wallet and endpoint: load the cached part, read what is new (`refresh_since`: the high-water
mark minus the overlap, or everything), merge (`combine`), and cache the result unless the read failed.
A wallet's endpoints are read concurrently, and so are several wallets (`concurrency`); the limiters
hold the documented rates whatever the concurrency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.data_reader import DataApiReader
from copytrader.discovery.defaults import DEFAULT_CONCURRENCY, DEFAULT_MAX_ROWS, DEFAULT_OVERLAP
from copytrader.discovery.endpoints import SPECS, Endpoint
from copytrader.discovery.history import HistoryPart, WalletHistory, combine, refresh_since
from copytrader.discovery.paging import Completion


@dataclass(frozen=True)
class HistoryPlan:
    endpoints: tuple[Endpoint, ...] = tuple(Endpoint)
    page_sizes: Mapping[Endpoint, int] = field(default_factory=dict)  # default: each endpoint's own
    max_rows: int | None = DEFAULT_MAX_ROWS  # per wallet and endpoint
    overlap: timedelta = DEFAULT_OVERLAP
    concurrency: int = DEFAULT_CONCURRENCY  # wallets read at once

    def __post_init__(self) -> None:
        for endpoint, size in self.page_sizes.items():
            SPECS[endpoint].page_size(size)  # validates
        if self.overlap < timedelta(0) or self.concurrency < 1 or (self.max_rows is not None and self.max_rows < 1):
            raise ValueError("a history plan needs overlap >= 0, concurrency >= 1 and max_rows >= 1 (or no cap)")


class WalletHistories:
    def __init__(
        self,
        reader: DataApiReader,
        plan: HistoryPlan,
        *,
        now: Callable[[], datetime],
        cache: DiscoveryCache | None = None,
    ) -> None:
        self._reader, self.plan, self._now, self._cache = reader, plan, now, cache

    async def fetch(self, wallet: str) -> WalletHistory:
        wallet = wallet.lower()
        started = self._now()
        parts = await asyncio.gather(*(self._part(wallet, endpoint) for endpoint in self.plan.endpoints))
        return WalletHistory(wallet, started, {part.endpoint: part for part in parts})

    async def fetch_all(
        self, wallets: Sequence[str], on_wallet: Callable[[WalletHistory], object] | None = None
    ) -> list[WalletHistory]:
        """Histories in the order of `wallets` (repeats dropped)."""
        gate = asyncio.Semaphore(self.plan.concurrency)

        async def one(wallet: str) -> WalletHistory:
            async with gate:
                history = await self.fetch(wallet)
            if on_wallet is not None:
                on_wallet(history)
            return history

        return list(await asyncio.gather(*(one(wallet) for wallet in dict.fromkeys(w.lower() for w in wallets))))

    async def _part(self, wallet: str, endpoint: Endpoint) -> HistoryPart:
        spec = SPECS[endpoint]
        cached = await asyncio.to_thread(self._cache.part, wallet, endpoint) if self._cache is not None else None
        pager = await self._reader.read_list(
            wallet,
            spec,
            since=refresh_since(cached, spec, self.plan.overlap, self.plan.max_rows),
            page_size=self.plan.page_sizes.get(endpoint),
            max_rows=self.plan.max_rows,
        )
        part = combine(cached, pager, spec, self._now())
        if self._cache is not None and part.completion is not Completion.REQUEST_FAILED:
            await asyncio.to_thread(self._cache.save_part, wallet, part)
        return part
