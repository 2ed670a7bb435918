"""`copytrader fetch`: its arguments, the plan from the options, the cache from its location, the files it writes
and the summary it prints (the flows themselves are in copytrader.discovery)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

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


# ------------------------------------------------------------------------------------------------ the command
def _http_url(value: str) -> str:
    """An http(s) base URL; the error never repeats the value (it may carry proxy credentials)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError("expected an http(s) URL (value not shown: it may hold credentials)")
    return value.rstrip("/")


def _usdc(value: str) -> Decimal:
    from copytrader.money import to_decimal

    try:
        amount = to_decimal(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a pUSD amount: {value!r}") from None
    if amount < 0:
        raise argparse.ArgumentTypeError("the large-trade threshold cannot be negative")
    return amount


def run(args: argparse.Namespace) -> int:
    """Discover or read wallets, fetch their history and markets, write the files `copytrader score` reads."""
    import asyncio
    import logging
    import sqlite3

    from copytrader.discovery.gamma_markets import GAMMA_URL
    from copytrader.discovery.run import connect, no_progress, run_fetch
    from copytrader.errors import CopyTraderError
    from copytrader.polymarket.data_api import DATA_API_URL

    for name in ("httpx", "httpcore"):  # httpx logs each request URL (with any credentials in it) at INFO
        logging.getLogger(name).setLevel(logging.WARNING)

    def optional(value: str | None) -> Path | None:
        return Path(value) if value else None

    outputs = Outputs(
        trades=Path(args.out_trades),
        markets=Path(args.out_markets),
        activity=optional(args.out_activity),
        positions=optional(args.out_positions),
        closed_positions=optional(args.out_closed_positions),
        report=optional(args.out_report),
    )
    try:
        plan = fetch_plan(
            outputs,
            wallets_file=Path(args.wallets) if args.wallets else None,
            categories=args.categories,
            periods=args.periods,
            order_bys=args.order_by,
            depth=args.depth,
            large_trade_usdc=args.large_trade_usdc,
            large_trade_limit=args.large_trade_limit,
            max_rows=args.max_rows or None,
            concurrency=args.concurrency,
        )
        cache = open_cache(args.cache, disabled=args.no_cache)
    except (OSError, ValueError) as exc:
        print(f"copytrader fetch: {exc}", file=sys.stderr)
        return 2

    def bar(description: str, total: int) -> Any:
        from tqdm import tqdm

        return tqdm(total=total, desc=description, unit="", file=sys.stderr, dynamic_ncols=True, leave=False)

    async def work() -> Any:
        async with connect(args.base_url or DATA_API_URL, args.gamma_url or GAMMA_URL) as readers:
            return await run_fetch(plan, readers, cache=cache, progress=no_progress if args.quiet else bar)

    try:
        result = asyncio.run(work())
    except (CopyTraderError, OSError, sqlite3.Error) as exc:  # their messages name paths, never base URLs
        print(f"copytrader fetch: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(summary(result, write_outputs(result, outputs)), file=sys.stderr)
    return 0 if result.complete else 1


def add_parser(commands: Any) -> None:
    from copytrader.discovery import defaults
    from copytrader.discovery.leaderboard import CATEGORIES, MAX_DEPTH, ORDER_BYS, PERIODS

    fetch = commands.add_parser(
        "fetch",
        help="whale candidates, their Data API history and the Gamma markets they traded",
        description="Writes exactly what `copytrader score --trades F --markets F [--activity F]` reads. A row file "
        "named *.jsonl is written as JSON lines, any other (and the markets file) as a JSON array. Exit code 1: some "
        "request failed for good (the files are still written; --out-report says which parts are incomplete).",
    )
    source = fetch.add_mutually_exclusive_group(required=True)
    source.add_argument("--wallets", metavar="FILE", help="wallet addresses: one per line, or a JSON array")
    source.add_argument("--discover", action="store_true", help="candidates from leaderboards and large trades")
    for flag, choices, default in (
        ("--categories", CATEGORIES, defaults.DEFAULT_CATEGORIES),
        ("--periods", PERIODS, defaults.DEFAULT_PERIODS),
        ("--order-by", ORDER_BYS, defaults.DEFAULT_ORDER_BYS),
    ):
        fetch.add_argument(
            flag, nargs="+", choices=choices, default=list(default), metavar="X",
            help=f"leaderboard {flag[2:]}: {' '.join(choices)} (default {' '.join(default)})",
        )  # fmt: skip
    fetch.add_argument(
        "--depth",
        type=int,
        default=defaults.DEFAULT_DEPTH,
        help=f"rows per ranking, 1 to {MAX_DEPTH} (default %(default)s)",
    )
    fetch.add_argument(
        "--large-trade-usdc", type=_usdc, metavar="X", help="also take the takers of fills worth at least X pUSD"
    )
    fetch.add_argument(
        "--large-trade-limit", type=int, default=defaults.DEFAULT_LARGE_TRADE_LIMIT, metavar="N",
        help="newest large fills read (default %(default)s)",
    )  # fmt: skip
    fetch.add_argument("--out-trades", required=True, metavar="FILE", help="Data API /trades rows as received")
    fetch.add_argument(
        "--out-markets",
        required=True,
        metavar="FILE",
        help="Gamma markets those trades and activity touch (JSON array)",
    )
    fetch.add_argument("--out-activity", metavar="FILE", help="also fetch and write /activity rows")
    fetch.add_argument("--out-positions", metavar="FILE", help="also fetch and write /positions rows")
    fetch.add_argument("--out-closed-positions", metavar="FILE", help="also fetch and write /closed-positions rows")
    fetch.add_argument("--out-report", metavar="FILE", help="JSON: candidates, per-part completeness, markets")
    cache = fetch.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache", metavar="PATH", help="SQLite file or s3://bucket/prefix (default ~/.cache/copytrader)"
    )
    cache.add_argument("--no-cache", action="store_true", help="read everything, keep nothing")
    fetch.add_argument(
        "--max-rows", type=int, default=defaults.DEFAULT_MAX_ROWS, metavar="N",
        help="rows per wallet and endpoint (default %(default)s; 0: no cap)",
    )  # fmt: skip
    fetch.add_argument(
        "--concurrency", type=int, default=defaults.DEFAULT_CONCURRENCY, metavar="N",
        help="wallets fetched at once; the request rates stay the documented ones (default %(default)s)",
    )  # fmt: skip
    fetch.add_argument("--base-url", type=_http_url, metavar="URL", help="Data API base URL (default: the public one)")
    fetch.add_argument("--gamma-url", type=_http_url, metavar="URL", help="Gamma base URL (default: the public one)")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars")
    fetch.set_defaults(run=run)
