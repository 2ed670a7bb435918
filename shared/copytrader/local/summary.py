"""The demo's numbers: what the day's pipeline outputs, the orders ledger and the account say after the close.

Every figure is a function of the seed (simulated time, ids derived from it); wall-clock timings are kept apart
(`DemoResult.timing`). The outcome of a whale fill is its first answer from the pipeline, except that a copy whose
order was settled later (an ambiguous venue answer reconciled by the sweep or a redelivery, a crash after the venue
call) counts as the orders ledger finally recorded it. `describe_day` adds what the tables do not hold: the metrics, the
alerts, the sweeps and exits runs, the close and the faults' evidence.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from copytrader.copying.sizing import copy_idempotency_key
from copytrader.local import exit_summary
from copytrader.local import faults as fault_kinds
from copytrader.local.exit_summary import crash_evidence
from copytrader.local.faults import FaultPlan
from copytrader.local.injectors import Injected
from copytrader.local.report import DemoResult
from copytrader.local.timeline import Outputs
from copytrader.model import TERMINAL_STATUSES, ExecutionStatus, WhaleProfile, WhaleTrade
from copytrader.risk.rules import Scope
from copytrader.sim.world import SimWorld
from copytrader.store.orders import result_from_entry
from copytrader.store.tables import LedgerEntryModel, OrderModel, RiskStateModel
from copytrader.workflows import BOOKS, EXITS, wiring
from copytrader.workflows.copy.settlement import mark_to_market

if TYPE_CHECKING:
    from copytrader.local.demo import Day

FILLED = (ExecutionStatus.FILLED.value, ExecutionStatus.PARTIAL.value)
_SETTLED = {s.value for s in TERMINAL_STATUSES}


def settled_outcomes(states: list[dict[str, Any]], account: str, orders: dict[str, OrderModel]) -> list[dict[str, Any]]:
    """Each fill's first answer, with the result its order finally settled as when that answer was not final (an
    UNKNOWN result, or no result because the execution failed after the order was begun and the redelivery came too
    late)."""
    out = []
    for state in states:
        result = state.get("result")
        trade = (state.get("signal") or {}).get("trade")
        entry = orders.get(copy_idempotency_key(account, trade["key"])) if trade else None
        final = result is not None and ExecutionStatus(result["status"]) in TERMINAL_STATUSES
        if entry is not None and not final and entry.status in _SETTLED:
            settled = result_from_entry(entry, duplicate=False, now=entry.updated_at)
            state = {**state, "result": settled.model_dump(mode="json")}
        out.append(state)
    return out


def summarise(
    world: SimWorld,
    seed: int,
    chosen: list[WhaleProfile],
    feed: list[WhaleTrade],
    outputs: Outputs,
    feed_counts: Counter[str],
    deps: wiring.Deps,
    curve: list[tuple[str, str]],
    marked_curve: list[tuple[str, str]],
) -> DemoResult:
    orders = {entry.idempotency_key: entry for entry in OrderModel.scan()}
    entries = list(LedgerEntryModel.query(deps.settings.account))
    states = settled_outcomes(outputs.states, deps.settings.account, orders)
    duplicates = outputs.duplicates
    tracked = {p.wallet for p in chosen}
    skilled = world.skilled_addresses
    reasons = Counter[str]()
    outcomes = Counter[str]()
    copies = []
    fees = notional = shares = Decimal(0)
    slippage: list[float] = []
    for state in states:
        signal: dict[str, Any] = state["signal"]
        order, risk, result = state.get("order"), state.get("risk"), state.get("result")
        if result is not None:
            outcomes[f"executed_{result['status'].lower()}"] += 1
            if Decimal(result["filled_shares"]) > 0:
                fees += Decimal(result["fee"])
                shares += Decimal(result["filled_shares"])
                notional += Decimal(result["filled_shares"]) * Decimal(result["avg_price"])
                trade = signal["trade"]
                whale_price = Decimal(trade["price"])
                ours = Decimal(result["avg_price"])
                slippage.append(float((ours - whale_price) if trade["side"] == "BUY" else (whale_price - ours)))
                copies.append(
                    {
                        "at": trade["detected_at"],
                        "wallet": trade["wallet"],
                        "skilled": trade["wallet"] in skilled,
                        "side": trade["side"],
                        "outcome": trade.get("outcome"),
                        "whale_price": trade["price"],
                        "our_price": f"{ours:.4f}",
                        "shares": result["filled_shares"],
                        "fee": result["fee"],
                        "status": result["status"],
                    }
                )
            continue
        for step, payload in (("risk", risk), ("size", order), ("score", signal)):
            if payload is not None and payload.get("reason"):
                reasons[f"{step}: {payload['reason']}"] += 1
                outcomes[f"skipped_at_{step}"] += 1
                break
    answered_from_ledger = sum(1 for d in duplicates if (d.get("result") or {}).get("duplicate") is True)
    orders_per_fill = Counter(entry.trade_key for entry in orders.values())
    ledger = deps.positions.ledger()
    portfolio = deps.account.reads.state(deps.clock())
    cash, value = mark_to_market(deps)
    start = deps.settings.paper_bankroll
    equity = cash + value
    realized = sum((p.realized_pnl for p in deps.positions.all()), Decimal(0))
    peak, max_dd = Decimal(0), Decimal(0)
    for _, point in curve:
        level = Decimal(point)
        peak = max(peak, level)
        max_dd = max(max_dd, (peak - level) / peak if peak else Decimal(0))
    return DemoResult(
        seed=seed,
        world={
            "wallets": len(world.wallets),
            "skilled_wallets": len(skilled),
            "live_markets": len(world.markets),
            "resolved_today": len(world.resolutions),
            "trades_today_all_wallets": len(world.day_trades),
            "history_fills": int(world.history.n),
        },
        selection={
            "tracked": len(tracked),
            "truly_skilled_among_tracked": len(tracked & skilled),
            "false_discoveries": len(tracked - skilled),
            "precision": round(len(tracked & skilled) / len(tracked), 3) if tracked else None,
            "recall": round(len(tracked & skilled) / len(skilled), 3) if skilled else None,
        },
        feed={
            "whale_fills_seen": len(feed),
            "second_source_reports": feed_counts["second_source"],
            "dropped_by_listener_dedup": feed_counts["dropped_by_listener_dedup"],
            "redelivered_after_visibility_timeout": feed_counts["redelivered"],
            "redeliveries_answered_from_ledger": answered_from_ledger,
            "orders_in_ledger": sum(orders_per_fill.values()),
            "orders_filled": sum(1 for entry in orders.values() if entry.status in FILLED),
            "orders_unsettled": sum(1 for entry in orders.values() if entry.status not in _SETTLED),
            "max_orders_per_whale_fill": max(orders_per_fill.values(), default=0),
            "failed_publishes": feed_counts["failed_publish"],
            "failed_executions": feed_counts["failed_executions"],
        },
        outcomes=dict(sorted(outcomes.items())),
        reasons=dict(reasons.most_common()),
        fills={
            "copies_filled": len(copies),
            "shares": str(shares),
            "notional": f"{notional:.2f}",
            "fees": f"{fees:.5f}",
            "mean_price_gap_vs_whale": f"{(sum(slippage) / len(slippage)) if slippage else 0:.4f}",
        },
        money={
            "start_equity": f"{start:.2f}",
            "end_equity": f"{equity:.2f}",
            "pnl": f"{equity - start:.2f}",
            "return_pct": f"{(equity - start) / start * 100:.3f}",
            "realized_pnl": f"{realized:.2f}",
            "unrealized_value": f"{value:.2f}",
            "cash": f"{cash:.2f}",
            "fees": f"{fees:.2f}",
            "ledger_entries": str(len(ledger)),
            "max_drawdown_pct": f"{max_dd * 100:.3f}",
        },
        risk={"breaker_open": portfolio.breaker_open, "day_realized_pnl": str(portfolio.day_realized_pnl)},
        equity_curve=curve,
        copies=copies,
        exits_by_reason=exit_summary.exits_by_reason(deps.settings.account, list(orders.values()), entries),
        redemptions=exit_summary.redemptions(entries),
        marked=exit_summary.marked(deps.settings.account, marked_curve),
        marked_curve=marked_curve,
    )


def _exposure_item_exists(account: str, scope: Scope, name: str) -> bool:
    try:
        RiskStateModel.get(f"{account}#{scope.value}#{name}")
    except RiskStateModel.DoesNotExist:
        return False
    return True


def fault_evidence(plan: FaultPlan, account: str) -> dict[str, Any]:
    """What the tables show the faults did: the first settlement after midnight (a SELL, when one was pending), and
    for each re-tagged market its copied BUYs before and after the re-tag and whether exposure was ever booked under its
    old and new group and category (the audit checks that each such scope holds exactly its positions' cost)."""
    after = sorted(
        (e for e in LedgerEntryModel.query(account) if e.at >= plan.midnight and e.kind != "DEPOSIT"),
        key=lambda e: (e.at, e.entry_id),
    )
    retags = []
    for retag in plan.retags:
        bought = [o for o in OrderModel.scan() if o.condition_id == retag.condition_id and o.side == "BUY"
                  and o.status in FILLED]  # fmt: skip
        booked = {
            f"{scope.value}#{name}": _exposure_item_exists(account, scope, name)
            for scope, name in ((Scope.GROUP, f"event:{retag.old_event_id}"), (Scope.GROUP, f"event:{retag.event_id}"),
                                (Scope.CATEGORY, retag.old_category), (Scope.CATEGORY, retag.category))
        }  # fmt: skip
        retags.append({
            "market": retag.condition_id,
            "at": retag.at.isoformat(),
            "copied_buys_before": sum(1 for o in bought if o.created_at < retag.at),
            "copied_buys_after": sum(1 for o in bought if o.created_at >= retag.at),
            "scopes_booked": booked,
        })  # fmt: skip
    return {
        "first_settlement_after_midnight": f"{after[0].kind} at {after[0].at.isoformat()}" if after else None,
        "retags": retags,
    }


def crashes_before_ledger(day: Day, injected: Injected) -> list[dict[str, Any]]:
    """For each copy execute died on before its ledger entry (`faults.CRASH_BEFORE_LEDGER`): what the pipeline next
    answered for its fill (a redelivery inside the freshness window reaches risk_check, which answers "already
    reserved (retry)" and execute then begins the order on that reservation; one after it is skipped at score),
    whether the orders ledger holds its entry, and whether a sweep gave its reservation back as an orphan."""
    account = day.deps.settings.account
    answers = {state["signal"]["trade"]["key"]: state for state in day.outputs.states}
    released = set(day.sweeps.released)
    out = []
    for trade_key in injected.fired(fault_kinds.CRASH_BEFORE_LEDGER):
        key = copy_idempotency_key(account, trade_key)
        answer = answers.get(trade_key) or {}
        risk, signal = answer.get("risk") or {}, answer.get("signal") or {}
        try:
            OrderModel.get(key)
            ordered = True
        except OrderModel.DoesNotExist:
            ordered = False
        out.append({
            "trade": trade_key,
            "next_answer": risk.get("detail") or signal.get("reason") or risk.get("reason"),
            "order_begun": ordered,
            "released_by_sweep": key in released,
        })  # fmt: skip
    return out


_WALL_CLOCK_METRICS = frozenset(f"{w.function(step)}_ms" for w in (BOOKS, EXITS) for step in w.steps)  # not numbers


def percentile_ms(seconds: list[float], q: int) -> float:
    return round(float(np.percentile(seconds, q)) * 1000, 1) if seconds else 0.0


def describe_day(
    result: DemoResult,
    day: Day,
    closing: dict[str, Any],
    plan: FaultPlan | None,
    injected: Injected | None,
    alert_queue_url: str,
    dlq_url: str,
) -> None:
    """Add what the summary does not read from the tables: metrics, alerts, the sweeps, the close, the faults."""
    assert day.aws.dispatch is not None
    metrics = day.aws.dispatch.metrics.items()
    result.metrics = {name: int(total) for name, total in sorted(metrics) if name not in _WALL_CLOCK_METRICS}
    alerts = day.sqs.receive_message(QueueUrl=alert_queue_url, MaxNumberOfMessages=10).get("Messages", [])
    result.risk["alerts_sent"] = len(alerts)
    attributes = day.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
    result.feed["dead_letters"] = int(attributes["Attributes"]["ApproximateNumberOfMessages"])
    for name in ("redelivered_after_failure",):
        result.feed[name] = day.feed_counts[name]
    audit = closing.pop("audit")
    result.audit = audit
    result.closing = {**closing, "sweeps": dict(sorted(day.sweeps.totals.items())), "sweep_errors": day.sweeps.errors,
                      "execution_failures": day.failures, "exit_scans": dict(sorted(day.exits.totals.items())),
                      "exit_scan_errors": day.exits.errors}  # fmt: skip
    result.malformed = dict(Counter(f"{(s['signal'] or {}).get('reason')}" for s in day.outputs.malformed))
    if plan is not None and injected is not None:
        result.faults = {
            "injected": {kind: injected.counts[kind] for kind in fault_kinds.FAULT_KINDS},
            "lines": [list(line) for line in injected.lines],
            "plan": plan.describe(),
            **fault_evidence(plan, day.deps.settings.account),
            "crash": crash_evidence(day.crashed),
            "redemption": day.redeem_fault.close(day.deps.settings.account) if day.redeem_fault else {},
            "crashes_before_ledger": crashes_before_ledger(day, injected),
        }
