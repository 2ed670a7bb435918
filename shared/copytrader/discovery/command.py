"""`copytrader fetch` behind its argument parser: the plan from the options, the cache from its location,
the files it writes and the summary it prints. `copytrader.cli` only parses arguments and calls these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.cache_s3 import S3CacheStore, parse_s3_url
from copytrader.discovery.cache_sqlite import SqliteCacheStore
from copytrader.discovery.discover import DiscoveryPlan, leaderboard_queries
from copytrader.discovery.endpoints import Endpoint
from copytrader.discovery.files import read_wallets, write_document, write_records
from copytrader.discovery.histories import HistoryPlan
from copytrader.discovery.run import FetchPlan, FetchResult


@dataclass(frozen=True)
class Outputs:
    trades: Path
    markets: Path
    activity: Path | None = None
    positions: Path | None = None
    closed_positions: Path | None = None
    report: Path | None = None

    def by_endpoint(self) -> dict[Endpoint, Path]:
        """The row files to write, by the endpoint whose rows they hold (the trades always)."""
        files = {
            Endpoint.TRADES: self.trades,
            Endpoint.ACTIVITY: self.activity,
            Endpoint.POSITIONS: self.positions,
            Endpoint.CLOSED_POSITIONS: self.closed_positions,
        }
        return {endpoint: path for endpoint, path in files.items() if path is not None}


def fetch_plan(
    outputs: Outputs,
    *,
    wallets_file: Path | None,
    categories: Sequence[str],
    periods: Sequence[str],
    order_bys: Sequence[str],
    depth: int,
    large_trade_usdc: Decimal | None,
    large_trade_limit: int,
    max_rows: int | None,
    concurrency: int,
) -> FetchPlan:
    """The wallets of `wallets_file`, or discovery; only the endpoints whose rows are written are read.
    Raises ValueError (a malformed wallet, an option out of range) or OSError (an unreadable file)."""
    history = HistoryPlan(endpoints=tuple(outputs.by_endpoint()), max_rows=max_rows, concurrency=concurrency)
    if wallets_file is not None:
        return FetchPlan(wallets=tuple(read_wallets(wallets_file)), history=history)
    discovery = DiscoveryPlan(
        queries=tuple(leaderboard_queries(categories, periods, order_bys)),
        depth=depth,
        large_trade_usdc=large_trade_usdc,
        large_trade_limit=large_trade_limit,
    )
    return FetchPlan(discovery=discovery, history=history)


def open_cache(location: str | None, *, disabled: bool = False) -> DiscoveryCache | None:
    """`s3://bucket/prefix`, a SQLite file path, or None for the default SQLite file; None when disabled."""
    if disabled:
        return None
    if location is not None and location.startswith("s3://"):
        return DiscoveryCache(S3CacheStore(*parse_s3_url(location)))
    return DiscoveryCache(SqliteCacheStore(location))


def write_outputs(result: FetchResult, outputs: Outputs) -> dict[str, int]:
    """Write every requested file; returns how many records went into each row file."""
    written = {
        endpoint.value: write_records(path, result.rows(endpoint)) for endpoint, path in outputs.by_endpoint().items()
    }
    written["markets"] = write_records(outputs.markets, result.markets.markets(), json_lines=False)
    if outputs.report is not None:
        write_document(outputs.report, result.report())
    return written


def summary(result: FetchResult, written: dict[str, int]) -> str:
    """What an operator needs to read: counts, skips, every incomplete part and every unknown market."""
    lines = [f"{len(result.histories)} wallets; wrote " + ", ".join(f"{n} {what}" for what, n in written.items())]
    if result.discovery is not None:
        skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(result.discovery.skipped.items()))
        lines.append(f"{len(result.discovery.candidates)} candidates" + (f" (skipped: {skipped})" if skipped else ""))
        lines.extend(f"failed: {failure}" for failure in result.discovery.failures)
    for history in result.histories:
        for part in history.parts.values():
            if not part.complete:
                lines.append(f"{history.wallet} {part.endpoint.value}: {part.completion.value} {part.detail}".rstrip())
    markets = result.markets
    if markets.missing:
        lines.append(f"{len(markets.missing)} condition ids unknown to Gamma: {' '.join(markets.missing)}")
    if markets.failed:
        lines.append(f"{len(markets.failed)} condition ids not looked up: {'; '.join(markets.errors)}")
    if not result.complete:
        lines.append("incomplete: some requests failed after their retries (see above); exit code 1")
    return "\n".join(lines)
