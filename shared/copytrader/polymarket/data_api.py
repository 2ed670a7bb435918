"""Polymarket Data API trades (REFERENCE.md section a): row parsing, a rate limiter and a paging client.

Rows
    `GET /trades` (v1) rows are camelCase (`proxyWallet`, `asset`, `conditionId`, `outcomeIndex`,
    `transactionHash`); `GET /v2/trades` rows are snake_case (`proxy_wallet`, `token_id`, `condition_id`,
    `outcome_index`, `transaction_hash`). `parse_trade_row` accepts either and returns a canonical
    `WhaleTrade` (source `data-api`, `detected_at` = when we received the row) or a `RowReject` carrying a
    `RejectReason`. It never raises: one bad row from a public feed must cost one counted reject, not a poll.
    Prices and sizes arrive as JSON floats and become exact Decimals through their shortest repr
    (`copytrader.money.to_decimal`), so 0.0674345935091477 stays 0.0674345935091477.

Rate
    `/trades` allows 200 requests per sliding 10 s window (Cloudflare). `SlidingWindowLimiter` keeps the
    grant times of the last `limit` requests and lets a request through only when the oldest of them has
    left the window, so no 10 s window ever holds more than `limit` requests; a 429 pauses it for the
    server's `Retry-After`.

Client
    `DataApiClient.trades_since` pages `?user=&limit=&offset=&takerOnly=false` (maker fills matter: whales
    often rest limit orders, ANCHORS 2.1.5) newest first until a page reaches a row older than the caller's
    high-water mark. Every request carries a changing `_` parameter: CloudFront caches `/trades` for up to
    5 minutes per URL, so a poll without it can be served stale. Rows that a new trade pushed across a page
    boundary come back on the next page and are dropped by identity. The API refuses offsets above 10,000;
    deeper history is paged with `end=<oldest timestamp seen>` windows from offset 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import httpx
from pydantic import ValidationError

from copytrader.errors import TransientError, UpstreamError
from copytrader.model import Source, WhaleTrade, trade_key
from copytrader.money import MICRO, ONE, ZERO, canonical, to_decimal

logger = logging.getLogger(__name__)

DATA_API_URL = "https://data-api.polymarket.com"
TRADES_PATH = "/trades"
TRADES_RATE_LIMIT = 200  # requests per window on /trades (docs .../api-reference/rate-limits)
TRADES_RATE_WINDOW_S = 10.0
MAX_LIMIT = 10_000  # v1 clamps larger limits
MAX_OFFSET = 10_000  # v1 answers 400 above this
UNLABELED_OUTCOME_INDEX = 999  # v2's "no outcome label"
CACHE_BUSTER = "_"
MIN_WAIT_S = 0.001

Row = Mapping[str, Any]
QueryValue = str | int | Sequence[str]  # a sequence is sent as a repeated parameter

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")
_MILLISECONDS_ABOVE = 100_000_000_000  # epoch values above this are milliseconds (year 5138 in seconds)
_LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime can hold
MAX_SHARES = Decimal(10) ** 12  # no fill is a trillion shares: a larger size is corrupt, not a trade


class RejectReason(StrEnum):
    """Why a Data API row did not become a WhaleTrade (one spelling for counters, logs and tests)."""

    NOT_AN_OBJECT = "not_an_object"
    MISSING_TX_HASH = "missing_tx_hash"
    MALFORMED_TX_HASH = "malformed_tx_hash"
    MALFORMED_WALLET = "malformed_wallet"
    WALLET_MISMATCH = "wallet_mismatch"  # a row for another wallet in a `?user=` answer
    UNKNOWN_SIDE = "unknown_side"
    MALFORMED_TOKEN_ID = "malformed_token_id"
    MALFORMED_CONDITION_ID = "malformed_condition_id"
    MALFORMED_PRICE = "malformed_price"
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    MALFORMED_SIZE = "malformed_size"
    NON_POSITIVE_SIZE = "non_positive_size"
    IMPLAUSIBLE_SIZE = "implausible_size"
    MALFORMED_TIMESTAMP = "malformed_timestamp"
    INVALID_TRADE = "invalid_trade"  # passed the field checks but the contract still refused it


@dataclass(frozen=True)
class RowReject:
    reason: RejectReason
    detail: str


class _Rejected(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reject = RowReject(reason, detail)


def _field(row: Row, camel: str, snake: str) -> Any:
    value = row.get(camel)
    return row.get(snake) if value is None else value


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _matching(value: Any, pattern: re.Pattern[str], reason: RejectReason, what: str, lower: bool = True) -> str:
    text = _text(value).lower() if lower else _text(value)
    if not pattern.match(text):
        raise _Rejected(reason, f"{what} {value!r}")
    return text


def _number(value: Any, reason: RejectReason, what: str) -> Decimal:
    try:
        return to_decimal(value)
    except ValueError:
        raise _Rejected(reason, f"{what} {value!r}") from None


def epoch_seconds(value: Any) -> int | None:
    """A row's `timestamp` as integer epoch seconds (milliseconds are scaled down), or None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        return None
    seconds = value // 1000 if value > _MILLISECONDS_ABOVE else value
    return seconds if seconds <= _LAST_SECOND else None


def _outcome_index(value: Any) -> int | None:
    """Cosmetic: a malformed or unlabeled (999) index becomes None rather than costing the trade."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value == UNLABELED_OUTCOME_INDEX:
        return None
    return value


def _identity_fields(row: Row) -> tuple[str, str, str, str]:
    """The four identifying fields, normalised exactly as the parser normalises them."""
    return (
        _text(_field(row, "transactionHash", "transaction_hash")).lower(),
        _text(_field(row, "proxyWallet", "proxy_wallet")).lower(),
        _text(_field(row, "asset", "token_id")),
        _text(row.get("side")).upper(),
    )


def row_identity(row: object) -> str:
    """The canonical trade key of a row, or "row:<digest of its content>" when it lacks an identifying field.

    For every row that parses, `row_identity(row) == parse_trade_row(row, ...).key`. It lets the pager and
    the high-water marks recognise a row (even a rejected one) without parsing it again.
    """
    if isinstance(row, Mapping):
        fields = _identity_fields(row)
        if all(fields):
            return trade_key(*fields)
    content = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
    return "row:" + hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


def row_content_identity(row: object) -> str:
    """A row's trade key plus its size, price and timestamp: one leg of one fill.

    With `takerOnly=false` a wallet whose several resting orders fill in one transaction gets one row per order;
    those rows share the trade key (`row_identity`) and differ in size or price. Paging and high-water marks must
    tell a repeated row (identical in every one of these fields) from another leg of the same fill.
    """
    key = row_identity(row)
    if key.startswith("row:") or not isinstance(row, Mapping):
        return key  # not identifiable by its fields: its whole content is its identity
    content = json.dumps([row.get("size"), row.get("price"), row.get("timestamp")], default=str, separators=(",", ":"))
    return f"{key}|{hashlib.blake2b(content.encode(), digest_size=8).hexdigest()}"


def row_timestamp(row: object) -> int | None:
    return epoch_seconds(row.get("timestamp")) if isinstance(row, Mapping) else None


def parse_trade_row(
    row: object, received_at: datetime, wallet: str | None = None, source: Source = Source.DATA_API
) -> WhaleTrade | RowReject:
    """One v1 or v2 `/trades` row -> a canonical WhaleTrade, or the reason it cannot be one.

    `wallet`, when given, is the address the request asked for (`?user=`): a row of another wallet is
    rejected as `wallet_mismatch` rather than attributed to the wrong whale. `source` labels the trade:
    RTDS trade payloads carry the same camelCase fields and are parsed here too.
    """
    try:
        return _parse(row, received_at, wallet, source)
    except _Rejected as rejected:
        return rejected.reject


def _parse(row: object, received_at: datetime, wallet: str | None, source: Source) -> WhaleTrade:
    if not isinstance(row, Mapping):
        raise _Rejected(RejectReason.NOT_AN_OBJECT, f"row is a {type(row).__name__}")
    tx_hash, owner, token_id, side = _identity_fields(row)
    if not tx_hash:
        raise _Rejected(RejectReason.MISSING_TX_HASH, "no transactionHash")
    _matching(tx_hash, _HASH32, RejectReason.MALFORMED_TX_HASH, "transaction hash")
    _matching(owner, _ADDRESS, RejectReason.MALFORMED_WALLET, "wallet")
    if wallet is not None and owner != wallet.lower():
        raise _Rejected(RejectReason.WALLET_MISMATCH, f"row of {owner} in the answer for {wallet.lower()}")
    if side not in ("BUY", "SELL"):
        raise _Rejected(RejectReason.UNKNOWN_SIDE, f"side {row.get('side')!r}")
    _matching(token_id, _TOKEN_ID, RejectReason.MALFORMED_TOKEN_ID, "token id", lower=False)
    condition_id = _matching(
        _field(row, "conditionId", "condition_id"), _HASH32, RejectReason.MALFORMED_CONDITION_ID, "condition id"
    )
    price = _number(row.get("price"), RejectReason.MALFORMED_PRICE, "price")
    if not ZERO < price < ONE:
        raise _Rejected(RejectReason.PRICE_OUT_OF_RANGE, f"price {price} outside (0, 1)")
    size = _number(row.get("size"), RejectReason.MALFORMED_SIZE, "size")
    if size <= ZERO:
        raise _Rejected(RejectReason.NON_POSITIVE_SIZE, f"size {size}")
    if size > MAX_SHARES:
        raise _Rejected(RejectReason.IMPLAUSIBLE_SIZE, f"size {size} shares")
    timestamp = epoch_seconds(row.get("timestamp"))
    if timestamp is None:
        raise _Rejected(RejectReason.MALFORMED_TIMESTAMP, f"timestamp {row.get('timestamp')!r}")
    outcome = row.get("outcome")
    try:
        return WhaleTrade.create(
            wallet=owner,
            side=side,
            token_id=token_id,
            condition_id=condition_id,
            outcome=(outcome.strip() or None) if isinstance(outcome, str) else None,
            outcome_index=_outcome_index(_field(row, "outcomeIndex", "outcome_index")),
            price=price,
            size=size,
            timestamp=datetime.fromtimestamp(timestamp, tz=UTC),
            tx_hash=tx_hash,
            source=source,
            detected_at=received_at,
        )
    except ValidationError as exc:
        raise _Rejected(RejectReason.INVALID_TRADE, str(exc.errors()[0]["msg"])) from None


def merge_legs(trades: Sequence[WhaleTrade]) -> list[WhaleTrade]:
    """Trades with the same canonical key are legs of one fill: sum the sizes, size-weighted mean price.

    A wallet whose several resting orders on one token and side fill in one settlement transaction gets
    one Data API row per order; the canonical trade is their sum (see `copytrader.model.trade_key`). Merge
    only rows whose exact repeats are gone (`row_content_identity`, as `trades_since` does across its pages):
    equal rows on two pages are a page-boundary repeat, not two legs.
    The mean price is rounded to 1e-6 (finer than any tick) within the legs' price range. Order of first
    appearance is kept.
    """
    legs: dict[str, list[WhaleTrade]] = {}
    for trade in trades:
        legs.setdefault(trade.key, []).append(trade)
    merged: list[WhaleTrade] = []
    for group in legs.values():
        first = group[0]
        if len(group) == 1:
            merged.append(first)
            continue
        size = sum((t.size for t in group), ZERO)
        mean = (sum((t.price * t.size for t in group), ZERO) / size).quantize(MICRO)
        price = min(max(mean, min(t.price for t in group)), max(t.price for t in group))  # stays inside (0, 1)
        merged.append(first.model_copy(update={"size": canonical(size), "price": canonical(price)}))
    return merged


# ------------------------------------------------------------------------------------------------ rate limiting


class SlidingWindowLimiter:
    """At most `limit` requests in any window of `window_s` seconds, across every task sharing it.

    The grant times of the last `limit` requests are kept; request number n+limit waits until request n
    is `window_s` old. Waiters are served in arrival order (one lock). Clock and sleep are injected so the
    property "never more than `limit` in any window" is tested on a virtual clock.
    """

    def __init__(
        self,
        limit: int = TRADES_RATE_LIMIT,
        window_s: float = TRADES_RATE_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("the limiter needs limit >= 1 and window_s > 0")
        self.limit, self.window_s = limit, window_s
        self._clock, self._sleep = clock, sleep
        self._grants: deque[float] = deque(maxlen=limit)
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def reserve(self, now: float) -> float:
        """Grant a request at `now` and return 0, or return how long to wait before asking again.

        A grant needs `now - oldest >= window_s` for the oldest of the last `limit` grants. Waits are at
        least 1 ms, so a clock that has not quite reached the boundary (float rounding) still moves on.
        """
        wait = self._paused_until - now
        if len(self._grants) == self.limit:
            wait = max(wait, self.window_s - (now - self._grants[0]))
        if wait > 0:
            return max(wait, MIN_WAIT_S)
        self._grants.append(now)
        return 0.0

    def pause(self, seconds: float) -> None:
        """Hold every request for `seconds` (the server said 429: its window is fuller than ours)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.reserve(self._clock())) > 0:
                await self._sleep(wait)


# ------------------------------------------------------------------------------------------------------- client


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
        base = min(self._max_backoff_s, self._backoff_s * 2.0**attempt)
        return base / 2 + self._jitter() * base / 2

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
