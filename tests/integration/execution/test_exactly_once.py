"""Exactly once with real money's venue: the copy pipeline under moto, ClobVenue against the loopback CLOB.

The whale fill goes through the Express state machine (score -> size -> risk_check -> execute) with the
orders ledger in moto's DynamoDB; the only venue is tests/support/fake_clob.py, which counts every
`POST /order` it receives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from eth_account import Account

from copytrader.execution.clob_venue import ClobVenue, connect
from copytrader.execution.credentials import VenueCredentials
from copytrader.execution.reconcile import reconcile_unresolved
from copytrader.local.lambdas import LambdaContext, emf_metrics, load_handler
from copytrader.local.pipe import LocalPipe
from copytrader.store.tables import LedgerEntryModel, OrderModel
from copytrader.workflows import COPY
from tests.support import builders as b
from tests.support.fake_clob import FakeClob, fake_clob

pytestmark = pytest.mark.integration


@pytest.fixture
def clob() -> Iterator[FakeClob]:
    with fake_clob() as fake:
        yield fake


def _setup(aws, polymarket, make_deps, clock, clob, **settings):
    market = b.market("m1")
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    clob.set_book(yes, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    deps = make_deps(**settings)
    key = Account.create().key.hex()
    credentials = VenueCredentials(key if key.startswith("0x") else f"0x{key}")  # a throwaway EOA key
    deps.venue = ClobVenue(connect(clob.url, credentials), order_timeout_s=0.3)
    deps.whales.put(b.whale("w1"), clock())
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    record = {"messageId": "m-1", "receiptHandle": "r-1", "body": trade.model_dump_json(), "attributes": {}}
    pipe = LocalPipe(aws.resources, aws.client("sqs"), aws.client("stepfunctions"))
    return deps, trade, record, pipe


def _result(run):
    assert run.status == "SUCCEEDED"
    return run.output[0]["result"]


def test_timeout_after_the_fill_is_reconciled_on_redelivery_with_one_order(aws, polymarket, make_deps, clock, clob):
    # GIVEN a CLOB that fills the order but answers only after the client's timeout
    deps, trade, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    clob.hang_s = 1.0
    clob.script.append("fill_then_hang")

    # WHEN the whale fill runs through the pipeline
    first = _result(pipe.run([record]))

    # THEN the outcome is UNKNOWN, the venue's order id is in the ledger and the reservation is held
    assert first["status"] == "UNKNOWN" and first["reason"] == "venue_ambiguous"
    entry = OrderModel.get(first["idempotency_key"])
    assert entry.status == "UNKNOWN" and entry.venue_order_id == first["venue_order_id"]
    assert entry.venue_order_id in clob.orders and clob.orders[entry.venue_order_id]["status"] == "MATCHED"
    assert deps.account.reads.state(clock()).reserved == entry.reserved > 0

    # WHEN the same message is delivered again (twice)
    second = _result(pipe.run([record]))
    third = _result(pipe.run([record]))

    # THEN the redelivery reconciled against the venue's order and trades: FILLED, with one order ever sent
    assert len(clob.posts) == 1
    assert second["status"] == "FILLED" and second["duplicate"] is True
    assert third["status"] == "FILLED" and third["duplicate"] is True
    filled = sum(Decimal(t["size"]) for t in clob.trades)
    assert Decimal(second["filled_shares"]) == filled == Decimal(third["filled_shares"])
    assert deps.positions.get(trade.token_id).shares == filled
    account = deps.account.reads.state(clock())
    assert account.reserved == 0 and account.open_cost == Decimal(second["cash_amount"])
    assert [e.kind for e in LedgerEntryModel.query("paper")] == ["DEPOSIT", "FILL_BUY"]


def test_same_whale_fill_delivered_three_times_sends_one_order(aws, polymarket, make_deps, clock, clob):
    deps, trade, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    results = [_result(pipe.run([record])) for _ in range(3)]
    assert len(clob.posts) == 1 and len(clob.orders) == 1
    assert [r["duplicate"] for r in results] == [False, True, True]
    assert {r["status"] for r in results} == {"FILLED"}
    assert results[0]["venue_order_id"] in clob.orders
    assert len(list(OrderModel.scan())) == 1
    assert deps.positions.get(trade.token_id).shares == Decimal(results[0]["filled_shares"])
    assert deps.account.reads.state(clock()).reserved == 0


def test_an_order_the_venue_never_received_is_settled_by_the_sweep_and_not_resent(
    aws, polymarket, make_deps, clock, clob
):
    # GIVEN a 502 from the CLOB's edge: the order never reached the matching engine
    deps, _, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    clob.script.append("http:502")
    first = _result(pipe.run([record]))
    assert first["status"] == "UNKNOWN" and not clob.orders

    # WHEN the sweep runs inside the grace period, then after it
    early = reconcile_unresolved(deps.ledger, deps.venue, clock, reconcile_after=timedelta(seconds=120))
    clock.now += timedelta(seconds=121)
    late = reconcile_unresolved(deps.ledger, deps.venue, clock, reconcile_after=timedelta(seconds=120))

    # THEN it waits, then records "never placed" (not filled), releases the reservation and sends nothing
    assert [r.status.value for r in early] == ["UNKNOWN"]
    assert [(r.status.value, r.reason.value) for r in late] == [("UNFILLED", "never_placed")]
    assert OrderModel.get(first["idempotency_key"]).status == "UNFILLED"
    assert deps.account.reads.state(clock()).reserved == 0
    assert len(clob.posts) == 1 and not clob.orders
    assert reconcile_unresolved(deps.ledger, deps.venue, clock) == []
    redelivered = _result(pipe.run([record]))
    assert redelivered["status"] == "UNFILLED" and len(clob.posts) == 1


def test_buy_beyond_balance_is_rejected_before_sending_and_releases_reservation(
    aws, polymarket, make_deps, clock, clob
):
    # GIVEN a wallet holding 20 pUSD while the account (10,000 pUSD) approves a copy of up to 100 pUSD: the
    # wallet was drawn down outside the account. Before the per-BUY check the order went out and the venue
    # refused it; the balance was only checked, against the whole bankroll, at cold start.
    deps, _, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    clob.balance = 20 * 10**6

    # WHEN the whale fill runs through the pipeline
    result = _result(pipe.run([record]))

    # THEN execute refused it before sending anything, as a definite rejection naming the shortfall
    assert (result["status"], result["reason"]) == ("REJECTED", "venue_rejected")
    assert "INVALID_ORDER_NOT_ENOUGH_BALANCE: pUSD balance 20 <" in result["detail"] and "not sent" in result["detail"]
    assert clob.posts == [] and clob.requests.count("GET /balance-allowance") == 1
    # AND the reservation was released: nothing reserved, no open order, the reservation item settled
    entry = OrderModel.get(result["idempotency_key"])
    assert entry.status == "REJECTED" and entry.reserved > 0
    account = deps.account.reads.state(clock())
    assert account.reserved == 0 and account.cash == deps.settings.paper_bankroll
    assert deps.account.reads.open_orders() == 0
    assert deps.account.items.reservation(result["idempotency_key"]).settled is True


def _emitted(capsys) -> Counter:
    totals: Counter = Counter()
    for line in capsys.readouterr().out.splitlines():
        totals.update(emf_metrics(line))
    return totals


def test_the_scheduled_sweep_in_the_execute_function_settles_an_unknown_order_without_a_redelivery(
    aws, polymarket, make_deps, clock, clob, capsys
):
    # GIVEN a copy whose order filled while the answer timed out: UNKNOWN, and the message is gone (a success)
    deps, trade, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    clob.hang_s = 1.0
    clob.script.append("fill_then_hang")
    first = _result(pipe.run([record]))
    assert first["status"] == "UNKNOWN"
    handler = load_handler(COPY, "execute")
    capsys.readouterr()

    # WHEN the schedule invokes the execute function with its sweep event
    report = handler({"sweep": {"limit": 10}}, LambdaContext("execute"))

    # THEN the order is settled FILLED from the venue's order and trades, nothing is sent, metrics say so
    assert {k: v for k, v in report.items() if k != "entries"} == {
        "examined": 1,
        "settled": {"FILLED": 1},
        "unresolved": 0,
        "failed": 0,
        "oldest_unresolved_s": 0.0,
        "released": 0,
        "limit_reached": False,
    }
    assert [(e["idempotency_key"], e["status"]) for e in report["entries"]] == [(first["idempotency_key"], "FILLED")]
    assert OrderModel.get(first["idempotency_key"]).status == "FILLED"
    assert len(clob.posts) == 1
    assert deps.account.reads.state(clock()).reserved == 0
    assert deps.positions.get(trade.token_id).shares == sum(Decimal(t["size"]) for t in clob.trades)
    counted = _emitted(capsys)
    assert counted["reconcile_settled_filled"] == 1 and counted["reconcile_unresolved"] == 0

    # AND a later sweep finds nothing to do
    assert handler({"sweep": {}}, LambdaContext("execute"))["examined"] == 0


def test_a_sweep_inside_the_grace_period_reports_the_unresolved_order_and_its_age(
    aws, polymarket, make_deps, clock, clob, capsys
):
    _, _, record, pipe = _setup(aws, polymarket, make_deps, clock, clob)
    clob.script.append("http:502")
    first = _result(pipe.run([record]))
    clock.now += timedelta(seconds=30)
    capsys.readouterr()

    report = load_handler(COPY, "execute")({"sweep": {"limit": "not a number"}}, LambdaContext("copy_execute"))

    assert report["examined"] == 1 and report["unresolved"] == 1 and report["settled"] == {}
    assert report["oldest_unresolved_s"] == pytest.approx(30.0, abs=1.0)
    assert OrderModel.get(first["idempotency_key"]).status == "UNKNOWN"
    assert _emitted(capsys)["reconcile_unresolved"] == 1


def test_an_attempt_that_died_before_sending_is_completed_with_its_stored_order(
    aws, polymarket, make_deps, clock, clob
):
    from copytrader.execution.clob_order import restore
    from copytrader.execution.protocol import execute_once

    # GIVEN an execute that prepared and signed the copy, wrote its PENDING entry (order id and signed order), and
    # died before sending it (the SDK's salt is random: the order cannot be signed again identically)
    deps, trade, _, _ = _setup(aws, polymarket, make_deps, clock, clob)
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    order = b.sized_order(
        "copy-died", token_id=trade.token_id, shares=Decimal(20), limit_price=Decimal("0.50"), max_cost=Decimal(0)
    )
    prepared = deps.venue.prepare(order, clock())
    assert deps.ledger.begin(order, Decimal(0), clock(), prepared.venue_order_id, prepared.payload) is None
    assert OrderModel.get("copy-died").signed_order == prepared.payload and clob.posts == []

    # WHEN the message is redelivered 30 s later (the copy still fresh: under reconcile_after / 2)
    clock.now += timedelta(seconds=30)
    again = execute_once(order, Decimal(0), ledger=deps.ledger, venue=deps.venue, clock=clock)

    # THEN exactly the stored order went out, once, under the id written before, and its fill is settled
    assert len(clob.posts) == 1 and clob.posts[0]["order"]["salt"] == restore(prepared.payload).salt
    assert again.status.value == "FILLED" and again.venue_order_id == prepared.venue_order_id
    assert again.filled_shares == Decimal(20) and OrderModel.get("copy-died").status == "FILLED"
    assert execute_once(order, Decimal(0), ledger=deps.ledger, venue=deps.venue, clock=clock).duplicate
    assert len(clob.posts) == 1
