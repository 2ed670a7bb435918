"""`Outbox`: one claim per trade, batches of 10, retry of failed SQS sends, and no claimed trade dropped."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime

import pytest

from copytrader.listener.outbox import Outbox
from copytrader.model import WhaleTrade
from tests.support.builders import T0
from tests.support.clock import Clock
from tests.support.listener_fakes import FakeClaims, FakePublisher, trade


def make(claims: FakeClaims | None = None, publisher: FakePublisher | None = None) -> tuple[Outbox, Clock]:
    clock = Clock()
    outbox = Outbox(claims or FakeClaims(), publisher or FakePublisher(), wall=clock, monotonic=clock.monotonic)
    return outbox, clock


def test_each_trade_is_claimed_once_and_repeats_are_counted_as_duplicates() -> None:
    publisher = FakePublisher()
    outbox, _ = make(publisher=publisher)

    async def scenario() -> None:
        await outbox.accept([trade(1), trade(2)])
        await outbox.accept([trade(2), trade(3)])  # another source, or a restart, reports trade 2 again
        await outbox.flush()

    asyncio.run(scenario())
    assert publisher.queued == [trade(n).key for n in (1, 2, 3)]
    assert outbox.counters["data-api.claimed"] == 3 and outbox.counters["data-api.duplicates"] == 1
    assert outbox.counters["published"] == 3


def test_claimed_trades_are_sent_at_once_in_batches_of_at_most_ten() -> None:
    publisher = FakePublisher()
    outbox, _ = make(publisher=publisher)

    async def scenario() -> None:
        await outbox.accept([trade(0)])
        await asyncio.sleep(0.05)  # no flush tick: the claim alone starts the send
        assert [len(call) for call in publisher.calls] == [1] and outbox.pending == 0
        await outbox.accept([trade(n) for n in range(1, 13)])
        await asyncio.sleep(0.05)
        assert [len(call) for call in publisher.calls] == [1, 10, 2] and outbox.pending == 0

    asyncio.run(scenario())


def test_trades_sqs_refused_go_back_to_the_front_and_are_retried_after_a_backoff() -> None:
    publisher = FakePublisher()
    publisher.fail_queue_once = {trade(1).key}
    outbox, clock = make(publisher=publisher)

    async def scenario() -> None:
        await outbox.accept([trade(1), trade(2)])
        await outbox.flush()
        assert outbox.pending == 1
        await outbox.accept([trade(3)])
        await outbox.flush()
        assert len(publisher.calls) == 1, "backing off"
        clock.advance(1.0)
        await outbox.flush()

    asyncio.run(scenario())
    assert publisher.queued == [trade(2).key, trade(1).key, trade(3).key]
    assert [t.key for t in publisher.calls[1]] == [trade(1).key, trade(3).key]
    assert outbox.counters["queue_failures"] == 1 and outbox.counters["published"] == 3


def test_event_bus_failures_are_counted_not_resent() -> None:
    publisher = FakePublisher()
    publisher.fail_events = {trade(1).key}
    outbox, _ = make(publisher=publisher)

    async def scenario() -> None:
        await outbox.accept([trade(1)])
        await outbox.flush()
        await outbox.flush()

    asyncio.run(scenario())
    assert len(publisher.calls) == 1 and outbox.counters["event_failures"] == 1


def test_a_publisher_exception_keeps_the_batch() -> None:
    class Broken(FakePublisher):
        def publish(self, trades):  # type: ignore[no-untyped-def]
            raise ConnectionError("sqs down")

    outbox, _ = make(publisher=Broken())

    async def scenario() -> None:
        await outbox.accept([trade(1)])
        await outbox.flush()

    asyncio.run(scenario())
    assert outbox.pending == 1 and outbox.counters["publish_errors"] == 1


def test_a_claim_outage_buffers_what_was_claimed_and_raises_for_the_rest() -> None:
    claims = FakeClaims()
    claims.fail_keys = {trade(2).key}
    outbox, _ = make(claims=claims)
    with pytest.raises(RuntimeError, match="dynamodb unavailable"):
        asyncio.run(outbox.accept([trade(1), trade(2)]))
    assert outbox.pending == 1 and outbox.counters["claim_errors"] == 1


class GatedClaims(FakeClaims):
    """Claims that block (in their worker thread) until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()

    def claim(self, trade: WhaleTrade, now: datetime) -> bool:
        self.gate.wait(5)
        return super().claim(trade, now)


def test_cancelling_a_source_mid_claim_does_not_drop_the_claimed_trades() -> None:
    claims, publisher = GatedClaims(), FakePublisher()
    outbox = Outbox(claims, publisher)

    async def scenario() -> list[WhaleTrade]:
        source = asyncio.create_task(outbox.accept([trade(1), trade(2)]))
        await asyncio.sleep(0.01)
        source.cancel()  # shutdown grace ran out while the claims were in DynamoDB
        with pytest.raises(asyncio.CancelledError):
            await source
        claims.gate.set()
        return await outbox.drain()

    assert asyncio.run(scenario()) == []
    assert publisher.queued == [trade(1).key, trade(2).key]


def test_a_claim_left_unpublished_by_a_dead_process_is_republished_once() -> None:
    # GIVEN a claim made by a process that died before publishing (it is still pending in the claims store)
    claims, publisher = FakeClaims(), FakePublisher()
    assert claims.claim(trade(7), T0)
    survivor, clock = make(claims=claims, publisher=publisher)
    twin = Outbox(claims, publisher, wall=clock, monotonic=clock.monotonic)

    async def scenario() -> tuple[int, int, int]:
        early = await survivor.republish_stale(stale_after_s=60)  # not stale yet: the claimant may be sending
        clock.advance(61)
        first, second = await survivor.republish_stale(60), await twin.republish_stale(60)
        await survivor.drain()
        return early, first, second

    # THEN after the stale period exactly one outbox takes it over and publishes it, and it is no longer pending
    assert asyncio.run(scenario()) == (0, 1, 0)
    assert publisher.queued == [trade(7).key] and claims.pending == {}


def test_published_claims_are_no_longer_pending() -> None:
    claims, publisher = FakeClaims(), FakePublisher()
    outbox, _ = make(claims=claims, publisher=publisher)

    async def scenario() -> None:
        await outbox.accept([trade(1), trade(2)])
        await outbox.drain()

    asyncio.run(scenario())
    assert publisher.queued == [trade(1).key, trade(2).key] and claims.pending == {}
