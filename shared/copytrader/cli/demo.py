"""`copytrader demo`: a simulated trading day through the real copy pipeline on local AWS (copytrader.local.demo).

`--faults` injects the seed's fault plan (copytrader.local.faults); `--json FILE` writes the day's figures for a
machine (faults injected, audit violations, orders per fill, orders, fills, P&L), faulted or clean.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def add_parser(commands: Any) -> None:
    demo = commands.add_parser("demo", help="simulate a trading day through the copy pipeline on local AWS")
    demo.add_argument("--seed", type=int, default=None, help="simulation seed (same seed, same numbers)")
    demo.add_argument("--out", default="reports", help="folder for the HTML and JSON report")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.add_argument("--faults", action="store_true", help="inject the seed's faults; the end-of-day audit must pass")
    demo.add_argument("--json", metavar="FILE", default=None, help="write the day's figures as JSON to FILE")
    demo.set_defaults(run=run)


def _progress(items: Iterable[T], total: int) -> Iterable[T]:
    from tqdm import tqdm

    bar: Iterable[T] = tqdm(items, total=total, desc="simulated day", unit="event", file=sys.stderr, dynamic_ncols=True)
    return bar


def run(args: argparse.Namespace) -> int:
    """Run the day, print its summary and the audit (one line per check); exit 1 when the audit found a violation."""
    from copytrader.cli.operator import format_checks
    from copytrader.local.demo import DEFAULT_SEED, run_demo
    from copytrader.local.report import render_summary, summary_json
    from copytrader.risk.audit import Check

    seed = DEFAULT_SEED if args.seed is None else args.seed
    result, path = run_demo(
        seed=seed, out_dir=Path(args.out), progress=None if args.quiet else _progress, faults=args.faults
    )
    print(render_summary(result, path))
    print(format_checks([Check(**check) for check in result.audit.get("checks", [])]))
    if args.json:
        Path(args.json).write_text(json.dumps(summary_json(result), indent=2) + "\n")
    return 0 if result.audit.get("ok") else 1
