"""One `copytrader fetch` run: candidates (or a given wallet list) -> their histories -> the markets their
trades (and activity) touch. The wiring (`connect`) builds the HTTP clients, the shared retrying client and the
documented limiters; `run_fetch` does the work; the command writes the files.

Time, sleep, jitter and backoff are arguments, so the tests run the real code on a virtual clock.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.data_reader import DataApiReader
from copytrader.discovery.discover import Discovery, DiscoveryPlan, discover
from copytrader.discovery.endpoints import RATE_WINDOW_S, DataApiLimiters, Endpoint
from copytrader.discovery.gamma_markets import (
    GAMMA_URL,
    MARKETS_RATE_LIMIT,
    GammaMarketReader,
    MarketLookup,
    condition_ids_of,
    lookup_markets,
)
from copytrader.discovery.histories import HistoryPlan, WalletHistories
from copytrader.discovery.history import WalletHistory
from copytrader.discovery.paging import Completion
from copytrader.polymarket.data_api import DATA_API_URL
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from copytrader.polymarket.data_api.rows import Row

# The rows whose markets the scorer needs: the trades, and the activity (splits, merges and redemptions touch
# markets a wallet may never have traded) when it was read.
MARKET_SOURCES = (Endpoint.TRADES, Endpoint.ACTIVITY)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ProgressBar(Protocol):
    def update(self, n: int = 1) -> object: ...

    def close(self) -> None: ...


Progress = Callable[[str, int], ProgressBar]  # (description, total) -> a bar


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None

    def close(self) -> None:
        return None


def no_progress(description: str, total: int) -> ProgressBar:
    return _NoBar()


@dataclass(frozen=True)
class FetchPlan:
    """Either `wallets` or a `discovery` plan names the wallets; `history` says what to read of each."""

    wallets: tuple[str, ...] = ()
    discovery: DiscoveryPlan | None = None
    history: HistoryPlan = field(default_factory=HistoryPlan)

    def __post_init__(self) -> None:
        if bool(self.wallets) == (self.discovery is not None):
            raise ValueError("a fetch needs exactly one of a wallet list and a discovery plan")


@dataclass
class FetchResult:
    fetched_at: datetime
    discovery: Discovery | None
    histories: list[WalletHistory]
    markets: MarketLookup

    @property
    def complete(self) -> bool:
        """No request failed for good (truncation at the offset bound or the row cap is reported, not failure)."""
        parts_ok = all(
            part.completion is not Completion.REQUEST_FAILED
            for history in self.histories
            for part in history.parts.values()
        )
        return parts_ok and self.markets.complete and (self.discovery is None or self.discovery.complete)

    def rows(self, endpoint: Endpoint) -> list[Row]:
        """Every wallet's rows of `endpoint`, wallet by wallet in order, each wallet's as kept (newest first)."""
        return [row for history in self.histories for row in history.rows(endpoint)]

    def report(self) -> dict[str, Any]:
        return {
            "fetched_at": self.fetched_at.isoformat(),
            "complete": self.complete,
            "discovery": self.discovery.summary() if self.discovery is not None else None,
            "wallets": {history.wallet: history.summary() for history in self.histories},
            "markets": self.markets.summary(),
        }


@dataclass(frozen=True)
class Readers:
    data_api: DataApiReader
    gamma: GammaMarketReader


def _http(base_url: str, timeout_s: float, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    if transport is None:
        return DataApiClient.http_client(base_url, timeout_s)
    return httpx.AsyncClient(base_url=base_url, transport=transport, headers={"Accept": "application/json"})


@asynccontextmanager
async def connect(
    base_url: str = DATA_API_URL,
    gamma_url: str = GAMMA_URL,
    *,
    timeout_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
    backoff_s: float = 0.5,
    attempts: int = 5,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Readers]:
    """HTTP clients for the Data API and Gamma, behind the retrying client and the documented limiters.

    `transport` replaces the network (tests pass `httpx.MockTransport`); `clock` and `sleep` drive the
    limiters and the retry waits.
    """
    limiters = DataApiLimiters.documented(clock, sleep)
    gamma_limiter = SlidingWindowLimiter(MARKETS_RATE_LIMIT, RATE_WINDOW_S, clock=clock, sleep=sleep)
    options: dict[str, Any] = {
        "sleep": sleep,
        "jitter": jitter,
        "backoff_s": backoff_s,
        "attempts": attempts,
        "wall": utc_now,
    }
    async with _http(base_url, timeout_s, transport) as data_http, _http(gamma_url, timeout_s, transport) as gamma_http:
        yield Readers(
            DataApiReader(DataApiClient(data_http, limiters.general, **options), limiters),
            GammaMarketReader(DataApiClient(gamma_http, gamma_limiter, **options), gamma_limiter),
        )


async def run_fetch(
    plan: FetchPlan,
    readers: Readers,
    *,
    cache: DiscoveryCache | None = None,
    now: Callable[[], datetime] = utc_now,
    progress: Progress = no_progress,
) -> FetchResult:
    fetched_at = now()
    found: Discovery | None = None
    wallets: Sequence[str] = plan.wallets
    if plan.discovery is not None:
        total = len(plan.discovery.queries) + (plan.discovery.large_trade_usdc is not None)
        bar = progress("discovery queries", total)
        found = await discover(readers.data_api, plan.discovery, now=now, cache=cache, on_query=bar.update)
        bar.close()
        wallets = [candidate.wallet for candidate in found.candidates]
    bar = progress("wallet histories", len(wallets))
    histories = await WalletHistories(readers.data_api, plan.history, now=now, cache=cache).fetch_all(
        wallets, on_wallet=lambda _: bar.update(1)
    )
    bar.close()
    touched = [row for history in histories for endpoint in MARKET_SOURCES for row in history.rows(endpoint)]
    condition_ids = condition_ids_of(touched)
    bar = progress("gamma markets", len(condition_ids))
    markets = await lookup_markets(readers.gamma, condition_ids, cache=cache, now=now, on_progress=bar.update)
    bar.close()
    return FetchResult(fetched_at, found, histories, markets)
