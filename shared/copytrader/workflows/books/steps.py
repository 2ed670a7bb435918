"""The books workflow's steps (`definition.asl.json`): settle resolved markets, then audit the account.

Each takes the event Step Functions sends and returns a `StepResult` (output, and the counts its handler turns into
metrics). EventBridge Scheduler starts the workflow hourly; `copytrader audit` runs `audit_report` by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from copytrader.errors import TransientError, UpstreamError
from copytrader.model import Market
from copytrader.money import ZERO, canonical
from copytrader.risk import audit as invariants
from copytrader.runtime.observability import StepResult
from copytrader.settings import Mode
from copytrader.store.account.snapshot import read_books
from copytrader.workflows.copy.settlement import mark_account
from copytrader.workflows.wiring import Deps


def _held_markets(deps: Deps) -> list[str]:
    """Condition ids of the account's positions holding shares, sorted."""
    return sorted({p.condition_id for p in deps.positions.all() if p.shares > 0})


def _market(deps: Deps, condition_id: str) -> Market | None:
    """The market as Gamma has it now (through the markets table, refreshed after its time-to-live); None when Gamma
    cannot say (the next run tries again)."""
    try:
        return deps.markets.get(condition_id, deps.clock())
    except (UpstreamError, TransientError, OSError, ValueError):
        return None


def settle(event: dict[str, Any], deps: Deps) -> StepResult:
    """Redeem every position held in a market that has resolved, through the account store, then the halts; then,
    every run, marked equity (`settlement.mark_account`: recorded, the halts tripped from it, and the figures
    `equity_marked`, `unrealized_pnl`, `stale_marks`, `unmarked_positions` as metrics `books_settle_<name>`).

    Idempotent per redemption: each is one transaction conditional on the position's shares, with ledger entry
    `REDEEM#<token>#<lot>`, so a second run (or a concurrent one) redeems nothing twice. In live mode nothing is
    booked here (the chain redemption is the position lifecycle's; booking it without it would put cash in the
    books that is not in the wallet): such positions are counted as `awaiting_redemption`.
    """
    held = _held_markets(deps)
    resolved = redeemed = awaiting = unavailable = 0
    payout, pnl = ZERO, ZERO
    for condition_id in held:
        market = _market(deps, condition_id)
        if market is None:
            unavailable += 1
            continue
        if not market.resolved:
            continue
        resolved += 1
        if deps.settings.mode is Mode.LIVE:
            awaiting += 1
            continue
        for done in deps.account.settlements.redeem(market, deps.clock()):
            redeemed += 1
            payout += done.payout
            pnl += done.pnl
    if redeemed:
        deps.account.breakers.after_settlement(deps.settings.risk, deps.alerts, deps.clock())
    marked = mark_account(deps)  # every run: the halts on marked equity, and the dashboard's figures
    counts = {
        "markets_held": len(held),
        "resolved": resolved,
        "redeemed": redeemed,
        "awaiting_redemption": awaiting,
        "market_unavailable": unavailable,
    }
    figures: dict[str, float] = {k: float(v) for k, v in counts.items()}
    output: dict[str, Any] = {**counts, "payout": str(canonical(payout)), "pnl": str(canonical(pnl))}
    if marked is not None:
        equity, record = marked
        halts = {"drawdown_halted": record.drawdown_halted, "breaker_tripped": record.breaker_tripped}
        output["marked"] = {**equity.as_dict(), **halts}
        figures.update(
            equity_marked=float(equity.equity),
            unrealized_pnl=float(equity.unrealized),
            stale_marks=float(equity.stale),
            unmarked_positions=float(equity.unmarked),
        )
    return StepResult(output, figures)


def audit_report(deps: Deps) -> list[invariants.Check]:
    """Every invariant of `copytrader.risk.audit` on the account's books as the tables hold them now."""
    books = read_books(deps.account.items)
    held = {p.condition_id for p in books.positions if p.shares > 0}
    resolved, unknown = set(), []
    for condition_id in sorted(held):
        market = _market(deps, condition_id)
        if market is None:
            unknown.append(condition_id)
        elif market.resolved:
            resolved.add(condition_id)
    orphan_after = timedelta(seconds=deps.settings.risk.orphan_reservation_after_s)
    checks = invariants.audit(books, now=deps.clock(), orphan_after=orphan_after, resolved=resolved)
    if unknown:  # Gamma could not say: not a violation, but the check is incomplete and says so
        checks = [
            replace(c, detail=f"{c.detail}; {len(unknown)} markets unknown", figures={**c.figures, "unknown": unknown})
            if c.name == "resolved_settled"
            else c
            for c in checks
        ]
    return checks


def audit(event: dict[str, Any], deps: Deps) -> StepResult:
    """The audit as a step: `violations` (a count the alarm watches) and every check with its figures."""
    checks = audit_report(deps)
    bad = invariants.violations(checks)
    output = {"ok": not bad, "violations": [c.name for c in bad], "checks": [c.as_dict() for c in checks]}
    return StepResult(output, {"violations": float(len(bad)), "checks": float(len(checks))})
