"""The `copytrader` command.

copytrader demo [--seed N] [--out DIR]     a simulated trading day through the real pipeline (local AWS)
copytrader settings [--file F]             validate and print the effective settings
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
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
    state = store.state(now)
    print(json.dumps(state.model_dump(mode="json"), indent=2))
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
    risk = commands.add_parser("risk", help="show the risk state, flip the kill switch, reset the loss breaker")
    risk.add_argument("action", choices=["status", "kill-switch", "reset-breaker"])
    risk.add_argument("value", nargs="?", choices=["on", "off"], help="for kill-switch")
    risk.set_defaults(run=_risk)
    norm = commands.add_parser("normalize", help="recorded feed input -> canonical WhaleTrades as JSON lines")
    norm.add_argument("--source", required=True, choices=["chain", "rtds", "data-api"], help="what the file holds")
    norm.add_argument("file", help="Data API rows (JSON array, JSON lines, CSV), RTDS frames or RPC logs (JSON lines)")
    norm.add_argument("--markets", help="Gamma market objects (JSON array) to resolve chain logs' token ids")
    norm.set_defaults(run=_normalize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args: Any = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
