"""The listener against the simulated Data API (loopback HTTP) and moto (SQS FIFO, EventBridge, DynamoDB).

The test moves the simulated clock; the listener polls in real time. Every tracked wallet's fill in the
window must reach the SQS FIFO queue exactly once and the EventBridge fan-out exactly once (the fan-out
queue has no dedup, so it shows that the listener itself published each trade once, not that SQS
dropped a repeat) — through a stop and restart with a one-hour gap that only the persisted high-water
marks can backfill, with two identical listeners running at once, and while the watch list changes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pytest

from copytrader.listener import (
    DataApiPoller,
    DataApiPollerSettings,
    DynamoHighWaterMarks,
    HighWaterMark,
    Listener,
    ListenerConfig,
    ListenerSettings,
    build_listener,
)
from copytrader.local.aws import LocalAws
from copytrader.model import WhaleStatus
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld
from copytrader.store.whales import Whales
from tests.support.listener_world import delivered, hours, most_active, seed_whales, trades_of

pytestmark = pytest.mark.integration

LOOKBACK_S = 600
POLLS_PER_STEP = 2  # a poll started after the clock moved is then certain to have completed


def config(aws: LocalAws, marks_table: str, sim: SimPolymarketServer) -> ListenerConfig:
    assert aws.resources is not None
    return ListenerConfig(
        queue_url=aws.resources.queue_url,
        bus_name=aws.resources.bus_name,
        marks_table=marks_table,
        data_api_url=f"{sim.url}/data",
        rate_limit=2_000,
        poller=DataApiPollerSettings(
            page_size=5, poll_interval_s=0.01, concurrency=3, initial_lookback_s=LOOKBACK_S, overlap_s=30
        ),
        listener=ListenerSettings(
            flush_interval_s=0.02, refresh_interval_s=0.2, checkpoint_interval_s=0.5, shutdown_grace_s=5.0
        ),
    )


class Running:
    """A listener wired exactly as in production (`build_listener`), its clock being the simulated one."""

    def __init__(self, cfg: ListenerConfig, aws: LocalAws, sim: SimPolymarketServer) -> None:
        self.http = DataApiClient.http_client(cfg.data_api_url)
        self.listener: Listener = build_listener(
            cfg,
            http=self.http,
            sqs=aws.client("sqs"),
            events=aws.client("events"),
            marks=DynamoHighWaterMarks(),
            wall=lambda: sim.now,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.listener.run(self.stop))

    @property
    def poller(self) -> DataApiPoller:
        source = self.listener.sources[0]
        assert isinstance(source, DataApiPoller)
        return source

    async def shutdown(self) -> None:
        self.stop.set()  # what SIGTERM does in functions/listener/main.py
        await self.task
        await self.http.aclose()


async def until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the listener did not get there in time")
        await asyncio.sleep(0.005)


async def settle(running: Iterable[Running], wallets: set[str]) -> None:
    """Wait until every listener has polled every wallet twice more and published what it claimed."""
    targets = [(r, {w: r.poller.polls[w] + POLLS_PER_STEP for w in wallets}) for r in running]
    await until(lambda: all(r.poller.polls[w] >= n for r, target in targets for w, n in target.items()))
    runs = [r for r, _ in targets]
    await until(lambda: all(r.listener.outbox.pending == 0 for r in runs))


async def advance(sim: SimPolymarketServer, running: list[Running], wallets: set[str], to: datetime) -> None:
    """Move the simulated clock to `to` in 10-minute steps, letting the listeners catch up after each."""
    step = hours(1 / 6)
    while sim.now < to:
        sim.set_time(min(sim.now + step, to))
        await settle(running, wallets)


def test_every_tracked_fill_is_published_exactly_once_across_restart_and_a_concurrent_twin(
    aws: LocalAws, marks_table: str, sim: SimPolymarketServer, world: SimWorld
) -> None:
    busiest = most_active(world, 8)
    tracked = dict.fromkeys(busiest[:4], WhaleStatus.ACTIVE) | dict.fromkeys(busiest[4:6], WhaleStatus.PROBATION)
    joins, leaves, never = busiest[6], busiest[0], busiest[7]
    start = world.day_start + hours(2)
    sim.set_time(start)
    seed_whales({**tracked, never: WhaleStatus.PAUSED}, start)
    cfg = config(aws, marks_table, sim)
    stopped_at = start + hours(2)
    resumed_at = stopped_at + hours(1)
    end = resumed_at + hours(2)
    watched = set(tracked)
    timings: dict[str, float] = {}

    async def scenario() -> None:
        first = Running(cfg, aws, sim)
        await until(lambda: first.listener.wallets == watched)
        await settle([first], watched)
        await advance(sim, [first], watched, stopped_at)
        await first.shutdown()

        sim.set_time(resumed_at)  # an hour passes with no listener running
        began = time.perf_counter()
        twins = [Running(cfg, aws, sim), Running(cfg, aws, sim)]
        await until(lambda: all(t.listener.wallets == watched for t in twins))
        await settle(twins, watched)
        timings["backfill_s"] = time.perf_counter() - began

        await advance(sim, twins, watched, resumed_at + hours(1))
        Whales().put(Whales().get(leaves).model_copy(update={"status": WhaleStatus.PAUSED}), sim.now)
        seed_whales({joins: WhaleStatus.ACTIVE}, sim.now)
        watched.discard(leaves)
        watched.add(joins)
        await until(lambda: all(t.listener.wallets == watched for t in twins))
        await settle(twins, watched)
        await advance(sim, twins, watched, end)
        for twin in twins:
            await twin.shutdown()
        timings["claimed_by_twins"] = sum(t.listener.counters.get("data-api.claimed", 0) for t in twins)
        timings["duplicates_seen_by_twins"] = sum(t.listener.counters.get("data-api.duplicates", 0) for t in twins)

    began = time.perf_counter()
    asyncio.run(scenario())
    elapsed = time.perf_counter() - began

    expected = trades_of(world, set(tracked) - {leaves}, start - hours(LOOKBACK_S / 3600), end)
    expected |= trades_of(world, {leaves}, start - hours(LOOKBACK_S / 3600), resumed_at + hours(1))
    expected |= trades_of(world, {joins}, resumed_at + hours(1) - hours(LOOKBACK_S / 3600), end)
    gap_only = [t for t in expected.values() if stopped_at < t.timestamp < resumed_at - hours(LOOKBACK_S / 3600)]
    assert len(expected) > 50 and len(gap_only) > 5, "the scenario must exercise the marks-only backfill"

    got = delivered(aws)
    assert set(got.queue) == set(expected), "lost or foreign trades on the queue"
    assert set(got.queue.values()) == {1} and set(got.fanout.values()) == {1}, "duplicates published"
    assert set(got.fanout) == set(expected)
    assert timings["duplicates_seen_by_twins"] > 0, "the twins did race for the same trades"
    print(
        f"\n{len(expected)} trades exactly once in {elapsed:.1f} s wall; "
        f"gap backfill {timings['backfill_s'] * 1000:.0f} ms; twins claimed {timings['claimed_by_twins']:.0f}, "
        f"saw {timings['duplicates_seen_by_twins']:.0f} duplicates"
    )


def test_persisted_marks_never_move_backwards(aws: LocalAws, marks_table: str) -> None:
    store = DynamoHighWaterMarks()
    ahead = HighWaterMark.starting_at(1000).advanced([("a" * 32, 1050)], overlap_s=0)
    behind = HighWaterMark.starting_at(1000).advanced([("b" * 32, 1020)], overlap_s=0)

    async def scenario() -> Any:
        assert await store.load("0xw") is None
        await store.save({"0xw": ahead})
        await store.save({"0xw": behind})  # a lagging twin's checkpoint
        return await store.load("0xw")

    assert asyncio.run(scenario()) == ahead
