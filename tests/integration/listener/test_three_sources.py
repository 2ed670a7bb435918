"""The listener with all three sources (chain logs, RTDS, Data API) against loopback servers that speak each
protocol, publishing to moto's SQS FIFO queue: zero lost and zero duplicated trades across a forced RTDS
disconnect, a silent stall of the chain socket, and a restart of the listener.

Phases (simulated time; every tracked fill is mined as OrderFilled logs, pushed as RTDS frames and served
by the Data API at its time):
  1. normal: every source sees every fill; the claim lets exactly one through;
  2. faults: RTDS connections are dropped and the chain node goes silent (socket open, nothing pushed)
     while fills keep happening: the chain source must notice, open a new socket and backfill with
     eth_getLogs; what RTDS missed while reconnecting the other sources have;
  3. listener down: an hour of fills happens with nothing running; the restarted listener's chain source
     starts at the head and RTDS has no history, so only the Data API's persisted high-water marks can
     bring those fills back;
  4. normal again with the new listener.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby

import httpx
import pytest

from copytrader.listener import (
    DataApiPollerSettings,
    DynamoHighWaterMarks,
    Listener,
    ListenerConfig,
    ListenerSettings,
    build_listener,
)
from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.listener.chain_source import ChainSource
from copytrader.listener.health import SourceHealth
from copytrader.listener.rtds_source import RtdsSettings, RtdsSource
from copytrader.local.aws import LocalAws
from copytrader.model import WhaleStatus, WhaleTrade
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.tokens import TokenResolver, gamma_fetcher
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld
from tests.support.chain_logs import trade_logs
from tests.support.listener_world import delivered, hours, most_active, seed_whales, trades_of
from tests.support.rpc_server import FakeRpcNode
from tests.support.rtds_server import RtdsServer, trade_frame

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LOOKBACK_S = 120
STEP = hours(1 / 6)  # fills are replayed in 10-minute slices of simulated time
CHAIN = ChainSourceSettings(stale_after_s=1.0, flush_delay_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2, retry_s=0.1)
RTDS = RtdsSettings(ping_interval_s=0.1, stale_after_s=0.5, backoff_initial_s=0.05, backoff_max_s=0.2)


@pytest.fixture
def node(world: SimWorld) -> Iterator[FakeRpcNode]:
    with FakeRpcNode(int(world.day_start.timestamp())) as running:
        yield running


@pytest.fixture
def rtds() -> Iterator[RtdsServer]:
    with RtdsServer() as server:
        yield server


class Running:
    """One listener process: the production wiring (`build_listener`) with the three sources."""

    def __init__(self, aws: LocalAws, sim: SimPolymarketServer, node: FakeRpcNode, rtds: RtdsServer) -> None:
        assert aws.resources is not None
        config = ListenerConfig(
            queue_url=aws.resources.queue_url,
            bus_name=aws.resources.bus_name,
            marks_table="configured",
            data_api_url=f"{sim.url}/data",
            rate_limit=2_000,
            poller=DataApiPollerSettings(
                page_size=5, poll_interval_s=0.02, reconcile_interval_s=0.3, initial_lookback_s=LOOKBACK_S
            ),
            listener=ListenerSettings(
                flush_interval_s=0.02, refresh_interval_s=0.2, checkpoint_interval_s=0.3, stats_interval_s=5
            ),
        )
        self.data_api = DataApiClient.http_client(config.data_api_url)
        self.gamma = httpx.AsyncClient(base_url=f"{sim.url}/gamma", timeout=5)
        self.health = SourceHealth()
        self.chain = ChainSource(node.url, TokenResolver(gamma_fetcher(self.gamma)), self.health, CHAIN)
        self.rtds = RtdsSource(RtdsSettings(**{**RTDS.__dict__, "url": rtds.url}), health=self.health)
        self.listener: Listener = build_listener(
            config,
            http=self.data_api,
            sqs=aws.client("sqs"),
            events=aws.client("events"),
            marks=DynamoHighWaterMarks(),
            streams=[self.chain, self.rtds],
            health=self.health,
            wall=lambda: sim.now,
        )
        self.stop = asyncio.Event()
        self.task = asyncio.create_task(self.listener.run(self.stop))

    def claimed(self) -> int:
        return sum(n for key, n in self.listener.counters.items() if key.endswith(".claimed"))

    async def shutdown(self) -> None:
        self.stop.set()  # what SIGTERM does
        await asyncio.wait_for(self.task, timeout=15)
        await self.data_api.aclose()
        await self.gamma.aclose()


async def until(condition: object, what: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def happen(node: FakeRpcNode, rtds: RtdsServer, fills: Sequence[WhaleTrade]) -> None:
    """The fills happen: mined as logs (one block per second, 1-3 legs, maker or taker) and pushed on RTDS."""
    ordered = sorted(enumerate(fills), key=lambda item: item[1].timestamp)
    for second, batch in groupby(ordered, key=lambda item: item[1].timestamp):
        logs = []
        for i, trade in batch:
            logs.extend(trade_logs(trade, legs=1 + i % 3, taker_leg=i % 2 == 0))
            rtds.push(trade_frame(trade, checksum=i % 2 == 1))
        node.append_block(logs, int(second.timestamp()))


def test_zero_lost_zero_duplicated_across_disconnect_stall_and_restart(
    aws: LocalAws, sim: SimPolymarketServer, world: SimWorld, node: FakeRpcNode, rtds: RtdsServer
) -> None:
    tracked = set(most_active(world, 4))
    start = world.day_start + hours(2)
    phase_ends = [start + hours(n) for n in (1, 2, 3, 4)]
    sim.set_time(start)
    seed_whales(dict.fromkeys(tracked, WhaleStatus.ACTIVE), start)
    expected = trades_of(world, tracked, start - hours(LOOKBACK_S / 3600), phase_ends[-1])
    fills = sorted((t for t in world.day_trades if t.wallet in tracked), key=lambda t: t.timestamp)
    seen: dict[str, int] = {}

    def fills_between(a: datetime, b: datetime) -> list[WhaleTrade]:
        return [t for t in fills if a < t.timestamp <= b]

    async def replay(until_time: datetime, running: list[Running], total_before: int) -> None:
        while sim.now < until_time:
            step_end = min(sim.now + STEP, until_time)
            happen(node, rtds, fills_between(sim.now, step_end))
            sim.set_time(step_end)
            due = len([t for t in expected.values() if t.timestamp <= step_end])
            await until(
                lambda due=due: total_before + sum(r.claimed() for r in running) >= due, f"fills up to {step_end}"
            )

    async def scenario() -> None:
        first = Running(aws, sim, node, rtds)
        await until(lambda: first.listener.wallets == tracked, "the watch list")
        await until(lambda: first.chain.last_processed_block is not None, "the chain subscription")
        await replay(phase_ends[0], [first], 0)  # 1. normal

        rtds.drop()  # 2. faults: RTDS sockets aborted, and the chain node goes silent
        node.stall()
        stalled_block = node.head
        await replay(phase_ends[1], [first], 0)
        await until(lambda: first.chain.last_processed_block is not None, "chain progress")
        node.resume()
        await until(lambda: (first.chain.last_processed_block or 0) >= node.head - 1, "the chain backfill")
        seen["chain_backfilled"] = first.listener.counters.get("chain.backfilled_logs", 0)
        seen["stale_reconnects"] = first.listener.counters.get("chain.stale_reconnects", 0)
        seen["rtds_reconnects"] = first.listener.counters.get("rtds.reconnects", 0)
        seen["stalled_block"] = stalled_block
        await first.shutdown()

        claimed_by_first = first.claimed()
        happen(node, rtds, fills_between(sim.now, phase_ends[2]))  # 3. an hour with no listener running
        sim.set_time(phase_ends[2])
        second = Running(aws, sim, node, rtds)
        due = len([t for t in expected.values() if t.timestamp <= phase_ends[2]])
        await until(lambda: claimed_by_first + second.claimed() >= due, "the restart's backfill")
        seen["restart_recovered_by_data_api"] = second.listener.counters.get("data-api.claimed", 0)
        await replay(phase_ends[3], [second], claimed_by_first)  # 4. normal again
        await asyncio.sleep(0.3)  # let any stray duplicate surface before the check
        await second.shutdown()
        seen["claimed"] = claimed_by_first + second.claimed()
        seen["duplicates"] = sum(
            n for r in (first, second) for key, n in r.listener.counters.items() if key.endswith(".duplicates")
        )

    asyncio.run(scenario())
    while_down = [t for t in expected.values() if phase_ends[1] < t.timestamp <= phase_ends[2]]
    # the block at the head when the new listener subscribes is read by its chain source; the older ones are not
    behind_head = [t for t in while_down if t.timestamp < max(w.timestamp for w in while_down)]

    got = delivered(aws)
    assert len(expected) > 20
    assert set(got.queue) == set(expected), "lost or foreign trades on the queue"
    assert set(got.queue.values()) == {1}, "a trade was published twice"
    assert set(got.fanout) == set(expected) and set(got.fanout.values()) == {1}
    assert seen["claimed"] == len(expected)
    # the faults really happened and were survived the way the design says
    assert seen["stale_reconnects"] >= 1 and seen["rtds_reconnects"] >= 1
    assert behind_head and seen["restart_recovered_by_data_api"] >= len(behind_head), (
        "the fills of the hour with no listener came back through the Data API's persisted high-water marks"
    )
    assert seen["duplicates"] > len(expected), "several sources saw the same fills; the claim let one through"
