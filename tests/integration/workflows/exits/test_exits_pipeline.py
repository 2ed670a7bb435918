"""Exits through the copy pipeline under moto with the paper venue: the exits job publishes a stop-loss (or a trailing
stop on the bid's high-water mark it keeps) to the copy FIFO queue and the state machine sells once; a whale's partial
SELL is mirrored in proportion to its part, sized on its net shares we observed or, when none, on the Data API."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

from copytrader.money import SIZE_STEP, floor_to
from copytrader.risk.rules import Scope
from copytrader.runtime.exit_queue import ExitPublisher
from copytrader.store.tables import LedgerEntryModel, OrderModel, RiskStateModel
from copytrader.store.whale_holdings import WhaleHoldings
from copytrader.workflows.exits import steps as exits
from tests.support import builders as b
from tests.support.copy_runs import list_market, pipe_message, run_with_history


def _buy(aws: Any, market: Any, who: str, clock: Any, tx: str, size: str = "200") -> None:
    trade = b.trade(market, who, price="0.50", size=size, tx=tx, at=clock())
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    status, output, _ = run_with_history(aws, [pipe_message(trade, f"m-{tx}")])
    assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED", output


def _sells(deps: Any) -> list[LedgerEntryModel]:
    return [e for e in deps.positions.ledger() if e.kind == "FILL_SELL"]


def _received(aws: Any) -> list[dict[str, Any]]:
    """The messages on the copy queue, as the Pipe hands them to the state machine."""
    sqs = aws.client("sqs")
    got = sqs.receive_message(QueueUrl=aws.resources.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
    messages = got.get("Messages", [])
    for m in messages:
        sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return [{"messageId": m["MessageId"], "body": m["Body"], "attributes": m.get("Attributes", {})} for m in messages]


def test_a_bid_through_the_stop_sells_once_and_a_redelivery_places_nothing_more(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    list_market(polymarket, market)
    deps = make_deps()
    deps.__dict__["exit_queue"] = ExitPublisher(aws.client("sqs"), aws.resources.queue_url)
    deps.whales.put(b.whale("w1"), clock())
    _buy(aws, market, "w1", clock, "buy")
    yes = market.tokens[0].token_id
    position = deps.positions.get(yes)
    assert position is not None and position.stop_loss == D("0.15")
    stop = position.cost_basis / position.shares * D("0.85")
    # the bid falls to 0.40, below the stop (about 0.43 for an average cost a little above 0.50)
    polymarket.books[yes] = b.book(yes, bids=[("0.40", "5000")], asks=[("0.45", "100")])
    clock.now += timedelta(minutes=1)
    result = exits.scan({}, deps)
    assert stop > D("0.40")
    assert (result.output["signals"], result.output["reason_stop_loss"]) == (1, 1)
    records = _received(aws)
    assert len(records) == 1
    first = run_with_history(aws, records)
    again = run_with_history(aws, records)  # the same message delivered a second time
    assert first[0] == again[0] == "SUCCEEDED"
    assert first[1][0]["result"]["status"] == "FILLED"
    # the redelivery finds the lot gone (sold): skipped before any order, and the ledger holds the one SELL
    assert again[1][0]["stopped"]["reason"] == "position_gone" and "SkippedPosition" in again[2]
    sells = _sells(deps)
    assert len(sells) == 1 and sells[0].shares_delta == -position.shares
    assert sells[0].cash_delta == position.shares * D("0.40") - D(sells[0].fee)
    assert deps.positions.get(yes).shares == 0
    assert len([o for o in OrderModel.scan() if o.side == "SELL"]) == 1
    # the next minute the position is gone: nothing more to publish
    clock.now += timedelta(minutes=1)
    assert exits.scan({}, deps).output["signals"] == 0


def test_a_whale_selling_a_quarter_makes_us_sell_a_quarter_of_its_part(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    list_market(polymarket, market)
    deps = make_deps()
    for who in ("w1", "w2"):
        deps.whales.put(b.whale(who), clock())
    _buy(aws, market, "w1", clock, "b1")
    polymarket.books[market.tokens[0].token_id] = b.book(
        market.tokens[0].token_id, bids=[("0.49", "5000")], asks=[("0.50", "100"), ("0.51", "400")]
    )
    _buy(aws, market, "w2", clock, "b2")
    yes = market.tokens[0].token_id
    holding, parts = deps.account.settlements.holding(yes)
    assert holding is not None
    w1, w2 = b.wallet("w1"), b.wallet("w2")
    w1_cost, w2_cost = parts[(Scope.WHALE, w1)], parts[(Scope.WHALE, w2)]
    assert w1_cost + w2_cost == holding.cost_basis
    w1_shares = holding.shares * w1_cost / holding.cost_basis
    # w1 bought 200 (seen by the score step); it sells 50: a quarter
    sell = b.trade(market, "w1", side="SELL", price="0.50", size="50", tx="s1", at=clock())
    clock.now = sell.detected_at + timedelta(milliseconds=300)
    status, output, _ = run_with_history(aws, [pipe_message(sell, "m-s1")])
    assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED", output
    expected = floor_to(w1_shares / 4, SIZE_STEP)
    assert D(output[0]["order"]["shares"]) == expected
    after, after_parts = deps.account.settlements.holding(yes)
    assert after is not None and after.shares == holding.shares - expected
    assert after_parts[(Scope.WHALE, w2)] == w2_cost  # w2's part is untouched: its shares are all still held
    # the figures: both copies sized alike, 370.36 shares for 190.5865 pUSD, 95.29325 each: w1's copies built
    # 370.36 x 95.29325 / 190.5865 = 185.18 shares, and a quarter of those is 46.295, floored to 46.29
    assert (holding.shares, w1_cost, w2_cost, w1_shares, expected) == (
        D("370.36"),
        D("95.29325"),
        D("95.29325"),
        D("185.18"),
        D("46.29"),
    )


def test_a_whale_whose_buys_we_never_saw_is_mirrored_on_its_data_api_position(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    list_market(polymarket, market)
    deps = make_deps(exits={"whale_positions_url": f"{polymarket.url}/data"})
    deps.whales.put(b.whale("w1"), clock())
    _buy(aws, market, "w1", clock, "b1")
    yes = market.tokens[0].token_id
    # forget what we observed of w1 (as if its BUY had come before we tracked it)
    RiskStateModel(pk=deps.decision_reads.holdings.key(b.wallet("w1"), yes)).delete()
    held = deps.positions.get(yes).shares
    sell = b.trade(market, "w1", side="SELL", price="0.50", size="100", tx="s1", at=clock())
    # the Data API already counts the sale: 300 left, so it held 400 and sold a quarter
    polymarket.positions[(b.wallet("w1"), yes)] = ("300", int(sell.timestamp.timestamp()))
    clock.now = sell.detected_at + timedelta(milliseconds=300)
    status, output, _ = run_with_history(aws, [pipe_message(sell, "m-s1")])
    assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED", output
    assert D(output[0]["order"]["shares"]) == floor_to(held / 4, SIZE_STEP)
    assert any(path.startswith("/data/v2/positions") for path in polymarket.requests)


def test_the_scan_keeps_the_bids_high_water_mark_and_trails_it(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    list_market(polymarket, market)
    deps = make_deps()
    deps.__dict__["exit_queue"] = ExitPublisher(aws.client("sqs"), aws.resources.queue_url)
    deps.whales.put(b.whale("w1"), clock())
    _buy(aws, market, "w1", clock, "buy")
    yes = market.tokens[0].token_id
    for bid, raised in (("0.70", 1), ("0.65", 0), ("0.80", 1)):  # only upward
        polymarket.books[yes] = b.book(yes, bids=[(bid, "5000")], asks=[("0.85", "100")])
        clock.now += timedelta(minutes=1)
        out = exits.scan({}, deps).output
        assert (out.get("high_water_raised", 0), out["signals"]) == (raised, 0)
    assert deps.positions.get(yes).bid_high == D("0.80")
    # 25 % below 0.80 is 0.60: the trailing stop fires, with its limit 0.05 under the bid
    polymarket.books[yes] = b.book(yes, bids=[("0.60", "5000")], asks=[("0.85", "100")])
    clock.now += timedelta(minutes=1)
    out = exits.scan({}, deps).output
    assert out["reason_trailing_stop"] == 1
    assert [e["trigger"] for e in out["exits"]] == ["trail 0.8 -0.25 @0.55"]
    status, output, _ = run_with_history(aws, _received(aws))
    assert status == "SUCCEEDED" and output[0]["result"]["status"] == "FILLED"
    assert deps.positions.get(yes).shares == 0 and deps.positions.get(yes).bid_high is None  # the lot ended


def test_a_whales_trade_is_counted_once_and_a_redelivered_sell_sees_the_shares_before_it(aws, make_deps, clock):
    make_deps()
    market = b.market("m1")
    holdings = WhaleHoldings("paper")
    buy = b.trade(market, "w1", size="400", tx="b")
    sell = b.trade(market, "w1", side="SELL", size="100", tx="s")
    assert holdings.observe(buy, clock()) and not holdings.observe(buy, clock())  # a redelivery adds nothing
    assert holdings.observe(sell, clock())
    item = RiskStateModel.get(holdings.key(b.wallet("w1"), buy.token_id), consistent_read=True)
    assert item.shares == D(300)
    assert WhaleHoldings.before(item, sell) == D(400)  # the SELL was counted: its redelivery is sized on 400
