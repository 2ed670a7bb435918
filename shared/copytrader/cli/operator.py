"""The operator's commands: `settings`, `risk`, `preflight`, `reconcile`.

They use the AWS credentials, region and table names of the environment, as the deployed functions do.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_SETTINGS_FILE_HELP = "a JSON settings file (else COPYTRADER_SETTINGS_FILE / environment)"


def add_parsers(commands: Any) -> None:
    parser = commands.add_parser("settings", help="validate and print the effective settings")
    parser.add_argument("--file", help=_SETTINGS_FILE_HELP)
    parser.set_defaults(run=settings)
    parser = commands.add_parser(
        "risk", help="show the risk state, flip the kill switch, reset the daily-loss breaker or the drawdown halt"
    )
    parser.add_argument("action", choices=["status", "kill-switch", "reset-breaker", "reset-drawdown"])
    parser.add_argument("value", nargs="?", choices=["on", "off"], help="for kill-switch")
    parser.set_defaults(run=risk)
    parser = commands.add_parser(
        "preflight", help="live checks: geoblock, CLOB version, credentials; balance and allowance for one max copy"
    )
    parser.add_argument("--file", help=_SETTINGS_FILE_HELP)
    parser.add_argument("--secret", help="venue secret id (default: $COPYTRADER_VENUE_SECRET_ARN)")
    parser.set_defaults(run=preflight)
    parser = commands.add_parser("reconcile", help="settle UNKNOWN/PENDING orders from the venue (sends nothing)")
    parser.add_argument("--file", help=_SETTINGS_FILE_HELP)
    parser.add_argument("--limit", type=int, default=100, help="at most this many entries")
    parser.set_defaults(run=reconcile)


def settings(args: argparse.Namespace) -> int:
    from copytrader.errors import SettingsError
    from copytrader.settings import load_settings

    try:
        settings = load_settings(path=args.file)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(settings.model_dump(mode="json"), indent=2))
    return 0


def risk(args: argparse.Namespace) -> int:
    """Operator controls. Uses the AWS credentials, region and table names of the environment."""
    from datetime import UTC, datetime

    from copytrader.settings import load_settings
    from copytrader.store.account import AccountStore

    if args.action == "kill-switch" and args.value is None:
        print("kill-switch needs 'on' or 'off'", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    store = AccountStore(load_settings().account)
    if args.action == "kill-switch":
        store.breakers.set_kill_switch(args.value == "on", now)
    elif args.action == "reset-breaker":
        store.breakers.reset_breaker(now)
    elif args.action == "reset-drawdown":
        store.breakers.reset_drawdown(now)
    state = store.reads.state(now)
    print(json.dumps({**state.model_dump(mode="json"), **store.reads.risk_status(now)}, indent=2))
    return 0


def preflight(args: argparse.Namespace) -> int:
    """Live preflight: the cold-start checks (geoblock, CLOB version, credentials) and whether the wallet's balance and
    allowance cover one maximum copy; exit 1 unless all pass."""
    from copytrader.errors import CredentialsError
    from copytrader.execution.credentials import load_credentials
    from copytrader.execution.preflight import run_preflight
    from copytrader.settings import load_settings

    settings = load_settings(path=args.file)
    try:
        credentials = load_credentials(args.secret)
    except CredentialsError as exc:
        print(json.dumps({"passed": False, "checks": [{"name": "credentials", "passed": False, "reason": str(exc)}]}))
        return 1
    report = run_preflight(settings, credentials, with_funds=True)
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.passed else 1


def reconcile(args: argparse.Namespace) -> int:
    """Settle UNKNOWN / PENDING orders from the venue's orders and trades (never sends an order)."""
    from datetime import UTC, datetime, timedelta

    from copytrader.execution.reconcile import reconcile_unresolved
    from copytrader.settings import load_settings
    from copytrader.workflows import wiring

    settings = load_settings(path=args.file)
    deps = wiring.Deps(settings, clock=lambda: datetime.now(UTC))
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
