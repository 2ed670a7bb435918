"""Data API reads for discovery and wallet history, over the shared `DataApiClient`.

Every request goes through `DataApiClient.get_json`: its retries (429, 5xx, timeouts) with exponential
backoff or the server's `Retry-After`, its cache buster (CloudFront caches a URL for up to 5 minutes),
and error messages that name the path but never the base URL. Each request takes a slot from its
endpoint's limiter and from the Data API's general one (`DataApiLimiters`).

Paging decisions are `WindowedPager`'s; this module only asks for what it says and hands back the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from copytrader.discovery.defaults import DEFAULT_LARGE_TRADE_LIMIT
from copytrader.discovery.endpoints import DataApiLimiters, EndpointSpec
from copytrader.discovery.leaderboard import LEADERBOARD_PATH, LeaderboardQuery
from copytrader.discovery.paging import WindowedPager
from copytrader.discovery.rows import as_rows
from copytrader.errors import TransientError, UpstreamError
from copytrader.money import canonical
from copytrader.polymarket.data_api.client import MAX_LIMIT, TRADES_PATH, DataApiClient, QueryValue
from copytrader.polymarket.data_api.rows import Row


class DataApiReader:
    def __init__(self, client: DataApiClient, limiters: DataApiLimiters) -> None:
        self._client = client
        self._limiters = limiters

    async def rows(self, path: str, params: Mapping[str, QueryValue]) -> list[Row]:
        """One page: a JSON list (a v2 `{"data": [...]}` envelope unwrapped), else `UpstreamError`."""
        body = await self._client.get_json(path, params, limiters=self._limiters.for_path(path))
        rows = as_rows(body)
        if rows is None:
            raise UpstreamError(f"GET {path}: expected a JSON list, got {type(body).__name__}")
        return rows

    async def leaderboard_page(self, query: LeaderboardQuery, offset: int, limit: int) -> list[Row]:
        return await self.rows(LEADERBOARD_PATH, query.params(offset, limit))

    async def large_trades(
        self, min_usdc: Decimal, limit: int = DEFAULT_LARGE_TRADE_LIMIT, taker_only: bool = True
    ) -> list[Row]:
        """The newest fills of the global feed worth at least `min_usdc` pUSD (`filterType=CASH`)."""
        if min_usdc < 0 or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"large trades need min_usdc >= 0 and 1 <= limit <= {MAX_LIMIT}")
        params: dict[str, QueryValue] = {
            "filterType": "CASH",
            "filterAmount": str(canonical(min_usdc)),
            "takerOnly": "true" if taker_only else "false",
            "limit": limit,
            "offset": 0,
        }
        return await self.rows(TRADES_PATH, params)

    async def read_list(
        self,
        wallet: str,
        spec: EndpointSpec,
        *,
        since: int | None = None,
        page_size: int | None = None,
        max_rows: int | None = None,
    ) -> WindowedPager:
        """Read one wallet's list of `spec` (from `since` when refreshing) until the pager says it is done.

        A request that still fails after its retries ends the list as `request_failed`, keeping the rows
        read before it; it does not raise, so one wallet's bad page costs that list, not the run.
        """
        pager = WindowedPager(
            limit=spec.page_size(page_size),
            max_offset=spec.max_offset,
            windowed=spec.windowed,
            identity=spec.identity,
            since=since,
            max_rows=max_rows,
        )
        base: dict[str, QueryValue] = {"user": wallet.lower(), **dict(spec.params)}
        while (request := pager.next_request()) is not None:
            try:
                page = await self.rows(spec.path, {**base, **request.params()})
            except (TransientError, UpstreamError) as exc:
                pager.fail(str(exc))
                break
            pager.accept(page)
        return pager
