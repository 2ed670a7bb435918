"""Whale discovery: candidate wallets from leaderboards and from large trades of the global feed.

Each (category, period, orderBy) ranking is read page by page to `depth` rows (a cached page younger than
the leaderboard TTL is used instead of a request) and stops at a short page. Rankings are read
concurrently (the limiters keep the rate) but added to the pool in the order given, so the candidates
and their provenance do not depend on which answer came first. A ranking whose request fails after its
retries costs that ranking (counted as `query_failed`, its error kept), not the run.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import product
from typing import Any

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.candidates import Candidate, CandidatePool
from copytrader.discovery.data_reader import DataApiReader
from copytrader.discovery.defaults import (
    DEFAULT_CATEGORIES,
    DEFAULT_DEPTH,
    DEFAULT_LARGE_TRADE_LIMIT,
    DEFAULT_ORDER_BYS,
    DEFAULT_PERIODS,
)
from copytrader.discovery.leaderboard import LeaderboardQuery, SkipReason, leaderboard_pages
from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.data_api.client import MAX_LIMIT
from copytrader.polymarket.data_api.rows import Row


def leaderboard_queries(
    categories: Sequence[str] = DEFAULT_CATEGORIES,
    periods: Sequence[str] = DEFAULT_PERIODS,
    order_bys: Sequence[str] = DEFAULT_ORDER_BYS,
) -> list[LeaderboardQuery]:
    """Every (orderBy, period, category) combination, in that nesting, without repeats."""
    combos = product(dict.fromkeys(order_bys), dict.fromkeys(periods), dict.fromkeys(categories))
    return [LeaderboardQuery(category, period, order_by) for order_by, period, category in combos]


@dataclass(frozen=True)
class DiscoveryPlan:
    queries: tuple[LeaderboardQuery, ...] = tuple(leaderboard_queries())
    depth: int = DEFAULT_DEPTH
    large_trade_usdc: Decimal | None = None  # None: no large-trade source
    large_trade_limit: int = DEFAULT_LARGE_TRADE_LIMIT

    def __post_init__(self) -> None:
        leaderboard_pages(self.depth)  # validates the depth
        if not self.queries and self.large_trade_usdc is None:
            raise ValueError("discovery needs at least one leaderboard query or a large-trade threshold")
        if self.large_trade_usdc is not None and self.large_trade_usdc < 0:
            raise ValueError("the large-trade threshold cannot be negative")
        if not 1 <= self.large_trade_limit <= MAX_LIMIT:
            raise ValueError(f"the large-trade limit lies in [1, {MAX_LIMIT}], not {self.large_trade_limit}")


@dataclass
class Discovery:
    candidates: list[Candidate]
    skipped: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    cached_pages: int = 0

    @property
    def complete(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        return {
            "candidates": [
                {"wallet": c.wallet, "user_name": c.user_name, "provenance": list(c.provenance)}
                for c in self.candidates
            ],
            "skipped": dict(sorted(self.skipped.items())),
            "failures": self.failures,
            "requests": self.requests,
            "cached_pages": self.cached_pages,
        }


class _Ranking:
    def __init__(self, query: LeaderboardQuery) -> None:
        self.query = query
        self.rows: list[Row] = []
        self.error = ""


async def discover(
    reader: DataApiReader,
    plan: DiscoveryPlan,
    *,
    now: Callable[[], datetime],
    cache: DiscoveryCache | None = None,
    on_query: Callable[[int], object] | None = None,
) -> Discovery:
    discovery = Discovery(candidates=[])

    async def read(query: LeaderboardQuery) -> _Ranking:
        ranking = _Ranking(query)
        try:
            for offset, limit in leaderboard_pages(plan.depth):
                page = await _page(reader, cache, query, offset, limit, now, discovery)
                ranking.rows.extend(page)
                if len(page) < limit:
                    break
        except (TransientError, UpstreamError) as exc:
            ranking.error = str(exc)
        if on_query is not None:
            on_query(1)
        return ranking

    rankings = await asyncio.gather(*(read(query) for query in plan.queries))
    pool = CandidatePool()
    for ranking in rankings:
        pool.add_leaderboard(ranking.query, ranking.rows)
        if ranking.error:
            pool.skip(SkipReason.QUERY_FAILED)
            discovery.failures.append(f"leaderboard {ranking.query.label}: {ranking.error}")
    if plan.large_trade_usdc is not None:
        try:
            rows = await reader.large_trades(plan.large_trade_usdc, plan.large_trade_limit)
            discovery.requests += 1
            pool.add_large_trades(rows, plan.large_trade_usdc, now())
        except (TransientError, UpstreamError) as exc:
            pool.skip(SkipReason.QUERY_FAILED)
            discovery.failures.append(f"large trades: {exc}")
        if on_query is not None:
            on_query(1)
    discovery.candidates = pool.candidates()
    discovery.skipped = pool.skipped
    return discovery


async def _page(
    reader: DataApiReader,
    cache: DiscoveryCache | None,
    query: LeaderboardQuery,
    offset: int,
    limit: int,
    now: Callable[[], datetime],
    discovery: Discovery,
) -> list[Row]:
    if cache is not None:
        cached = await asyncio.to_thread(cache.leaderboard_page, query, offset, limit, now())
        if cached is not None:
            discovery.cached_pages += 1
            return cached
    page = await reader.leaderboard_page(query, offset, limit)
    discovery.requests += 1
    if cache is not None:
        await asyncio.to_thread(cache.save_leaderboard_page, query, offset, limit, page, now())
    return page
