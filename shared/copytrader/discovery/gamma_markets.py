"""Gamma markets by condition id, in batches (REFERENCE.md section e), with the discovery cache.

How Gamma takes a list of condition ids, and what was found out about it (search of public documents,
2026-11; none of it is in Polymarket's prose docs, so each point is chosen on the safe side):
- Repeated parameters, `condition_ids=0x..&condition_ids=0x..`. Gamma's OpenAPI description declares
  `condition_ids` on `GET /markets` as a query parameter of type array with no `style`/`explode`, which
  in OpenAPI 3 means form style, exploded: one `condition_ids=` per id (copy of the spec in
  github.com/CrispyyBaconx/pmxt, core/src/exchanges/polymarket/api-gamma.ts, generated from
  PolymarketGammaAPI.yaml). NautilusTrader's Gamma client sends them repeated
  (github.com/nautechsystems/nautilus_trader, crates/adapters/polymarket/src/http/gamma.rs,
  `insert_repeated_param(.., "condition_ids", ..)`). Some third-party scripts send a comma list; the
  repeated form is the documented one.
- At most 100 ids per request: "condition_ids= accepts at most 100 IDs per request" (NautilusTrader,
  same file, module docs; nautilustrader.io/docs/rust-api-latest/nautilus_polymarket/http/gamma). A
  condition id is 66 characters, so 100 repeated ids make an 8 KB URL, at CloudFront's limit; batches
  here hold 50 (`DEFAULT_BATCH`), about 4 KB.
- The page size: `GET /markets` is offset-paged with a `limit`; third-party code reports a default page
  of 20, so every request sends `limit` = the batch size (one market per condition id).
- `closed`: a third-party client reports that `/markets` lookups by id inherit a `closed=false` default
  and drop closed markets (docs.rs/polyoxide-gamma, `Markets::get_many`), and a Polymarket CLI issue
  reports `/events` defaulting the other way (github.com/Polymarket/polymarket-cli issue 71). So ids a
  plain lookup does not return are asked again with `closed=true`, then `closed=false`; an id none of
  the three returns is reported missing, never invented.
- Rate: `/markets` allows 300 requests per 10 s (docs.polymarket.com/api-reference/rate-limits).

Markets are kept raw (the scorer parses them with `copytrader.polymarket.gamma.market_from_gamma`).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.rows import as_rows
from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.data_api.client import DataApiClient, QueryValue
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter

GAMMA_URL = "https://gamma-api.polymarket.com"
MARKETS_PATH = "/markets"
MARKETS_RATE_LIMIT = 300  # requests per 10 s
MAX_IDS_PER_REQUEST = 100
DEFAULT_BATCH = 50
CLOSED_PASSES: tuple[str | None, ...] = (None, "true", "false")  # no filter, then each explicit value

_CONDITION_ID = re.compile(r"^0x[0-9a-f]{64}$")


def condition_id(value: object) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if _CONDITION_ID.match(text) else None


def condition_ids_of(rows: Iterable[object]) -> list[str]:
    """The distinct well-formed condition ids of Data API rows (v1 `conditionId` or v2 `condition_id`), sorted."""
    found: set[str] = set()
    for row in rows:
        if isinstance(row, Mapping):
            cid = condition_id(row.get("conditionId") or row.get("condition_id"))
            if cid is not None:
                found.add(cid)
    return sorted(found)


def batches(ids: Sequence[str], size: int = DEFAULT_BATCH) -> list[list[str]]:
    if not 1 <= size <= MAX_IDS_PER_REQUEST:
        raise ValueError(f"a Gamma batch holds 1 to {MAX_IDS_PER_REQUEST} condition ids, not {size}")
    return [list(ids[start : start + size]) for start in range(0, len(ids), size)]


def markets_params(ids: Sequence[str], closed: str | None) -> dict[str, QueryValue]:
    params: dict[str, QueryValue] = {"condition_ids": list(ids), "limit": len(ids)}
    if closed is not None:
        params["closed"] = closed
    return params


def index_markets(rows: Iterable[object], wanted: set[str]) -> tuple[dict[str, dict[str, Any]], Counter[str]]:
    """Gamma market objects by condition id, only for `wanted` ids; the others counted by reason."""
    found: dict[str, dict[str, Any]] = {}
    skipped: Counter[str] = Counter()
    for row in rows:
        if not isinstance(row, dict) or (cid := condition_id(row.get("conditionId"))) is None:
            skipped["malformed_market"] += 1
        elif cid not in wanted:
            skipped["not_requested"] += 1
        else:
            found.setdefault(cid, row)
    return found, skipped


@dataclass
class MarketLookup:
    """What a look-up found: raw markets by condition id, ids Gamma does not know, ids whose requests failed."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    from_cache: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    @property
    def complete(self) -> bool:
        return not self.failed

    def markets(self) -> list[dict[str, Any]]:
        """The raw markets ordered by condition id."""
        return [self.found[cid] for cid in sorted(self.found)]

    def summary(self) -> dict[str, Any]:
        return {
            "found": len(self.found),
            "from_cache": self.from_cache,
            "requests": self.requests,
            "missing": self.missing,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": dict(sorted(self.skipped.items())),
        }


class GammaMarketReader:
    """`GET /markets?condition_ids=...` in batches, on the shared client's retries, under Gamma's limit."""

    def __init__(self, client: DataApiClient, limiter: SlidingWindowLimiter, batch_size: int = DEFAULT_BATCH) -> None:
        batches([], batch_size)  # validates the size
        self._client, self._limiter, self.batch_size = client, limiter, batch_size

    async def _ask(self, ids: Sequence[str], closed: str | None, lookup: MarketLookup) -> dict[str, dict[str, Any]]:
        body = await self._client.get_json(MARKETS_PATH, markets_params(ids, closed), limiters=(self._limiter,))
        lookup.requests += 1
        rows = as_rows(body)
        if rows is None:
            raise UpstreamError(f"GET {MARKETS_PATH}: expected a JSON list, got {type(body).__name__}")
        found, skipped = index_markets(rows, set(ids))
        lookup.skipped.update(skipped)
        return found

    async def batch(self, ids: Sequence[str], lookup: MarketLookup) -> None:
        """Look up one batch into `lookup`: the plain query, then the still-missing ids per `closed` value."""
        pending = list(ids)
        try:
            for closed in CLOSED_PASSES:
                found = await self._ask(pending, closed, lookup)
                lookup.found.update(found)
                pending = [cid for cid in pending if cid not in found]
                if not pending:
                    return
        except (TransientError, UpstreamError) as exc:
            lookup.failed.extend(pending)
            lookup.errors.append(str(exc))
            return
        lookup.missing.extend(pending)


async def lookup_markets(
    reader: GammaMarketReader,
    condition_ids: Sequence[str],
    *,
    cache: DiscoveryCache | None = None,
    now: Callable[[], datetime],
    on_progress: Callable[[int], object] | None = None,
    concurrency: int = 4,
) -> MarketLookup:
    """Raw Gamma markets for `condition_ids`: fresh cached ones first, the rest from Gamma (then cached).

    `on_progress(n)` is called as ids are settled (from the cache, then batch by batch).
    """
    wanted = sorted({cid for value in condition_ids if (cid := condition_id(value)) is not None})
    lookup = MarketLookup()
    malformed = sum(1 for value in set(condition_ids) if condition_id(value) is None)
    if malformed:
        lookup.skipped["malformed_condition_id"] = malformed
    if cache is not None:
        cached = await asyncio.to_thread(cache.markets, wanted, now())
        lookup.found.update(cached)
        lookup.from_cache = len(cached)
        if on_progress is not None:
            on_progress(len(cached))
    to_fetch = [cid for cid in wanted if cid not in lookup.found]
    before = set(lookup.found)
    gate = asyncio.Semaphore(concurrency)

    async def one(batch: list[str]) -> None:
        async with gate:
            await reader.batch(batch, lookup)
        if on_progress is not None:
            on_progress(len(batch))

    await asyncio.gather(*(one(batch) for batch in batches(to_fetch, reader.batch_size)))
    if cache is not None:
        fetched = {cid: market for cid, market in lookup.found.items() if cid not in before}
        await asyncio.to_thread(cache.save_markets, fetched, now())
    lookup.missing.sort()
    lookup.failed.sort()
    lookup.errors.sort()
    return lookup
