"""The copy pipeline end to end under moto: SQS FIFO -> local pipe -> Express state machine -> handlers."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from copytrader.local.pipe import LocalPipe, pipe_record
from copytrader.publish import TradePublisher
from copytrader.store.tables import LedgerEntryModel, OrderModel
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
    account = deps.portfolio.state(clock())
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
    assert deps.portfolio.state(clock()).reserved == 0


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
