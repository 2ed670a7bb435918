"""`copytrader demo`: a simulated trading day through the real copy pipeline on local AWS (copytrader.local.demo)."""

from __future__ import annotations

import argparse
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
    demo.set_defaults(run=run)


def _progress(items: Iterable[T], total: int) -> Iterable[T]:
    from tqdm import tqdm

    bar: Iterable[T] = tqdm(items, total=total, desc="simulated day", unit="event", file=sys.stderr, dynamic_ncols=True)
    return bar


def run(args: argparse.Namespace) -> int:
    from copytrader.local.demo import DEFAULT_SEED, run_demo
    from copytrader.local.report import render_summary

    seed = DEFAULT_SEED if args.seed is None else args.seed
    result, path = run_demo(seed=seed, out_dir=Path(args.out), progress=None if args.quiet else _progress)
    print(render_summary(result, path))
    return 0
