"""The claim record in DynamoDB (moto server over HTTP): first sighting wins, a claim stays pending until
published, and a claim whose process died is republished by exactly one task."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from copytrader.listener.outbox import Outbox
from copytrader.listener.publish import TradePublisher
from copytrader.local.aws import LocalAws
from copytrader.model import Source
from copytrader.store.trades import SeenTrades
from tests.support import builders as b
from tests.support.listener_world import delivered


def test_a_claim_stays_pending_until_published_and_a_dead_claimants_trade_is_republished_once(aws: LocalAws) -> None:
    # GIVEN a trade claimed by a process that died before its publish (the claim is all that is left)
    assert aws.resources is not None
    claims, trade = SeenTrades(), b.trade(b.market(), "w1")
    assert claims.claim(trade, b.T0)
    assert not claims.claim(trade.model_copy(update={"source": Source.RTDS}), b.T0)  # any later sighting loses
    assert [t.key for t in claims.stale_unpublished(b.T0 + timedelta(seconds=1))] == [trade.key]

    # WHEN two listener tasks sweep for stale claims at the same moment, a minute later
    later = b.T0 + timedelta(seconds=61)
    publisher = TradePublisher(aws.client("sqs"), aws.resources.queue_url, aws.client("events"), aws.resources.bus_name)
    outboxes = [Outbox(SeenTrades(), publisher, wall=lambda: later) for _ in range(2)]

    async def sweep() -> list[int]:
        taken = await asyncio.gather(*(o.republish_stale(stale_after_s=60) for o in outboxes))
        for outbox in outboxes:
            await outbox.drain()
        return list(taken)

    # THEN exactly one takes it over and publishes it; it is pending no more, and a later sweep finds nothing
    assert sorted(asyncio.run(sweep())) == [0, 1]
    got = delivered(aws)
    assert got.queue == {trade.key: 1} and got.fanout == {trade.key: 1}
    assert claims.stale_unpublished(later + timedelta(hours=1)) == []
