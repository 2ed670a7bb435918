"""The books workflow's steps (`definition.asl.json`): settle resolved markets, audit the account, sync with the venue.

Each takes the event Step Functions sends and returns a `StepResult` (output, and the counts its handler turns into
metrics). EventBridge Scheduler starts the workflow hourly; `copytrader audit` runs `audit_report` by hand.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from copytrader.errors import CopyTraderError, TransientError, UpstreamError
from copytrader.model import Market
from copytrader.money import ZERO, canonical
from copytrader.risk import audit as invariants
from copytrader.runtime.observability import StepResult
from copytrader.settings import Mode
from copytrader.store.account.snapshot import read_books
from copytrader.store.redemptions import Redemptions
from copytrader.workflows.books.live_redeem import LiveRedeemer, LiveRedemptions
from copytrader.workflows.books.venue import sync_report
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

    Live mode with a redemption sender and a chain endpoint redeems on chain (`live_redeem.LiveRedeemer`: one
    verified transaction per market, one ledger entry per transaction; a market resolved to 0 is closed without
    one); its outcomes are counted by name. A market with a SELL not yet settled waits (`awaiting_sell`).
    """
    held = _held_markets(deps)
    resolved = redeemed = awaiting = unavailable = 0
    payout, pnl = ZERO, ZERO
    built: list[LiveRedeemer | None] = []  # the sender is built at the first resolved market, not before
    on_chain = LiveRedemptions()
    for condition_id in held:
        market = _market(deps, condition_id)
        if market is None:
            unavailable += 1
            continue
        if not market.resolved:
            continue
        resolved += 1
        if deps.settings.mode is Mode.LIVE:
            if not built:
                built.append(live_redeemer(deps))
            live = built[0]
            if live is None:
                awaiting += 1
            elif deps.account.settlements.unsettled_sells({t.token_id for t in market.tokens}):
                on_chain.counts["awaiting_sell"] += 1
            else:
                try:
                    live.redeem(market, on_chain)
                except (CopyTraderError, LookupError, OSError):  # a read failed or a run raced: the next run resumes
                    on_chain.counts["redemption_error"] += 1
            continue
        for done in deps.account.settlements.redeem(market, deps.clock()):
            redeemed += 1
            payout += done.payout
            pnl += done.pnl
    redeemed += on_chain.counts["redeemed"] + on_chain.counts["redeemed_lost"]
    payout, pnl = payout + on_chain.payout, pnl + on_chain.pnl
    if redeemed:
        deps.account.breakers.after_settlement(deps.settings.risk, deps.alerts, deps.clock())
    marked = mark_account(deps)  # every run: the halts on marked equity, and the dashboard's figures
    counts = {
        **on_chain.counts,
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


def live_redeemer(deps: Deps) -> LiveRedeemer | None:
    """The on-chain redeemer, when live mode has both its sender factory and a chain endpoint; else None."""
    if deps.redemption_sender is None or deps.chain is None:
        return None
    intents, sender = Redemptions(deps.account.items), deps.redemption_sender()
    return LiveRedeemer(deps.account.settlements, intents, deps.chain, sender, deps.alerts, deps.clock)


def venue_sync(event: dict[str, Any], deps: Deps) -> StepResult:
    """Compare our positions and cash with the venue's and the chain's (`venue.sync_report`); a failed or partial read
    is `venue_sync_failed` (alarmed), each difference is counted (`differences`, alarmed) and sent as an alert with
    its figures. Nothing is corrected. Paper mode: skipped, with the reason."""
    report = sync_report(deps)
    if isinstance(report, str):
        return StepResult({"skipped": report}, {"skipped": 1.0})
    output = {
        "ok": report.ok,
        "failures": list(report.failures),
        "differences": [d.as_dict() for d in report.differences],
        "figures": report.figures,
    }
    if not report.ok:
        deps.alerts.send("copytrader: venue sync " + ("failed" if report.failures else "differs"), output)
    failed = 1.0 if report.failures else 0.0
    return StepResult(output, {"differences": float(len(report.differences)), "failed": failed, "skipped": 0.0})


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
