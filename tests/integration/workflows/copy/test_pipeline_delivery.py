"""A whale fill through the copy pipeline under moto: SQS FIFO -> local pipe -> Express state machine -> handlers.

One fill becomes one paper order; the same fill delivered again (three messages, a pipe redelivery) places one
order; a message that is not a trade is a counted skip, a venue outage is retried, a poison message ends in the DLQ.
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

from copytrader.listener.publish import TradePublisher
from copytrader.local.pipe import LocalPipe, pipe_record
from copytrader.model import WhaleTrade
from copytrader.store.tables import LedgerEntryModel, OrderModel
from tests.support import builders as b
from tests.support.copy_runs import Emitted, one_market_one_whale, pipe_message


def test_one_whale_fill_becomes_one_paper_order(aws, polymarket, make_deps, clock):
    # GIVEN a tracked whale buying YES at 0.50 in a market with a two-level book
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
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
    assert [e.kind for e in ledger] == ["DEPOSIT", "FILL_BUY"]


def test_same_whale_fill_delivered_three_times_places_one_order(aws, polymarket, make_deps, clock):
    # GIVEN one whale fill
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
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
    assert [e.kind for e in LedgerEntryModel.query("paper")] == ["DEPOSIT", "FILL_BUY"]
    assert results[1]["filled_shares"] == results[0]["filled_shares"]
    assert deps.positions.get(trade.token_id).shares == Decimal(results[0]["filled_shares"])
    # the reservation was taken once and fully settled
    assert deps.account.reads.state(clock()).reserved == 0


def test_malformed_message_is_skipped_with_a_reason_not_a_failure(aws, polymarket, make_deps, clock):
    # GIVEN a record whose body is not a valid WhaleTrade (price outside (0,1))
    market, _ = one_market_one_whale(polymarket, make_deps, clock)
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
    market, _ = one_market_one_whale(polymarket, make_deps, clock)
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


def test_same_whale_fill_in_three_messages_and_a_pipe_redelivery_places_one_order(
    aws, polymarket, make_deps, clock, capsys
):
    # GIVEN one whale fill sent to the queue three times with different message and deduplication ids (three
    # publishes that escaped the listener's claim) and the pipe delivering one of them twice
    market, deps = one_market_one_whale(polymarket, make_deps, clock)
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
    redelivered = pipe.run([pipe_message(trade, "redelivered")])

    # THEN four successful executions, one order, one fill in the ledger, one reservation settled
    assert len({r.output[0]["signal"]["trade"]["key"] for r in runs}) == 1 and len(runs) == 3
    results = [r.output[0]["result"] for r in [*runs, redelivered]]
    assert [r.status for r in [*runs, redelivered]] == ["SUCCEEDED"] * 4
    assert [r["duplicate"] for r in results] == [False, True, True, True]
    assert len({r["idempotency_key"] for r in results}) == 1
    assert len(list(OrderModel.scan())) == 1
    assert [e.kind for e in LedgerEntryModel.query("paper")] == ["DEPOSIT", "FILL_BUY"]
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
    market, deps = one_market_one_whale(polymarket, make_deps, clock)

    class Broken:  # the score step's reads (whale, market, account: copytrader.store.decision_reads)
        def prefetch(self, *_: Any, **__: Any) -> None:
            raise RuntimeError("whales table unreadable")

    deps.decision_reads = Broken()  # type: ignore[assignment]
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
