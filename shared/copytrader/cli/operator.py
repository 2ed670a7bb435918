"""The operator's commands: `settings`, `risk`, `preflight`, `reconcile`, `audit`.

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
    parser = commands.add_parser(
        "reconcile", help="settle UNKNOWN/PENDING orders from the venue, free orphan reservations (sends nothing)"
    )
    parser.add_argument("--file", help=_SETTINGS_FILE_HELP)
    parser.add_argument("--limit", type=int, default=100, help="at most this many entries")
    parser.set_defaults(run=reconcile)
    parser = commands.add_parser("audit", help="check that every pUSD adds up (ledger, reservations, exposure, days)")
    parser.add_argument("--file", help=_SETTINGS_FILE_HELP)
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "--venue", action="store_true", help="also compare positions and cash with the venue and the chain (live)"
    )
    parser.set_defaults(run=audit)


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
    """The deployed sweep, run by hand (`workflows.copy.steps.sweep`): settle UNKNOWN / PENDING orders from the
    venue's orders and trades, give back reservations no ledger entry owns, then the breaker and drawdown checks.
    Never sends an order."""
    from datetime import UTC, datetime

    from copytrader.settings import load_settings
    from copytrader.workflows import wiring
    from copytrader.workflows.copy import steps

    settings = load_settings(path=args.file)
    deps = wiring.Deps(settings, clock=lambda: datetime.now(UTC))
    print(json.dumps(steps.sweep({"sweep": {"limit": args.limit}}, deps), indent=2))
    return 0


def audit(args: argparse.Namespace) -> int:
    """Every invariant of `copytrader.risk.audit` on the tables; exit 1 on a violation (what the hourly job runs)."""
    from datetime import UTC, datetime

    from copytrader.settings import load_settings
    from copytrader.workflows import wiring
    from copytrader.workflows.books.steps import audit_report

    deps = wiring.Deps(load_settings(path=args.file), clock=lambda: datetime.now(UTC))
    checks = audit_report(deps)
    bad = [c for c in checks if not c.ok]
    if args.json:
        print(json.dumps({"ok": not bad, "violations": [c.name for c in bad], "checks": [c.as_dict() for c in checks]}))
    else:
        print(format_checks(checks))
    return max(1 if bad else 0, audit_venue(deps, args.json) if getattr(args, "venue", False) else 0)


def audit_venue(deps: Any, as_json: bool) -> int:
    """`audit --venue`: the venue sync (`workflows.books.venue`), printed with its figures; 1 when it failed or
    found a difference (paper mode: skipped, 0)."""
    from copytrader.workflows.books.venue import sync_report

    report = sync_report(deps)
    if isinstance(report, str):
        print(json.dumps({"venue_sync": "skipped", "reason": report}) if as_json else f"venue sync skipped: {report}")
        return 0
    body = {"ok": report.ok, "failures": list(report.failures), "figures": report.figures}
    body["differences"] = [d.as_dict() for d in report.differences]
    if as_json:
        print(json.dumps({"venue_sync": body}))
    else:
        print(f"{'OK       ' if report.ok else 'VIOLATION'}  venue_sync         {json.dumps(body)}")
    return 0 if report.ok else 1


def format_checks(checks: Any) -> str:
    """One line per check: OK or VIOLATION, its name and its figures in words."""
    return "\n".join(f"{'OK       ' if c.ok else 'VIOLATION'}  {c.name:<18} {c.detail}" for c in checks)
