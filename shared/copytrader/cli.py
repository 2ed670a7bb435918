"""The `copytrader` command.

copytrader demo [--seed N] [--out DIR]     a simulated trading day through the real pipeline (local AWS)
copytrader settings [--file F]             validate and print the effective settings
copytrader preflight [--file F] [--secret ID]   live checks: geoblock, CLOB version, credentials, balance
copytrader reconcile [--file F] [--limit N]     settle UNKNOWN orders from the venue's orders and trades
copytrader fetch (--wallets F | --discover) --out-trades F --out-markets F
                                           whale candidates, their Data API history and Gamma markets
copytrader score --trades F --markets F [--activity F] [--json OUT] | --simulate [--wallets N --skilled K]
                                           rank whales: calibrated edge, FDR, shrinkage, Deflated Sharpe
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def _progress(items: Iterable[T], total: int) -> Iterable[T]:
    from tqdm import tqdm

    bar: Iterable[T] = tqdm(items, total=total, desc="simulated day", unit="event", file=sys.stderr, dynamic_ncols=True)
    return bar


def _demo(args: argparse.Namespace) -> int:
    from copytrader.local.demo import DEFAULT_SEED, render_summary, run_demo

    seed = DEFAULT_SEED if args.seed is None else args.seed
    result, path = run_demo(seed=seed, out_dir=Path(args.out), progress=None if args.quiet else _progress)
    print(render_summary(result, path))
    return 0


def _settings(args: argparse.Namespace) -> int:
    from copytrader.settings import SettingsError, load_settings

    try:
        settings = load_settings(path=args.file)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    return 0


def _risk(args: argparse.Namespace) -> int:
    """Operator controls. Uses the AWS credentials, region and table names of the environment."""
    from datetime import UTC, datetime

    from copytrader.settings import load_settings
    from copytrader.store.portfolio import PortfolioStore

    if args.action == "kill-switch" and args.value is None:
        print("kill-switch needs 'on' or 'off'", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    store = PortfolioStore(load_settings().account)
    if args.action == "kill-switch":
        store.set_kill_switch(args.value == "on", now)
    elif args.action == "reset-breaker":
        store.reset_breaker(now)
    elif args.action == "reset-drawdown":
        store.reset_drawdown(now)
    state = store.state(now)
    print(json.dumps({**state.model_dump(mode="json"), **store.risk_status(now)}, indent=2))
    return 0


def _preflight(args: argparse.Namespace) -> int:
    """Live preflight (geoblock, CLOB version, credentials, balance and allowance); exit 1 unless all pass."""
    from copytrader.execution.credentials import CredentialsError, load_credentials
    from copytrader.execution.preflight import run_preflight
    from copytrader.settings import load_settings

    settings = load_settings(path=args.file)
    try:
        credentials = load_credentials(args.secret)
    except CredentialsError as exc:
        print(json.dumps({"passed": False, "checks": [{"name": "credentials", "passed": False, "reason": str(exc)}]}))
        return 1
    report = run_preflight(settings, credentials)
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.passed else 1


def _reconcile(args: argparse.Namespace) -> int:
    """Settle UNKNOWN / PENDING orders from the venue's orders and trades (never sends an order)."""
    from datetime import UTC, datetime, timedelta

    from copytrader.execution.reconcile import reconcile_unresolved
    from copytrader.pipeline import deps as pipeline_deps
    from copytrader.settings import load_settings

    settings = load_settings(path=args.file)
    deps = pipeline_deps.build(settings, clock=lambda: datetime.now(UTC))
    results = reconcile_unresolved(
        deps.ledger,
        deps.venue,
        deps.clock,
        reconcile_after=timedelta(seconds=settings.venue.reconcile_after_s),
        limit=args.limit,
    )
    rows = [
        {k: r.model_dump(mode="json")[k] for k in ("idempotency_key", "status", "reason", "detail", "filled_shares")}
        for r in results
    ]
    print(json.dumps({"reconciled": rows}, indent=2))
    return 0


def _normalize(args: argparse.Namespace) -> int:
    from copytrader.normalize import as_json_line, normalize, read_records

    path = Path(args.file)
    for needed in (path, *([Path(args.markets)] if args.markets else [])):
        if not needed.exists():
            print(f"no such file: {needed}", file=sys.stderr)
            return 2
    if args.source == "chain" and not args.markets:
        print(
            "chain logs carry token ids only: pass --markets FILE (Gamma market objects) to resolve them",
            file=sys.stderr,
        )
        return 2
    trades, summary = normalize(read_records(path), _normalize_parser(args))
    for trade in trades:
        sys.stdout.write(as_json_line(trade) + "\n")
    print(summary.line(), file=sys.stderr)
    return 0


def _normalize_parser(args: argparse.Namespace) -> Any:
    from copytrader import normalize

    if args.source == "data-api":
        return normalize.data_api_parser
    if args.source == "rtds":
        return normalize.rtds_parser
    from copytrader.polymarket.tokens import TokenResolver

    markets = json.loads(Path(args.markets).read_text())
    return normalize.chain_parser(TokenResolver.from_gamma_markets(markets if isinstance(markets, list) else []))


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


def _fetch(args: argparse.Namespace) -> int:
    """Discover or read wallets, fetch their history and markets, write the files `copytrader score` reads."""
    import asyncio
    import logging
    import sqlite3

    from copytrader.discovery import command
    from copytrader.discovery.gamma_markets import GAMMA_URL
    from copytrader.discovery.run import connect, no_progress, run_fetch
    from copytrader.errors import CopyTraderError
    from copytrader.polymarket.data_api import DATA_API_URL

    for name in ("httpx", "httpcore"):  # httpx logs each request URL (with any credentials in it) at INFO
        logging.getLogger(name).setLevel(logging.WARNING)

    def optional(value: str | None) -> Path | None:
        return Path(value) if value else None

    outputs = command.Outputs(
        trades=Path(args.out_trades),
        markets=Path(args.out_markets),
        activity=optional(args.out_activity),
        positions=optional(args.out_positions),
        closed_positions=optional(args.out_closed_positions),
        report=optional(args.out_report),
    )
    try:
        plan = command.fetch_plan(
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
        cache = command.open_cache(args.cache, disabled=args.no_cache)
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
    print(command.summary(result, command.write_outputs(result, outputs)), file=sys.stderr)
    return 0 if result.complete else 1


def _add_fetch(commands: Any) -> None:
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
    fetch.set_defaults(run=_fetch)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copytrader", description="Polymarket copy-trader")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="simulate a trading day through the copy pipeline on local AWS")
    demo.add_argument("--seed", type=int, default=None, help="simulation seed (same seed, same numbers)")
    demo.add_argument("--out", default="reports", help="folder for the HTML and JSON report")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(run=_demo)
    settings = commands.add_parser("settings", help="validate and print the effective settings")
    settings.add_argument("--file", help="a JSON settings file (else COPYTRADER_SETTINGS_FILE / environment)")
    settings.set_defaults(run=_settings)
    risk = commands.add_parser(
        "risk", help="show the risk state, flip the kill switch, reset the daily-loss breaker or the drawdown halt"
    )
    risk.add_argument("action", choices=["status", "kill-switch", "reset-breaker", "reset-drawdown"])
    risk.add_argument("value", nargs="?", choices=["on", "off"], help="for kill-switch")
    risk.set_defaults(run=_risk)
    preflight = commands.add_parser("preflight", help="live checks: geoblock, CLOB version, credentials, balance")
    preflight.add_argument("--file", help="a JSON settings file (else COPYTRADER_SETTINGS_FILE / environment)")
    preflight.add_argument("--secret", help="venue secret id (default: $COPYTRADER_VENUE_SECRET_ARN)")
    preflight.set_defaults(run=_preflight)
    reconcile = commands.add_parser("reconcile", help="settle UNKNOWN/PENDING orders from the venue (sends nothing)")
    reconcile.add_argument("--file", help="a JSON settings file (else COPYTRADER_SETTINGS_FILE / environment)")
    reconcile.add_argument("--limit", type=int, default=100, help="at most this many entries")
    reconcile.set_defaults(run=_reconcile)
    norm = commands.add_parser("normalize", help="recorded feed input -> canonical WhaleTrades as JSON lines")
    norm.add_argument("--source", required=True, choices=["chain", "rtds", "data-api"], help="what the file holds")
    norm.add_argument("file", help="Data API rows (JSON array, JSON lines, CSV), RTDS frames or RPC logs (JSON lines)")
    norm.add_argument("--markets", help="Gamma market objects (JSON array) to resolve chain logs' token ids")
    norm.set_defaults(run=_normalize)
    _add_fetch(commands)
    from copytrader.scoring.command import add_parser as add_score

    add_score(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args: Any = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
