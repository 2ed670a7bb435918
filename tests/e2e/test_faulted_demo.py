"""The fault-injected day (`copytrader demo --faults`): venue timeouts and 5xx, crashes inside execute, SQS
redeliveries, SELLs pending at midnight, a re-tagged market, throttled DynamoDB writes and malformed messages, and
after it every invariant of the account still holds and no whale fill got two orders.

A small world whose day has SELLs of tokens bought earlier (seed 22: three), so every kind of fault is injected.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from copytrader.local import faults
from copytrader.local.demo import run_demo, tracked_wallets
from copytrader.local.faults import plan_faults
from copytrader.local.report import DemoResult, render_summary, summary_json
from copytrader.sim.config import SimConfig
from copytrader.sim.world import build_world

pytestmark = pytest.mark.e2e
# named at the start of its 30 days (tested on all of them): it follows 2 skilled wallets, 55 fills
FAULTED = {"seed": 22, "n_wallets": 200, "n_skilled": 6, "n_markets_live": 20, "named_after_days": 0}
EXITS_EVERY = timedelta(minutes=30)  # the exits job's period in this day (the demo's is 15 minutes): half the runs


@pytest.fixture(scope="module")
def faulted(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, Path]:
    out = tmp_path_factory.mktemp("faulted")
    return run_demo(sim=SimConfig(**FAULTED), out_dir=out, log=lambda _: None, faults=True, exits_every=EXITS_EVERY)


def test_every_kind_of_fault_is_injected(faulted):
    result, _ = faulted
    injected = result.faults["injected"]
    assert set(injected) == set(faults.FAULT_KINDS)
    assert {kind for kind, n in injected.items() if n < 1} == set()
    assert summary_json(result)["faults_injected"] == injected


def test_the_same_seed_plans_the_same_faults(faulted):
    result, _ = faulted
    world = build_world(SimConfig(**FAULTED))
    tracked = {p.wallet for p in tracked_wallets(world)}
    feed = [t for t in world.day_trades if t.wallet in tracked]
    markets = {m.condition_id: m for m in world.markets}
    plan = plan_faults(FAULTED["seed"], feed, markets, [c.name for c in world.config.categories])
    assert result.faults["plan"] == plan.describe()


def test_after_the_faults_the_audit_finds_nothing_and_no_fill_got_two_orders(faulted):
    result, path = faulted
    summary = summary_json(result)
    assert summary["audit_violations"] == [] and result.audit["ok"] is True
    assert summary["max_orders_per_fill"] == 1
    assert summary["orders_unsettled"] == 0 and result.closing["unresolved_left"] == 0
    assert result.closing["sweeps"].get("errors", 0) == 0 and result.closing["books_status"] == "SUCCEEDED"
    assert "audit                10 checks: sound, no violation" in render_summary(result, path)


def test_each_fault_was_recovered_the_way_it_should_be(faulted):
    result, _ = faulted
    # crashes failed their executions, SQS gave the messages back after the visibility timeout; nothing reached the DLQ
    crashes = (
        result.faults["injected"][faults.CRASH_BEFORE_LEDGER] + result.faults["injected"][faults.CRASH_AFTER_VENUE]
    )
    assert result.feed["failed_executions"] == result.feed["redelivered_after_failure"] == crashes
    assert result.feed["dead_letters"] == 0
    # a crash before the ledger write left its reservation behind: an SQS redelivery inside the freshness window (the
    # day's at-least-once duplicates come 60-120 s after the fill, planned ones 20-240 s) took it: risk_check answered
    # "already reserved (retry)" and execute began the order on it. The redelivery after the failed execution's
    # visibility timeout (330 s) is stale at score, so any other crash left an orphan, which the sweep released.
    # Exactly those, and nothing else, were released (seed 22: one of each).
    crashed = result.faults["crashes_before_ledger"]
    assert len(crashed) == result.faults["injected"][faults.CRASH_BEFORE_LEDGER]
    taken = [c for c in crashed if c["order_begun"]]
    assert all(c["next_answer"] == "already reserved (retry)" for c in taken), taken
    assert all(c["order_begun"] != c["released_by_sweep"] for c in crashed), crashed
    sweeps = result.closing["sweeps"]
    assert sweeps["released_orphans"] == len(crashed) - len(taken)
    assert "executed_unknown" not in result.outcomes  # every ambiguous order was settled, by a redelivery or the sweep
    # every malformed message was answered invalid_trade
    assert result.malformed == {"invalid_trade": result.faults["injected"][faults.MALFORMED]}
    # the SELLs pending at midnight were settled after it: the new UTC day's first settlement is a SELL
    assert result.faults["first_settlement_after_midnight"].startswith("FILL_SELL at 2026-11-03T00:00:00")
    # the re-tagged market was bought before and after the re-tag: exposure was booked under both groups and
    # categories (and the audit found each scope holding exactly its positions' cost)
    (retag,) = result.faults["retags"]
    assert retag["copied_buys_before"] >= 1 and retag["copied_buys_after"] >= 1
    assert all(retag["scopes_booked"].values()), retag["scopes_booked"]


def test_the_price_crash_sells_the_position_once_at_its_stop(faulted):
    result, _ = faulted
    crash = result.faults["crash"]
    assert result.faults["injected"][faults.PRICE_CRASH] == 1
    assert Decimal(crash["bid_after"]) < Decimal(crash["bid_before"]) * Decimal("0.85")  # through any 15 % stop
    # the next exits run (within 30 simulated minutes) sold it at its stop, with one order
    assert crash["sells_by_reason"] == crash["filled_by_reason"] == {"stop_loss": 1}
    assert 0 < crash["first_sell_after_s"] <= EXITS_EVERY.total_seconds() + 1
    assert "stop_loss" in result.exits_by_reason


def test_a_redemption_that_burned_nothing_is_not_booked_and_the_next_run_books_it_once(faulted):
    result, _ = faulted
    redeemed = result.faults["redemption"]
    assert result.faults["injected"][faults.REDEEM_NO_BURN] == 1
    first, retry = redeemed["first"], redeemed["retry"]
    # the relayer confirmed the first transaction, but the tokens were all still there: nothing booked
    assert first["outcome"] == "redemption_burned_nothing" and Decimal(first["booked_payout"]) == 0
    still = {token: Decimal(v) for token, v in first["tokens_on_chain_after"].items()}
    assert still == {token: Decimal(v) for token, v in redeemed["shares"].items()}
    # the next run sent a second transaction, which burned them and paid: booked once, at the expected payout
    assert (
        retry["outcome"] == "redeemed" and Decimal(retry["booked_payout"]) == Decimal(redeemed["expected_payout"]) > 0
    )
    assert all(Decimal(v) == 0 for v in retry["tokens_on_chain_after"].values())
    assert redeemed["transactions_sent"] == 2 and first["transaction"] != retry["transaction"]
    # one ledger entry, for the transaction that burned: none for the one that reported success and burned nothing
    (entry,) = redeemed["ledger_entries"]
    assert entry["entry"] == f"REDEEM#{retry['transaction']}"
    assert Decimal(entry["cash"]) == Decimal(redeemed["expected_payout"])
