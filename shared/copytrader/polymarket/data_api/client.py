"""The Data API client: async GETs with the shared rate limiter, retries and a cache buster; `/trades` paging.

`DataApiClient.trades_since` pages `?user=&limit=&offset=&takerOnly=false` (maker fills matter: whales
often rest limit orders, ANCHORS 2.1.5) newest first until a page reaches a row older than the caller's
high-water mark. Every request carries a changing `_` parameter: CloudFront caches `/trades` for up to
5 minutes per URL, so a poll without it can be served stale. Rows that a new trade pushed across a page
boundary come back on the next page and are dropped by identity. The API refuses offsets above 10,000;
deeper history is paged with `end=<oldest timestamp seen>` windows from offset 0.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.data_api import DATA_API_URL
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from copytrader.polymarket.data_api.rows import Row, row_content_identity, row_timestamp
from copytrader.runtime.backoff import backoff_delay

logger = logging.getLogger(__name__)

TRADES_PATH = "/trades"
MAX_LIMIT = 10_000  # v1 clamps larger limits
MAX_OFFSET = 10_000  # v1 answers 400 above this
CACHE_BUSTER = "_"

QueryValue = str | int | Sequence[str]  # a sequence is sent as a repeated parameter


@dataclass(frozen=True)
class ReceivedPage:
    rows: list[Row]
    received_at: datetime


@dataclass
class TradeFetch:
    """What one `trades_since` call got: pages newest first, rows repeated across pages already dropped."""

    pages: list[ReceivedPage] = field(default_factory=list)
    requests: int = 0
    repeated_rows: int = 0
    truncated: bool = False  # one second held more rows than offsets can reach (~10,000): the rest was not paged

    @property
    def row_count(self) -> int:
        return sum(len(page.rows) for page in self.pages)


_RETRYABLE = frozenset({425, 429, 500, 502, 503, 504})


def _error_detail(response: httpx.Response) -> str:
    """The documented error fields of a refusal (`code`, `parameter`), never the raw body: a proxy's error page can
    echo the request URL, and with it credentials embedded in an operator's proxy URL."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, Mapping):
        return ""
    fields = [f"{k}={str(body[k])[:60]}" for k in ("code", "parameter") if isinstance(body.get(k), str | int)]
    return f" ({', '.join(fields)})" if fields else ""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DataApiClient:
    """Async `GET /trades` with a shared rate limiter, retries on 429/5xx/timeouts and a cache buster.

    Retries back off exponentially (base `backoff_s`, doubling, half of it random, capped at
    `max_backoff_s`) or wait for the server's `Retry-After` when that is longer (capped at
    `max_retry_after_s`); every attempt takes a limiter slot. After `attempts` failures the call raises
    `TransientError`; a 4xx other than 425/429 or a body that is not a list of rows raises `UpstreamError`.
    Nothing logged or raised includes the base URL (an operator's proxy URL may carry credentials).
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        limiter: SlidingWindowLimiter | None = None,
        *,
        attempts: int = 4,
        backoff_s: float = 0.25,
        max_backoff_s: float = 5.0,
        max_retry_after_s: float = 30.0,
        wall: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._http = http
        self._limiter = limiter or SlidingWindowLimiter()
        self._attempts, self._backoff_s, self._max_backoff_s = attempts, backoff_s, max_backoff_s
        self._max_retry_after_s = max_retry_after_s
        self._wall, self._sleep, self._jitter = wall, sleep, jitter
        self._busters = itertools.count()

    @staticmethod
    def http_client(base_url: str = DATA_API_URL, timeout_s: float = 5.0) -> httpx.AsyncClient:
        """The HTTP client the listener uses: short connect timeout, keep-alive pool, JSON accepted."""
        return httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            headers={"Accept": "application/json"},
        )

    def _cache_buster(self) -> str:
        return f"{time.time_ns()}{next(self._busters)}"

    async def trades_page(self, user: str, *, limit: int, offset: int = 0, end: int | None = None) -> list[Row]:
        """One page of a wallet's trades (taker and maker fills), newest first."""
        if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
            raise ValueError(f"limit must lie in [1, {MAX_LIMIT}] and offset in [0, {MAX_OFFSET}]")
        params: dict[str, str | int] = {"user": user.lower(), "limit": limit, "offset": offset, "takerOnly": "false"}
        if end is not None:
            params["end"] = end
        body = await self._get(TRADES_PATH, params)
        if isinstance(body, Mapping) and isinstance(body.get("data"), list):
            body = body["data"]  # the v2 envelope, should the base URL point at a v2-compatible proxy
        if not isinstance(body, list):
            raise UpstreamError(f"GET {TRADES_PATH}: expected a JSON list of trades, got {type(body).__name__}")
        return body

    async def trades_since(self, user: str, *, is_older: Callable[[int], bool], page_size: int = 100) -> TradeFetch:
        """Page a wallet's trades newest first until a page reaches a row for which `is_older(timestamp)`.

        Also stops at a short page (the end of the history). Rows already returned by an earlier page of
        this call (pushed across the boundary by newer trades) are dropped by `row_content_identity`; another leg
        of a fill whose first leg ended the previous page is kept (the bare trade key would drop it).
        """
        fetch = TradeFetch()
        seen: set[str] = set()
        offset, end, window_oldest = 0, None, None
        while True:
            if offset > MAX_OFFSET:
                oldest = min((t for page in fetch.pages for r in page.rows if (t := row_timestamp(r))), default=None)
                if oldest is None or oldest == window_oldest:
                    fetch.truncated = True
                    return fetch
                # `end` one second above the oldest row seen covers that second whether the API reads `end`
                # inclusively or not; the rows seen again are dropped by identity
                offset, end, window_oldest = 0, oldest + 1, oldest
            rows = await self.trades_page(user, limit=page_size, offset=offset, end=end)
            fetch.requests += 1
            fresh = []
            for row in rows:
                identity = row_content_identity(row)
                if identity in seen:
                    fetch.repeated_rows += 1
                    continue
                fresh.append(row)
            seen.update(row_content_identity(row) for row in fresh)
            fetch.pages.append(ReceivedPage(fresh, self._wall()))
            reached = any((t := row_timestamp(row)) is not None and is_older(t) for row in rows)
            if reached or len(rows) < page_size:
                return fetch
            offset += page_size

    async def get_json(
        self, path: str, params: Mapping[str, QueryValue], *, limiters: Sequence[SlidingWindowLimiter] = ()
    ) -> Any:
        """One GET of `path` (relative to the HTTP client's base URL) with this client's retries, backoff,
        `Retry-After` handling and cache buster; the decoded JSON body.

        `limiters`, when given, replace the client's own limiter and must all grant each attempt (an
        endpoint's own limit and the API's general limit); a 429 pauses every one of them. A list value in
        `params` is sent as a repeated parameter (`a=1&a=2`). Raises `TransientError` / `UpstreamError`
        exactly as `trades_page` does; neither carries the base URL.
        """
        return await self._get(path, params, tuple(limiters))

    async def _get(
        self, path: str, params: Mapping[str, QueryValue], limiters: tuple[SlidingWindowLimiter, ...] = ()
    ) -> Any:
        gates = limiters or (self._limiter,)
        failure = ""
        for attempt in range(self._attempts):
            for gate in gates:
                await gate.acquire()
            delay = self._backoff(attempt)
            try:
                response = await self._http.get(path, params={**params, CACHE_BUSTER: self._cache_buster()})
            except httpx.TimeoutException as exc:
                failure = f"timeout ({type(exc).__name__})"
            except httpx.TransportError as exc:
                failure = f"transport error ({type(exc).__name__})"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError:
                        raise UpstreamError(f"GET {path}: body is not JSON") from None
                if response.status_code not in _RETRYABLE:
                    raise UpstreamError(f"GET {path}: HTTP {response.status_code}{_error_detail(response)}")
                failure = f"HTTP {response.status_code}"
                retry_after = self._retry_after(response)
                if retry_after is not None:
                    delay = max(delay, retry_after)
                if response.status_code == 429:
                    for gate in gates:
                        gate.pause(delay)
            logger.warning("data api request failed", extra={"path": path, "failure": failure, "attempt": attempt + 1})
            if attempt + 1 < self._attempts:
                await self._sleep(delay)
        raise TransientError(f"GET {path}: {failure} after {self._attempts} attempts")

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self._backoff_s, self._max_backoff_s, self._jitter())

    def _retry_after(self, response: httpx.Response) -> float | None:
        """`Retry-After` as seconds (delta-seconds or an HTTP date), capped; None when absent or unreadable."""
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                seconds = (parsedate_to_datetime(value) - self._wall()).total_seconds()
            except (TypeError, ValueError):
                return None
        return min(max(seconds, 0.0), self._max_retry_after_s)
