"""The Data API and Gamma readers one Map child of the scoring workflow uses.

Their limiters hold one child's share of each documented rate (`copytrader.workflows.scoring.plan.child_rate`).
`copytrader.discovery.run.connect` builds the same readers with the full documented limits, which is right for one
process alone; `connect_readers` differs only in the limits and otherwise reuses discovery's clients. The discovery
modules are imported when the readers are opened, so a step that never opens them pays nothing for them.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from copytrader.workflows.scoring import plan as workflow

if TYPE_CHECKING:
    import httpx

    from copytrader.discovery.run import Readers


def utc_now() -> datetime:
    return datetime.now(UTC)


ReadersFactory = Callable[[], AbstractAsyncContextManager["Readers"]]


@asynccontextmanager
async def connect_readers(
    data_api_url: str,
    gamma_url: str,
    *,
    children: int = workflow.MAX_CONCURRENCY,
    timeout_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    jitter: Callable[[], float] = random.random,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Readers]:
    """Discovery's readers under one Map child's share of each documented limit (see the module docstring)."""
    import httpx

    from copytrader.discovery.data_reader import DataApiReader
    from copytrader.discovery.endpoints import RATE_WINDOW_S, DataApiLimiters
    from copytrader.discovery.gamma_markets import GammaMarketReader
    from copytrader.discovery.run import Readers
    from copytrader.polymarket.data_api.client import DataApiClient
    from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter

    def limiter(documented: int) -> SlidingWindowLimiter:
        return SlidingWindowLimiter(workflow.child_rate(documented, children), RATE_WINDOW_S, clock=clock, sleep=sleep)

    limiters = DataApiLimiters(
        general=limiter(workflow.DATA_API_LIMIT),
        trades=limiter(workflow.TRADES_LIMIT),
        positions=limiter(workflow.POSITIONS_LIMIT),
        closed_positions=limiter(workflow.POSITIONS_LIMIT),
    )
    gamma_limiter = limiter(workflow.GAMMA_MARKETS_LIMIT)
    options: dict[str, Any] = {"sleep": sleep, "jitter": jitter, "attempts": 5, "backoff_s": 0.5, "wall": utc_now}

    def http(base_url: str) -> httpx.AsyncClient:
        if transport is None:
            return DataApiClient.http_client(base_url, timeout_s)
        return httpx.AsyncClient(base_url=base_url, transport=transport, headers={"Accept": "application/json"})

    async with http(data_api_url) as data_http, http(gamma_url) as gamma_http:
        yield Readers(
            DataApiReader(DataApiClient(data_http, limiters.general, **options), limiters),
            GammaMarketReader(DataApiClient(gamma_http, gamma_limiter, **options), gamma_limiter),
        )
