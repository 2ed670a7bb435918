"""The copy pipeline end to end under moto: SQS FIFO -> local pipe -> Express state machine -> handlers.

Every named branch of the state machine is reached by a representative reason of its kind, with the state it
ends in; duplicates (three messages, a pipe redelivery) place one order; a poison message ends in the DLQ.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from copytrader.errors import VenueRejected
from copytrader.listener.publish import TradePublisher
from copytrader.local.lambdas import emf_metrics
from copytrader.local.pipe import LocalPipe, pipe_record
from copytrader.model import RiskDecision, WhaleTrade
from copytrader.store.tables import LedgerEntryModel, OrderModel
from copytrader.workflows.copy import branches
from tests.support import builders as b


def _setup(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    deps = make_deps()
    deps.whales.put(b.whale("w1"), clock())
    return market, deps


def test_one_whale_fill_becomes_one_paper_order(aws, polymarket, make_deps, clock):
    # GIVEN a tracked whale buying YES at 0.50 in a market with a two-level book
    market, deps = _setup(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    sqs, sfn = aws.client("sqs"), aws.client("stepfunctions")
    publisher = TradePublisher(sqs, aws.resources.queue_url, aws.client("events"), aws.resources.bus_name)

    # WHEN the trade is published and the pipe drains the queue
    report = publisher.publish([trade])
    executions = LocalPipe(aws.resources, sqs, sfn).drain()

    # THEN one execution ran every step and filled on the paper venue
    assert report.queued == 1 and report.evented == 1
    assert [e.status for e in executions] == ["SUCCEEDED"]
    state = executions[0].output[0]
    assert state["signal"]["action"] == "COPY"
    assert state["order"]["action"] == "PLACE"
    assert state["risk"]["approved"] is True
    result = state["result"]
    assert result["status"] in ("FILLED", "PARTIAL")
    shares = Decimal(result["filled_shares"])
    assert shares == Decimal(state["order"]["shares"])
    # the fee is the venue's: per fill, floor to 1e-5 of shares x 0.04 x p x (1-p)
    assert Decimal(result["fee"]) > 0
    entry = OrderModel.get(state["order"]["idempotency_key"])
    assert entry.status == result["status"] and entry.filled_shares == shares
    position = deps.positions.get(trade.token_id)
    assert position is not None and position.shares == shares
    assert position.cost_basis == Decimal(result["cash_amount"])
    account = deps.account.reads.state(clock())
    assert account.cash == Decimal(10000) - Decimal(result["cash_amount"])
    assert account.reserved == 0 and account.open_cost == Decimal(result["cash_amount"])
    ledger = list(LedgerEntryModel.query("paper"))
    assert [e.kind for e in ledger] == ["FILL_BUY"]


def test_same_whale_fill_delivered_three_times_places_one_order(aws, polymarket, make_deps, clock):
    # GIVEN one whale fill
    market, deps = _setup(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    sqs, sfn = aws.client("sqs"), aws.client("stepfunctions")
    pipe = LocalPipe(aws.resources, sqs, sfn)
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": trade.model_dump_json(),
        "attributes": {"SentTimestamp": "0"},
    }

    # WHEN the pipe delivers it three times (redeliveries past the FIFO dedup window)
    runs = [pipe.run([record]) for _ in range(3)]

    # THEN every execution succeeds, one order exists, and the repeats report the first result
    assert [r.status for r in runs] == ["SUCCEEDED"] * 3
    results = [r.output[0]["result"] for r in runs]
    assert [r["duplicate"] for r in results] == [False, True, True]
    assert len({r["idempotency_key"] for r in results}) == 1
    assert len(list(OrderModel.scan())) == 1
    assert [e.kind for e in LedgerEntryModel.query("paper")] == ["FILL_BUY"]
    assert results[1]["filled_shares"] == results[0]["filled_shares"]
    assert deps.positions.get(trade.token_id).shares == Decimal(results[0]["filled_shares"])
    # the reservation was taken once and fully settled
    assert deps.account.reads.state(clock()).reserved == 0


def test_malformed_message_is_skipped_with_a_reason_not_a_failure(aws, polymarket, make_deps, clock):
    # GIVEN a record whose body is not a valid WhaleTrade (price outside (0,1))
    market, _ = _setup(aws, polymarket, make_deps, clock)
    payload = json.loads(b.trade(market).model_dump_json())
    payload["price"] = "1.7"
    pipe = LocalPipe(aws.resources, aws.client("sqs"), aws.client("stepfunctions"))

    # WHEN it runs through the state machine
    run = pipe.run([pipe_record({"MessageId": "x", "ReceiptHandle": "y", "Body": json.dumps(payload)}, "arn")])

    # THEN the execution succeeds with a counted reason and no order
    assert run.status == "SUCCEEDED"
    signal = run.output[0]["signal"]
    assert signal["action"] == "SKIP" and signal["reason"] == "invalid_trade"
    assert "price" in signal["detail"]
    assert list(OrderModel.scan()) == []
    assert "result" not in run.output[0] and "order" not in run.output[0]


def test_unusable_venue_data_is_a_counted_skip_and_outages_are_retried(aws, polymarket, make_deps, clock):
    # GIVEN a tracked whale's fill in a market whose book request fails
    market, _ = _setup(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    pipe = LocalPipe(aws.resources, aws.client("sqs"), aws.client("stepfunctions"))
    record = {"messageId": "m", "body": trade.model_dump_json(), "attributes": {}}

    # WHEN the CLOB answers 503 (an outage), THEN the step raises TransientError and the execution fails
    # after the state machine's retries, so the message stays in the queue for redelivery
    polymarket.fail_books = True
    outage = pipe.run([record])
    assert outage.status == "FAILED" and "TransientError" in (outage.error or "")
    assert list(OrderModel.scan()) == []

    # WHEN the CLOB answers with a book we cannot parse, THEN it is a skip with its reason, no retry
    polymarket.fail_books = False
    polymarket.malformed_books.add(trade.token_id)
    broken = pipe.run([{**record, "messageId": "m2"}])
    assert broken.status == "SUCCEEDED"
    signal = broken.output[0]["signal"]
    assert signal["action"] == "SKIP" and signal["reason"] == "upstream_unusable"


# ----------------------------------------------------------------------------- named branches, end to end
def _run_with_history(aws, records: list[dict[str, Any]]) -> tuple[str, Any, list[str]]:
    """Run one execution as the Pipe would; its status, output, and the states it entered (in order)."""
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=aws.resources.state_machine_arn, name=f"test-{uuid.uuid4().hex}", input=json.dumps(records)
    )["executionArn"]
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        time.sleep(0.005)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    output = json.loads(described["output"]) if described.get("output") else None
    return described["status"], output, entered


class Emitted:
    """The EMF metrics the handlers emitted since the last `take()`, summed as CloudWatch would.

    Handlers print EMF documents to stdout; local mode's per-invocation capture sums them unless pytest's own
    capture holds stdout, so both are read.
    """

    def __init__(self, aws: Any, capsys: Any) -> None:
        self._aws, self._capsys = aws, capsys
        self.take()

    def take(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for line in self._capsys.readouterr().out.splitlines():
            totals.update(emf_metrics(line))
        current = Counter(self._aws.dispatch.metrics)
        totals.update(current - getattr(self, "_seen", Counter()))
        self._seen = current
        return totals


def _record(trade: WhaleTrade, message_id: str = "m-1") -> dict[str, Any]:
    return {"messageId": message_id, "body": trade.model_dump_json(), "attributes": {"SentTimestamp": "0"}}


class _FailingVenue:
    """The paper venue, except that sending raises `error` (a timeout, a refusal)."""

    def __init__(self, inner: Any, error: Exception) -> None:
        self._inner, self._error = inner, error
        self.name = getattr(inner, "name", "paper")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def place(self, *args: Any, **kwargs: Any) -> Any:
        raise self._error


def _stop_scenario(name: str, aws, polymarket, make_deps, clock) -> list[dict[str, Any]]:
    """Set the world up so that one whale fill stops where `name` says; returns the Pipe's records."""
    overrides: dict[str, Any] = {"risk": {"max_orders_per_minute": 1}} if name == "order_rate" else {}
    market = b.market("m1", closed=True) if name == "closed_market" else b.market("m1")
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    deps = make_deps(**overrides)
    deps.whales.put(b.whale("w1"), clock())
    deps.whales.put(b.whale("no-edge", wins=100), clock())  # 100 of 200 at 0.50: exactly the no-skill rate
    who = {"untracked": "w2", "no_edge": "no-edge"}.get(name, "w1")
    price = "0.40" if name == "price_drift" else "0.50"
    size = "10" if name == "whale_too_small" else "200"
    side = "SELL" if name == "sell_without_position" else "BUY"
    trade = b.trade(market, who, side=side, price=price, size=size)
    clock.now = trade.detected_at + (timedelta(hours=1) if name == "stale" else timedelta(milliseconds=300))
    if name in ("breaker", "kill_switch"):
        deps.account.items.open_account(deps.settings.paper_bankroll, clock())
        if name == "kill_switch":
            deps.account.breakers.set_kill_switch(True, clock())
        else:
            assert deps.account.breakers.trip_breaker_if_needed(clock(), lambda equity: equity)  # any loss floor: open
    if name == "order_rate":  # one order this minute already (another market), so this one is over the rate
        other = b.market("m2")
        polymarket.markets[other.condition_id] = other
        token = other.tokens[0].token_id
        polymarket.books[token] = b.book(token, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
        first = b.trade(other, "w1", price="0.50", size="200", tx="first")
        status, output, _ = _run_with_history(aws, [_record(first, "m-0")])
        assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED"
    if name == "invalid":
        payload = json.loads(trade.model_dump_json())
        payload["price"] = "1.7"
        return [{"messageId": "m-1", "body": json.dumps(payload), "attributes": {}}]
    return [_record(trade)]


@pytest.mark.parametrize(
    ("scenario", "step", "reason", "branch"),
    [
        ("invalid", "score", "invalid_trade", "SkippedBadInput"),
        ("untracked", "score", "untracked_wallet", "SkippedNotTracked"),
        ("stale", "score", "stale_trade", "SkippedStale"),
        ("closed_market", "score", "market_closed", "SkippedMarketState"),
        ("price_drift", "score", "price_drift", "SkippedPriceOrBook"),
        ("sell_without_position", "score", "sell_without_position", "SkippedPosition"),
        ("whale_too_small", "score", "whale_too_small", "SkippedTooSmall"),
        ("no_edge", "size", "no_edge", "SkippedNoEdge"),
        ("order_rate", "risk_check", "order_rate_limit", "RejectedByLimit"),
        ("breaker", "risk_check", "breaker_open", "RejectedBreaker"),
        ("kill_switch", "risk_check", "kill_switch", "RejectedKillSwitch"),
    ],
)
def test_each_kind_of_stop_ends_in_its_named_branch_as_a_success(
    aws, polymarket, make_deps, clock, scenario, step, reason, branch
):
    # GIVEN a whale fill that stops at `step` for `reason`
    records = _stop_scenario(scenario, aws, polymarket, make_deps, clock)
    orders_before = len(list(OrderModel.scan()))

    # WHEN the state machine runs it
    status, output, entered = _run_with_history(aws, records)

    # THEN the execution succeeds in the branch of that kind, the state says which step stopped it and why,
    # and no order was placed
    assert status == "SUCCEEDED"
    assert entered[-1] == branch == branches.branch_of(reason)
    state = output[0]
    assert {k: state["stopped"][k] for k in ("step", "reason")} == {"step": step, "reason": reason}
    assert state["stopped"]["detail"]
    stop_state = {"score": "ScoreStopped", "size": "SizeStopped", "risk_check": "RiskStopped"}[step]
    assert entered[-3:] == [stop_state, "WhyStopped", branch]
    assert "result" not in state and "Execute" not in entered
    assert len(list(OrderModel.scan())) == orders_before


@pytest.mark.parametrize(
    ("error", "status", "branch"),
    [
        (TimeoutError("read timed out"), "UNKNOWN", "Unknown"),
        (VenueRejected("INVALID_ORDER_MIN_SIZE", "below the minimum"), "REJECTED", "VenueRejected"),
    ],
)
def test_execution_outcomes_end_in_their_named_branch_and_unknown_is_counted(
    aws, polymarket, make_deps, clock, capsys, error, status, branch
):
    # GIVEN a copy the venue times out on (or refuses)
    market, deps = _setup(aws, polymarket, make_deps, clock)
    deps.venue = _FailingVenue(deps.venue, error)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    run_status, output, entered = _run_with_history(aws, [_record(trade)])

    # THEN the execution succeeds in the outcome's branch; an UNKNOWN is counted for its alarm
    assert run_status == "SUCCEEDED" and entered[-2:] == ["ExecutionOutcome", branch]
    assert output[0]["result"]["status"] == status
    counted = emitted.take()
    assert counted[f"execute_{status.lower()}"] == 1
    assert OrderModel.get(output[0]["order"]["idempotency_key"]).status == status


def test_a_filled_copy_ends_in_filled_and_reports_its_copy_gap_once(aws, polymarket, make_deps, clock, capsys):
    # GIVEN a whale fill detected 2 s after it happened, run by the pipeline 300 ms later
    market, _ = _setup(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    status, output, entered = _run_with_history(aws, [_record(trade)])

    # THEN it ends in Filled, and the copy gap is emitted: 2,000 ms detection, 300 ms decision (the simulated
    # clock), our average price vs the whale's 0.50 in ticks, and a fill ratio of 1
    assert status == "SUCCEEDED" and entered[-2:] == ["ExecutionOutcome", "Filled"]
    result, order = output[0]["result"], output[0]["order"]
    counted = emitted.take()
    assert counted["copy_detection_latency_ms"] == 2000.0
    assert counted["copy_decision_latency_ms"] == 300.0
    assert counted["copy_fill_ratio"] == 1.0
    expected_ticks = (Decimal(result["avg_price"]) - Decimal("0.50")) / Decimal(order["tick_size"])
    assert counted["copy_price_gap_ticks"] == pytest.approx(float(expected_ticks))
    assert expected_ticks > 0  # the book's second level is above the whale's price: an adverse gap


def test_same_whale_fill_in_three_messages_and_a_pipe_redelivery_places_one_order(
    aws, polymarket, make_deps, clock, capsys
):
    # GIVEN one whale fill sent to the queue three times with different message and deduplication ids (three
    # publishes that escaped the listener's claim) and the pipe delivering one of them twice
    market, deps = _setup(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    sqs = aws.client("sqs")
    for copy in range(3):
        sqs.send_message(
            QueueUrl=aws.resources.queue_url,
            MessageBody=trade.model_dump_json(),
            MessageGroupId=trade.condition_id,
            MessageDeduplicationId=f"{trade.key}-{copy}",
        )
    pipe = LocalPipe(aws.resources, sqs, aws.client("stepfunctions"))
    emitted = Emitted(aws, capsys)

    # WHEN the pipe drains the queue, then redelivers the last record (a Pipe retry after a lost response)
    runs = pipe.drain()
    last = runs[-1]
    redelivered = pipe.run([_record(trade, "redelivered")])

    # THEN four successful executions, one order, one fill in the ledger, one reservation settled
    assert len({r.output[0]["signal"]["trade"]["key"] for r in runs}) == 1 and len(runs) == 3
    results = [r.output[0]["result"] for r in [*runs, redelivered]]
    assert [r.status for r in [*runs, redelivered]] == ["SUCCEEDED"] * 4
    assert [r["duplicate"] for r in results] == [False, True, True, True]
    assert len({r["idempotency_key"] for r in results}) == 1
    assert len(list(OrderModel.scan())) == 1
    assert [e.kind for e in LedgerEntryModel.query("paper")] == ["FILL_BUY"]
    assert {r["filled_shares"] for r in results} == {last.output[0]["result"]["filled_shares"]}
    assert deps.positions.get(trade.token_id).shares == Decimal(results[0]["filled_shares"])
    assert deps.account.reads.state(clock()).reserved == 0
    # the copy is measured once; the three repeats are counted as redeliveries
    counted = emitted.take()
    assert counted["execute_redelivered"] == 3
    assert counted["copy_fill_ratio"] == 1.0 and counted["copy_detection_latency_ms"] == 2000.0


def test_a_poison_message_moves_to_the_dead_letter_queue_after_three_receives(
    aws, polymarket, make_deps, clock, capsys
):
    # GIVEN a whale fill whose score step raises an error no retry can cure
    market, deps = _setup(aws, polymarket, make_deps, clock)

    class Broken:
        def get(self, *_: Any, **__: Any) -> None:
            raise RuntimeError("whales table unreadable")

    deps.whales = Broken()  # type: ignore[assignment]
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    sqs = aws.client("sqs")
    TradePublisher(sqs, aws.resources.queue_url).publish([trade])
    emitted = Emitted(aws, capsys)

    # WHEN the pipe keeps receiving it
    runs = LocalPipe(aws.resources, sqs, aws.client("stepfunctions")).drain(limit=10)

    # THEN three executions failed (no retry in the state machine: RuntimeError is not a transient error),
    # the fourth receive found it in the dead-letter queue, the trade queue is empty, nothing was placed
    assert [r.status for r in runs] == ["FAILED"] * 3
    assert all("RuntimeError" in (r.error or "") for r in runs)
    assert emitted.take()["score_error"] == 3
    parked = sqs.receive_message(QueueUrl=aws.resources.dlq_url, MaxNumberOfMessages=10)["Messages"]
    assert [WhaleTrade.model_validate_json(m["Body"]).key for m in parked] == [trade.key]
    assert sqs.receive_message(QueueUrl=aws.resources.queue_url).get("Messages", []) == []
    assert list(OrderModel.scan()) == []


def test_a_stop_the_mapping_does_not_know_still_succeeds_in_the_default_branch_and_is_counted(
    aws, polymarket, make_deps, clock, capsys
):
    # GIVEN a risk check that says no without a reason code (as a reason added without a branch would arrive)
    market, deps = _setup(aws, polymarket, make_deps, clock)
    deps.account.reservations.reserve = lambda request, now: RiskDecision(approved=False, detail="no code")  # type: ignore[method-assign]
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    emitted = Emitted(aws, capsys)

    # WHEN it runs
    status, output, entered = _run_with_history(aws, [_record(trade)])

    # THEN the execution succeeds in StoppedOtherReason, and the handler counted the unrouted stop
    assert status == "SUCCEEDED" and entered[-3:] == ["RiskStopped", "WhyStopped", "StoppedOtherReason"]
    assert output[0]["stopped"] == {"step": "risk_check", "reason": None, "detail": "no code"}
    assert emitted.take()["risk_unrouted_reason"] == 1
    assert list(OrderModel.scan()) == []
