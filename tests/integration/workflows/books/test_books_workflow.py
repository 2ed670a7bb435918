"""The books workflow under moto (issue 10): the hourly job redeems positions in resolved markets through the account
store, then audits the tables; `copytrader audit` prints the same checks and exits 1 on a violation."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.cli import main
from copytrader.local.scoring import run_books
from copytrader.model import ExecutionStatus
from copytrader.risk.rules import screen
from copytrader.store.tables import RiskStateModel
from tests.support import builders as b

pytestmark = pytest.mark.integration
D = Decimal


def _hold(deps, clock, key: str, market, cost: str, shares: str) -> None:
    order = b.sized_order(key, market=market, max_cost=cost)
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, clock())


def test_the_hourly_books_run_redeems_resolved_markets_once_and_the_audit_finds_nothing(
    aws, polymarket, make_deps, clock
):
    # GIVEN positions in m1 (resolves YES) and m2 (still open)
    deps = make_deps()
    m1, m2 = b.market("m1"), b.market("m2")
    polymarket.markets[m1.condition_id], polymarket.markets[m2.condition_id] = m1, m2
    _hold(deps, clock, "b1", "m1", "40", "100")
    _hold(deps, clock, "b2", "m2", "30", "60")
    # WHEN m1 resolves on Gamma and the schedule runs the workflow (after the markets cache's time-to-live)
    yes, no = m1.tokens
    polymarket.markets[m1.condition_id] = m1.model_copy(
        update={"closed": True, "payouts": {yes.token_id: D(1), no.token_id: D(0)}}
    )
    clock.now = b.T0 + timedelta(minutes=5)
    run = run_books(aws.resources, aws.client("stepfunctions"), name="books-1")
    # THEN m1's 100 shares are redeemed for 100 (P&L +60), m2 is kept, and every invariant holds
    assert run.status == "SUCCEEDED", run.error
    assert "settle_error" not in run.output, run.output["settle_error"]
    settled = run.output["settled"]
    assert (settled["markets_held"], settled["resolved"], settled["redeemed"]) == (2, 1, 1)
    assert (settled["payout"], settled["pnl"]) == ("100", "60")
    assert run.output["audit"]["ok"] is True and run.output["audit"]["violations"] == []
    state = deps.account.reads.state(clock())
    assert (state.cash, state.open_cost, state.day_realized_pnl) == (D(10000) - 40 - 30 + 100, D(30), D(60))
    # AND a second run redeems nothing twice
    again = run_books(aws.resources, aws.client("stepfunctions"), name="books-2")
    assert again.output["settled"]["redeemed"] == 0 and again.output["audit"]["ok"] is True


def test_the_audit_command_reports_each_check_and_fails_on_a_violation(
    aws, make_deps, clock, polymarket, capsys, monkeypatch
):
    # GIVEN a sound account with one position (the command reads Gamma's address from the environment)
    monkeypatch.setenv("COPYTRADER_GAMMA_URL", f"{polymarket.url}/gamma")
    deps = make_deps()
    m1 = b.market("m1")
    polymarket.markets[m1.condition_id] = m1
    _hold(deps, clock, "b1", "m1", "40", "100")
    clock.now = b.T0
    assert main(["audit"]) == 0
    printed = capsys.readouterr().out
    assert "OK         ledger_cash        ledger 9960 = account cash 9960" in printed
    # WHEN the account's cash is changed behind the ledger's back
    RiskStateModel(pk=deps.account.items.account_key()).update(actions=[RiskStateModel.cash.add(D(5))])
    # THEN the audit names it, with its figures, and exits 1
    assert main(["audit", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["violations"] == ["ledger_cash", "account_totals"]
    cash = next(c for c in report["checks"] if c["name"] == "ledger_cash")
    assert cash["figures"] == {"ledger": "9960", "account": "9965"}
