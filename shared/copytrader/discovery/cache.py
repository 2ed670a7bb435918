"""The discovery cache: what is kept between runs, and for how long. Storage is behind `CacheStore`.

Kept (as gzipped JSON documents, one per key):
- `history/<wallet>/<endpoint>`: a wallet's rows of one endpoint as received, the high-water timestamp
  (newest row), when they were fetched and how the read ended. A refresh reads only rows newer than the
  high-water mark minus an overlap and merges them by identity (`copytrader.discovery.history`).
- `leaderboard/<category>/<period>/<orderBy>/<offset>-<limit>`: one leaderboard page, fresh for
  `leaderboard_ttl` (default 1 h).
- `markets/<condition id>`: one raw Gamma market. A resolved market (closed, with a definite payout:
  `copytrader.polymarket.gamma.market_from_gamma(...).payouts`) is kept for good; any other market is
  fresh for `market_ttl` (default 15 min).

Nothing secret is stored: only public API rows, condition ids, wallet addresses and timestamps; never a
base URL (it may carry proxy credentials), so a cache does not know which server filled it: keep one
cache per data source. An unreadable or foreign-format document counts as absent. Times are passed in
(`now`), so freshness is tested without a clock.

`CacheStore` has a SQLite implementation for a workstation (`cache_sqlite.SqliteCacheStore`), an S3 one
for the deployed scoring workflow (`cache_s3.S3CacheStore`) and `MemoryCacheStore` for tests.
"""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from copytrader.discovery.defaults import DEFAULT_LEADERBOARD_TTL, DEFAULT_MARKET_TTL
from copytrader.discovery.endpoints import Endpoint
from copytrader.discovery.history import HistoryPart
from copytrader.discovery.leaderboard import LeaderboardQuery
from copytrader.discovery.paging import Completion
from copytrader.polymarket.data_api.rows import Row
from copytrader.polymarket.gamma import market_from_gamma

logger = logging.getLogger(__name__)

FORMAT = 1


class CacheStore(Protocol):
    """Bytes by key. Keys are `/`-separated ASCII paths; a missing key reads as None."""

    def get(self, key: str) -> bytes | None: ...

    def put(self, key: str, body: bytes) -> None: ...

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    def put_many(self, items: Mapping[str, bytes]) -> None: ...


class MemoryCacheStore:
    """A dict: for tests, and for a run that should not persist anything."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.items.get(key)

    def put(self, key: str, body: bytes) -> None:
        self.items[key] = body

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        return {key: self.items[key] for key in keys if key in self.items}

    def put_many(self, items: Mapping[str, bytes]) -> None:
        self.items.update(items)


def encode(document: Mapping[str, Any]) -> bytes:
    """Compact JSON, gzipped without a timestamp (the same document gives the same bytes)."""
    text = json.dumps({"format": FORMAT, **document}, separators=(",", ":"), sort_keys=True)
    return gzip.compress(text.encode(), mtime=0)


def decode(body: bytes | None, key: str) -> dict[str, Any] | None:
    if body is None:
        return None
    try:
        document = json.loads(gzip.decompress(body))
    except (OSError, EOFError, ValueError):
        logger.warning("unreadable cache entry ignored", extra={"key": key})
        return None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        return None
    return document


def is_resolved(market: Mapping[str, Any]) -> bool:
    """A Gamma market that is closed with a definite payout; an unusable market object is not."""
    try:
        return market_from_gamma(dict(market)).payouts is not None
    except (ValueError, KeyError, TypeError):
        return False


def history_key(wallet: str, endpoint: Endpoint) -> str:
    return f"history/{wallet.lower()}/{endpoint.value}"


def leaderboard_key(query: LeaderboardQuery, offset: int, limit: int) -> str:
    return f"leaderboard/{query.category}/{query.period}/{query.order_by}/{offset}-{limit}"


def market_key(condition_id: str) -> str:
    return f"markets/{condition_id.lower()}"


class DiscoveryCache:
    """History parts, leaderboard pages and Gamma markets over a `CacheStore`, with their freshness rules."""

    def __init__(
        self,
        store: CacheStore,
        *,
        leaderboard_ttl: timedelta = DEFAULT_LEADERBOARD_TTL,
        market_ttl: timedelta = DEFAULT_MARKET_TTL,
    ) -> None:
        self.store = store
        self.leaderboard_ttl, self.market_ttl = leaderboard_ttl, market_ttl

    # --------------------------------------------------------------------------------------- history
    def part(self, wallet: str, endpoint: Endpoint) -> HistoryPart | None:
        key = history_key(wallet, endpoint)
        document = decode(self.store.get(key), key)
        if document is None:
            return None
        try:
            return HistoryPart(
                endpoint,
                tuple(document["rows"]),
                datetime.fromisoformat(document["fetched_at"]),
                Completion(document["completion"]),
                str(document.get("detail", "")),
                cached_rows=len(document["rows"]),
            )
        except (KeyError, TypeError, ValueError):
            logger.warning("malformed cache entry ignored", extra={"key": key})
            return None

    def save_part(self, wallet: str, part: HistoryPart) -> None:
        if part.completion is Completion.REQUEST_FAILED:
            raise ValueError("a part whose read failed is not cached: the next run must read it again")
        self.store.put(
            history_key(wallet, part.endpoint),
            encode(
                {
                    "rows": list(part.rows),
                    "high_water": part.high_water,
                    "fetched_at": part.fetched_at.isoformat(),
                    "completion": part.completion.value,
                    "detail": part.detail,
                }
            ),
        )

    # ------------------------------------------------------------------------------------ leaderboard
    def leaderboard_page(self, query: LeaderboardQuery, offset: int, limit: int, now: datetime) -> list[Row] | None:
        key = leaderboard_key(query, offset, limit)
        document = decode(self.store.get(key), key)
        if document is None or not _fresh(document, now, self.leaderboard_ttl):
            return None
        rows = document.get("rows")
        return rows if isinstance(rows, list) else None

    def save_leaderboard_page(
        self, query: LeaderboardQuery, offset: int, limit: int, rows: Sequence[Row], now: datetime
    ) -> None:
        self.store.put(leaderboard_key(query, offset, limit), encode({"stored_at": now.isoformat(), "rows": rows}))

    # ---------------------------------------------------------------------------------------- markets
    def markets(self, condition_ids: Iterable[str], now: datetime) -> dict[str, dict[str, Any]]:
        """The fresh cached Gamma markets among `condition_ids`, by condition id."""
        keys = {market_key(cid): cid for cid in condition_ids}
        found: dict[str, dict[str, Any]] = {}
        for key, body in self.store.get_many(list(keys)).items():
            document = decode(body, key)
            market = document.get("market") if document is not None else None
            if document is None or not isinstance(market, dict):
                continue
            if document.get("resolved") is True or _fresh(document, now, self.market_ttl):
                found[keys[key]] = market
        return found

    def save_markets(self, markets: Mapping[str, Mapping[str, Any]], now: datetime) -> None:
        self.store.put_many(
            {
                market_key(cid): encode(
                    {"stored_at": now.isoformat(), "resolved": is_resolved(market), "market": market}
                )
                for cid, market in markets.items()
            }
        )


def _fresh(document: Mapping[str, Any], now: datetime, ttl: timedelta) -> bool:
    try:
        stored_at = datetime.fromisoformat(str(document["stored_at"]))
    except (KeyError, ValueError):
        return False
    return stored_at <= now < stored_at + ttl
