"""The demo path end to end: simulated market -> listener dedup -> SQS FIFO -> local pipe -> Express state
machine -> real handlers -> DynamoDB on moto server; then the money identities that must hold after a day."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from copytrader.local.demo import run_demo
from copytrader.local.report import DemoResult, render_summary, summary_json
from copytrader.model.exits import ExitReason
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim.config import SimConfig
from copytrader.store.tables import LedgerEntryModel, OrderModel, PositionModel, RiskStateModel

pytestmark = pytest.mark.e2e
# named at the start of its 30 days (tested on all of them); the copy pipeline is under test, not the selection,
# so a false-discovery level of 0.3: it follows 2 skilled wallets, 60 fills
SMALL = {"seed": 20, "n_wallets": 200, "n_skilled": 6, "n_markets_live": 20, "named_after_days": 0}
SCORING = ScoringSettings(fdr_q=0.3)


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, Path, dict]:
    """Run the small day once; snapshot the tables before moto shuts down (the `inspect` hook)."""
    out = tmp_path_factory.mktemp("demo")
    snapshot: dict = {}

    def grab() -> None:
        snapshot["ledger"] = [e.attribute_values for e in LedgerEntryModel.query("paper")]
        snapshot["positions"] = [p.attribute_values for p in PositionModel.query("paper")]
        snapshot["orders"] = [o.attribute_values for o in OrderModel.scan()]
        snapshot["account"] = RiskStateModel.get("paper#ACCOUNT").attribute_values

    result, report = run_demo(sim=SimConfig(**SMALL), out_dir=out, log=lambda _: None, inspect=grab, scoring=SCORING)
    return result, report, snapshot


def test_whale_fills_were_copied_and_every_outcome_has_a_reason(day):
    result, _, _ = day
    assert result.selection["tracked"] >= 1 and result.feed["whale_fills_seen"] > 20
    assert result.fills["copies_filled"] > 0
    handled = result.fills["copies_filled"] + sum(result.reasons.values())
    unfilled = sum(
        v
        for k, v in result.outcomes.items()
        if k.startswith("executed_") and k != "executed_filled" and k != "executed_partial"
    )
    assert handled + unfilled == result.feed["whale_fills_seen"]
    assert result.feed["failed_executions"] == 0 and result.feed["failed_publishes"] == 0


def test_duplicates_never_become_orders(day):
    result, _, snapshot = day
    feed = result.feed
    assert feed["second_source_reports"] == feed["dropped_by_listener_dedup"] > 0
    assert feed["max_orders_per_whale_fill"] == 1
    keys = [o["trade_key"] for o in snapshot["orders"]]
    assert len(keys) == len(set(keys)) == feed["orders_in_ledger"]


def test_money_identities_hold_after_the_day(day):
    result, _, snapshot = day
    ledger, positions, account = snapshot["ledger"], snapshot["positions"], snapshot["account"]
    # cash in the account is exactly the sum of every ledger movement (deposit, fills, redemptions)
    assert sum(e["cash_delta"] for e in ledger) == account["cash"]
    # each position holds exactly the shares its ledger entries moved
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for e in ledger:
        if e.get("token_id"):
            moved[e["token_id"]] += e["shares_delta"]
    assert {p["token_id"]: p["shares"] for p in positions} == dict(moved)
    # nothing is left reserved, and the derived account fields agree with their parts
    assert account["reserved"] == 0
    assert account["available"] == account["cash"] - account["reserved"]
    assert account["committed"] == account["open_cost"] + account["reserved"]
    assert account["open_cost"] == sum(p["cost_basis"] for p in positions)
    # every fee charged is in the ledger and in the summary: the copies' (a mirror SELL is one) and the exit rules'
    exit_fees = sum(Decimal(row["fees"]) for reason, row in result.exits_by_reason.items() if reason != "mirror")
    assert sum(e["fee"] for e in ledger) == Decimal(result.fills["fees"]) + exit_fees
    assert Decimal(result.money["cash"]) == account["cash"].quantize(Decimal("0.01"))


def test_metrics_count_every_step_and_reason(day):
    result, _, _ = day
    m = result.metrics
    assert m["score_copy"] + m.get("score_skip", 0) >= result.feed["whale_fills_seen"]
    assert m["execute_filled"] + m.get("execute_partial", 0) >= result.fills["copies_filled"]
    for reason, count in result.reasons.items():
        step, code = reason.split(": ")
        metric = {"score": "score", "size": "size", "risk": "risk"}[step] + f"_reason_{code}"
        assert m[metric] >= count


def test_report_and_summary(day):
    result, report, _ = day
    page = report.read_text()
    assert "<svg" in page and 'path d="M' in page and f"seed {SMALL['seed']}" in page
    data = json.loads(report.with_suffix(".json").read_text())
    assert data["money"] == result.money
    text = render_summary(result, report)
    assert "skipped by reason" in text and str(report) in text


def test_the_day_closes_with_the_sweeps_run_and_a_sound_audit(day):
    # the scheduler's sweep ran every 5 minutes and at the close; nothing was left to settle, and every invariant holds
    result, _, _ = day
    sweeps = result.closing["sweeps"]
    assert sweeps["runs"] >= 24 * 12 and sweeps.get("errors", 0) == 0 and result.closing["unresolved_left"] == 0
    assert result.audit["ok"] is True and result.audit["violations"] == []
    assert {c["name"] for c in result.audit["checks"]} >= {"ledger_cash", "reserved", "exposure", "day_realized"}


def test_the_json_summary_has_the_figures_a_machine_checks(day):
    result, _, _ = day
    summary = summary_json(result)
    assert summary["faulted"] is False and summary["faults_injected"] == {} and summary["audit_violations"] == []
    assert summary["max_orders_per_fill"] == 1
    assert (summary["orders"], summary["fills"]) == (result.feed["orders_in_ledger"], result.feed["orders_filled"])
    assert summary["pnl"] == result.money["pnl"] and summary["copies"] == result.fills["copies_filled"]
    assert json.loads(json.dumps(summary)) == summary


def test_the_exits_job_ran_and_its_exits_are_in_the_ledger(day):
    # every 15 simulated minutes: marks written, marked equity recorded, the exits job run through its function
    result, _, snapshot = day
    scans = result.closing["exit_scans"]
    assert scans["runs"] == 24 * 4 and scans.get("errors", 0) == 0 and result.closing["exit_scan_errors"] == []
    exits = result.exits_by_reason
    # the simulated day stops out, trails and leaves before the end (no whale of this small world sells what we hold)
    assert {"stop_loss", "trailing_stop", "time_to_end"} <= set(exits) <= {r.value for r in ExitReason}
    assert sum(scans.get(f"signals_{reason}", 0) for reason in exits if reason != "mirror") >= sum(
        row["orders"] for reason, row in exits.items() if reason != "mirror"
    )
    # the pUSD by exit kind are the ledger's FILL_SELL entries, every one of them (each SELL is an exit)
    sold = sum((e["cash_delta"] for e in snapshot["ledger"] if e["kind"] == "FILL_SELL"), Decimal(0))
    # (each kind's figure is rounded to the cent, so their sum may differ from the rounded total by half a cent each)
    assert abs(sum(Decimal(row["pusd"]) for row in exits.values()) - sold) <= Decimal("0.005") * len(exits)
    assert all(0 < row["filled"] <= row["orders"] and Decimal(row["pusd"]) > 0 for row in exits.values())
    redeemed = [e for e in snapshot["ledger"] if e["kind"] == "REDEEM"]
    assert result.redemptions["count"] == len(redeemed)
    payout = sum((e["cash_delta"] for e in redeemed), Decimal(0))
    assert Decimal(result.redemptions["payout"]) == payout.quantize(Decimal("0.01"))


def test_marked_equity_and_its_drawdown(day):
    result, report, snapshot = day
    marked, curve = result.marked, result.marked_curve
    assert marked["markings"] == len(curve) == 24 * 4 + 1  # every exits run, and once after the close
    # the account item's equity_marked is the last marking: cash plus the held shares at their bids
    assert Decimal(marked["equity_marked"]) == Decimal(curve[-1][1]).quantize(Decimal("0.01"))
    if not any(p["shares"] > 0 for p in snapshot["positions"]):
        assert marked["equity_marked"] == result.money["cash"]
    levels = [Decimal(v) for _, v in curve]
    worst = max((max(levels[: i + 1]) - v) / max(levels[: i + 1]) for i, v in enumerate(levels)) * 100
    assert Decimal(marked["max_drawdown_marked_pct"]) == worst.quantize(Decimal("0.001"))
    assert 0 <= worst <= 100
    summary = summary_json(result)
    assert summary["exits_by_reason"] == result.exits_by_reason and summary["redemptions"] == result.redemptions
    assert summary["equity_marked"] == marked["equity_marked"]
    page = report.read_text()
    assert 'aria-label="marked equity curve"' in page and 'aria-label="drawdown curve"' in page
    assert "Exits, by kind" in page and "stop_loss" in page and "Redemptions" in page
