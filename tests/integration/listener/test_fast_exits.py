"""The listener's fast stops end to end: a price on the loopback CLOB market channel falls through a held position's
stop, and one exit signal is on the copy FIFO queue (moto), grouped by the market and deduplicated by its key;
the bids after it (lower, so new limits) add nothing while the position stands."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

from copytrader.copying.exits import ExitRules
from copytrader.listener.fast_exits import FastExits, FastExitSettings
from copytrader.listener.held_tokens import HeldPositions
from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.runtime.exit_queue import ExitPublisher
from copytrader.store.positions import Positions
from copytrader.store.tables import PositionModel
from tests.integration.listener.test_marks_feed import _feed, _until, running, synchronously
from tests.support import builders as b
from tests.support.clob_market_server import book_message

D = Decimal
TOKEN = b.token_id("stop")
CONDITION = "0x" + "cd" * 32
OPENED = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def _receive_all(sqs, queue_url: str) -> list[dict]:
    out: list[dict] = []
    while got := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get(
        "Messages", []
    ):
        out += got
        for message in got:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return out


@synchronously
async def test_a_bid_through_the_stop_on_the_market_channel_puts_one_exit_on_the_copy_queue(aws, server):
    # GIVEN 100 shares bought for 40 pUSD (average 0.40) with a 15 % stop at entry: stop price 0.34
    PositionModel(
        account="paper",
        token_id=TOKEN,
        condition_id=CONDITION,
        shares=D(100),
        cost_basis=D(40),
        stop_loss=D("0.15"),
        opened_at=OPENED,
        updated_at=b.T0,
    ).save()
    server.books[TOKEN] = book_message(TOKEN, bids=[("0.41", "500")], asks=[("0.43", "500")])
    feed = _feed(server)
    sqs = aws.client("sqs")
    exits = FastExits(
        HeldPositions(Positions("paper")).exit_positions,
        ExitRules(max_slippage=D("0.05")),
        ExitPublisher(sqs, aws.resources.queue_url),
        FastExitSettings(refresh_interval_s=0.1, publish_interval_s=0.01),
    )
    feed.on_mark(exits.on_mark)
    async with running(feed) as stop:
        task = asyncio.create_task(exits.run(stop))
        await _until(lambda: TOKEN in exits.positions and feed.book.get(TOKEN) is not None)
        # WHEN the best bid falls to 0.34, then 0.33 and 0.32
        for bid in ("0.34", "0.33", "0.32"):
            best = {"event_type": "best_bid_ask", "asset_id": TOKEN, "best_bid": bid, "best_ask": "0.36"}
            await asyncio.to_thread(server.push, best)
        await _until(lambda: exits.counters["fast_exit_published"] >= 1 and exits.counters["fast_exit_repeat"] >= 2)
    await asyncio.wait_for(task, 5)
    # THEN exactly one exit signal is on the copy queue: the stop, at 0.34 - 0.05, for the whole position
    messages = _receive_all(sqs, aws.resources.queue_url)
    assert len(messages) == 1
    signal = ExitSignal.model_validate_json(messages[0]["Body"])
    assert (signal.reason, signal.min_price, signal.position_shares) == (ExitReason.STOP_LOSS, D("0.29"), D(100))
    assert messages[0]["Attributes"]["MessageGroupId"] == CONDITION
    assert messages[0]["Attributes"]["MessageDeduplicationId"] == signal.key
    assert exits.decisions_ms and max(exits.decisions_ms) < 1000
