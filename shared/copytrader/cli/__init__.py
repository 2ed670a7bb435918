"""The `copytrader` command (a developer's and operator's tool: not shipped to Lambda).

copytrader demo [--seed N] [--out DIR]     a simulated trading day through the real pipeline (local AWS)
copytrader settings [--file F]             validate and print the effective settings
copytrader risk status|kill-switch on|off|reset-breaker|reset-drawdown       the account's risk controls
copytrader preflight [--file F] [--secret ID]   live checks: geoblock, CLOB version, credentials; funds for one max copy
copytrader reconcile [--file F] [--limit N]     the sweep: settle UNKNOWN orders, free orphan reservations
copytrader audit [--file F] [--json] [--venue]  check every invariant of the account's books; exit 1 on a violation
                                                (--venue: also compare with the venue and the chain, live)
copytrader normalize --source chain|rtds|data-api FILE [--markets F]   recorded feed input -> WhaleTrades
copytrader fetch (--wallets F | --discover) --out-trades F --out-markets F
                                           whale candidates, their Data API history and Gamma markets
copytrader score --trades F --markets F [--activity F] [--json OUT] | --simulate [--wallets N --skilled K]
                                           rank whales: calibrated edge, FDR, shrinkage, Deflated Sharpe

One module per command (or group of commands), each with its `add_parser` and the function it runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from copytrader.cli import demo, fetch, normalize, operator, score


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copytrader", description="Polymarket copy-trader")
    commands = parser.add_subparsers(dest="command", required=True)
    demo.add_parser(commands)
    operator.add_parsers(commands)
    normalize.add_parser(commands)
    fetch.add_parser(commands)
    score.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args: Any = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
