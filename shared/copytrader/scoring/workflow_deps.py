"""What the scoring workflow's steps need, built once per process from the environment (`current()`).

- `runs`: JSON documents under the scoring bucket (`S3RunStore`; `MemoryRunStore` for tests);
- `cache`: the discovery cache on S3 under `cache/` (`copytrader.discovery.cache_s3`), built on first use;
- `whales`, `settings` (alerts are published by the state machine, not by a step);
- `readers()`: Data API and Gamma readers whose limiters hold one Map child's share of the documented rates
  (`copytrader.scoring.workflow.child_rate`). `copytrader.discovery.run.connect` builds the same readers with
  the full documented limits, which is right for one process alone; `connect_readers` here is a thin adapter
  that differs only in the limits and otherwise reuses discovery's clients.

The discovery modules are imported inside the functions that use them, so that building the dependencies
costs Select nothing it does not use (every function ships httpx: the scoring engine's row parsers import it).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from copytrader import runtime_env
from copytrader.model import WhaleProfile
from copytrader.scoring import workflow
from copytrader.settings import Settings, load_settings

if TYPE_CHECKING:
    import httpx

    from copytrader.discovery.cache import DiscoveryCache
    from copytrader.discovery.run import Readers

DATA_API_URL = "https://data-api.polymarket.com"  # the same as copytrader.polymarket.data_api.DATA_API_URL
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


def utc_now() -> datetime:
    return datetime.now(UTC)


class RunStore(Protocol):
    """JSON documents by key (a missing key reads as None)."""

    def put_json(self, key: str, document: Any) -> None: ...

    def get_json(self, key: str) -> Any | None: ...

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]: ...


class WhaleTable(Protocol):
    def all(self) -> list[WhaleProfile]: ...

    def put_many(self, profiles: Sequence[WhaleProfile], now: datetime) -> int: ...


def dumps(document: Any) -> bytes:
    """Compact JSON; numpy scalars as Python numbers; NaN and infinities as null (JSON has neither)."""
    return json.dumps(_finite(document), separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _finite(item())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class MemoryRunStore:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def put_json(self, key: str, document: Any) -> None:
        self.items[key] = dumps(document)

    def get_json(self, key: str) -> Any | None:
        body = self.items.get(key)
        return None if body is None else json.loads(body)

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]:
        return {key: json.loads(self.items[key]) for key in keys if key in self.items}


class S3RunStore:
    """One object per key in `bucket`; reads of many keys on a small thread pool (boto3 clients are thread-safe).

    A missing object reads as None; any other error (access denied, throttling) propagates.
    """

    def __init__(self, bucket: str, client: Any = None, workers: int = 16) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket, self._s3, self._workers = bucket, client, workers

    def put_json(self, key: str, document: Any) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=dumps(document), ContentType="application/json")

    def get_json(self, key: str) -> Any | None:
        from botocore.exceptions import ClientError

        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise
        return json.loads(response["Body"].read())

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(keys))) as pool:
            documents = list(pool.map(self.get_json, keys))
        return {key: document for key, document in zip(keys, documents, strict=True) if document is not None}


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
    from copytrader.polymarket.data_api import DataApiClient, SlidingWindowLimiter

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


class WorkflowDeps:
    """The steps' dependencies. The cache and the readers are built when first used (Select needs neither)."""

    def __init__(
        self,
        *,
        settings: Settings,
        runs: RunStore,
        whales: WhaleTable,
        readers: ReadersFactory,
        cache: Callable[[], DiscoveryCache | None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings, self.runs, self.whales = settings, runs, whales
        self.readers, self.clock = readers, clock
        self._cache = cache

    @cached_property
    def cache(self) -> DiscoveryCache | None:
        return self._cache()


def s3_cache(bucket: str, client: Any = None) -> DiscoveryCache:
    from copytrader.discovery.cache import DiscoveryCache
    from copytrader.discovery.cache_s3 import S3CacheStore

    return DiscoveryCache(S3CacheStore(bucket, workflow.CACHE_PREFIX, client=client))


def build(settings: Settings, environ: Mapping[str, str] | None = None) -> WorkflowDeps:
    """Wire the deployed adapters: the bucket and the Data API URL come from the environment."""
    env = os.environ if environ is None else environ
    bucket = env.get(runtime_env.SCORING_BUCKET)
    if not bucket:
        raise RuntimeError(f"{runtime_env.SCORING_BUCKET} is not set: the scoring workflow needs its bucket")
    import boto3

    from copytrader.store.whales import Whales

    s3 = boto3.client("s3")
    data_api_url = env.get(runtime_env.DATA_API_URL) or DATA_API_URL
    gamma_url = settings.gamma_url

    def readers() -> AbstractAsyncContextManager[Readers]:
        return connect_readers(data_api_url, gamma_url)

    return WorkflowDeps(
        settings=settings,
        runs=S3RunStore(bucket, s3),
        whales=Whales(),
        readers=readers,
        cache=lambda: s3_cache(bucket, s3),
    )


_current: WorkflowDeps | None = None


def current() -> WorkflowDeps:
    """The process's dependencies, built from the environment on first use (Lambda cold start)."""
    global _current
    if _current is None:
        _current = build(load_settings())
    return _current


def install(deps: WorkflowDeps | None) -> None:
    """Replace the process's dependencies (local mode, tests); None forgets them."""
    global _current
    _current = deps
