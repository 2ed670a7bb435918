"""`ChainSource` against a loopback JSON-RPC WebSocket node (tests/support/rpc_server.py) and the simulated
Gamma (`SimPolymarketServer`): the simulated day's fills are replayed as V2 `OrderFilled` logs (split into
several legs, whales as takers and as makers, untracked wallets' fills in the same blocks).

Each test checks the source's own output, before any claim: every tracked fill reaches the sink exactly
once with the canonical key, side, size, price, market and block time; nothing of an untracked wallet
does. Failure modes: a dropped connection, a silent stall (socket open, pings answered, nothing pushed),
eth_getLogs range limits, a reorg, an unreachable node, and a watch list changed on a live connection.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import groupby

import httpx
import pytest

from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.listener.chain_source import ChainSource
from copytrader.listener.health import SourceHealth
from copytrader.model import Source, WhaleTrade
from copytrader.polymarket.chain import CTF_EXCHANGE, NEG_RISK_CTF_EXCHANGE
from copytrader.polymarket.tokens import TokenResolver, gamma_fetcher
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from tests.support.chain_logs import Log, order_filled_log, trade_logs
from tests.support.listener_fakes import RecordingSink
from tests.support.rpc_server import LOGGER as NODE_LOGGER
from tests.support.rpc_server import FakeRpcNode
from tests.support.sim_worlds import SMALL_WORLD

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SECRET = "secret-api-key"  # part of the node URL's path: must never be logged
FAST = ChainSourceSettings(flush_delay_s=0.05, backoff_base_s=0.05, backoff_max_s=0.2, retry_s=0.1)


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return build_world(SMALL_WORLD)


@pytest.fixture(scope="module")
def sim(world: SimWorld) -> Iterator[SimPolymarketServer]:
    with SimPolymarketServer(world) as server:
        yield server


@pytest.fixture
def node(world: SimWorld) -> Iterator[FakeRpcNode]:
    with FakeRpcNode(int(world.day_start.timestamp())) as running:
        yield running


class TimedSink(RecordingSink):
    """A `RecordingSink` that also notes when each trade was accepted (wall clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted_at: dict[str, datetime] = {}

    async def accept(self, trades: Sequence[WhaleTrade]) -> None:
        await super().accept(trades)
        now = datetime.now(UTC)
        for trade in trades:
            self.accepted_at.setdefault(trade.key, now)

    def keys(self) -> Counter[str]:
        return Counter(t.key for t in self.accepted)


@asynccontextmanager
async def running(source: ChainSource, sink: TimedSink) -> AsyncIterator[asyncio.Task[None]]:
    """Run the source until the block ends; it must stop promptly and without an error."""
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(sink, stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=5)
    assert task.exception() is None


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged at any level, except the fake node's own records."""
    return "\n".join(f"{r.name} {r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != NODE_LOGGER.name)


async def until(predicate: Callable[[], bool], what: str, timeout_s: float = 8.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def chain_source(
    node: FakeRpcNode, sim: SimPolymarketServer, wallets: Iterable[str], settings: ChainSourceSettings = FAST
) -> AsyncIterator[tuple[ChainSource, TimedSink, SourceHealth]]:
    health = SourceHealth()
    health.register("chain", settings.stale_after_s)
    async with httpx.AsyncClient(base_url=f"{sim.url}/gamma", timeout=5) as http:
        source = ChainSource(node.url, TokenResolver(gamma_fetcher(http)), health, settings)
        source.track(frozenset(wallets))
        sink = TimedSink()
        async with running(source, sink):
            yield source, sink, health


# ------------------------------------------------------------------------------------------------ replay


def busiest(world: SimWorld, n: int) -> list[str]:
    return [wallet for wallet, _ in Counter(t.wallet for t in world.day_trades).most_common(n)]


def replay(node: FakeRpcNode, world: SimWorld, trades: Sequence[WhaleTrade]) -> int:
    """Mine the trades as OrderFilled logs, one block per second of trade time; returns the logs mined.

    Trade i is split into 1 + i % 3 legs; the wallet is the taker for even i and a maker for odd i; trades
    of neg-risk markets settle on the neg-risk exchange.
    """
    neg_risk = {m.condition_id for m in world.markets if m.neg_risk}
    mined = 0
    ordered = sorted(enumerate(trades), key=lambda item: item[1].timestamp)
    for second, batch in groupby(ordered, key=lambda item: item[1].timestamp):
        logs: list[Log] = []
        for i, trade in batch:
            exchange = NEG_RISK_CTF_EXCHANGE if trade.condition_id in neg_risk else CTF_EXCHANGE
            logs.extend(trade_logs(trade, legs=1 + i % 3, taker_leg=i % 2 == 0, exchange=exchange))
        node.append_block(logs, int(second.timestamp()))
        mined += len(logs)
    return mined


def assert_delivered_once(sink: TimedSink, expected: Sequence[WhaleTrade]) -> None:
    """Each expected trade exactly once, equal to the simulated fill in every field but source and detection."""
    keys = sink.keys()
    assert [k for k, n in keys.items() if n > 1] == [], "a fill was emitted twice"
    assert set(keys) == {t.key for t in expected}
    by_key = {t.key: t for t in sink.accepted}
    for want in expected:
        got = by_key[want.key]
        assert got.source is Source.CHAIN
        fields = (
            "wallet",
            "side",
            "token_id",
            "condition_id",
            "outcome",
            "outcome_index",
            "price",
            "size",
            "timestamp",
        )
        assert {f: getattr(got, f) for f in fields} == {f: getattr(want, f) for f in fields}
        assert got.detected_at >= got.timestamp


# ------------------------------------------------------------------------------------------------ tests


def test_every_tracked_fill_arrives_once_and_untracked_fills_never(
    node: FakeRpcNode, sim: SimPolymarketServer, world: SimWorld
) -> None:
    tracked = set(busiest(world, 4))
    trades = world.day_trades[:240]
    expected = [t for t in trades if t.wallet in tracked]
    unknown_token = order_filled_log(
        maker=sorted(tracked)[0],
        taker=CTF_EXCHANGE,
        side="BUY",
        token_id=10**70 + 7,
        shares_units=10_000_000,
        pusd_units=4_000_000,
        tx_hash="0x" + "ee" * 32,
    )

    async def scenario() -> None:
        async with chain_source(node, sim, tracked) as (source, sink, health):
            await until(lambda: node.requests["eth_getLogs"] >= 1, "the first connection's catch-up")
            mined = replay(node, world, trades)
            node.append_block([unknown_token], int(trades[-1].timestamp.timestamp()))
            await until(lambda: len(sink.accepted) >= len(expected), "every tracked fill")
            await until(lambda: sink.counters["chain.reject.unknown_token"] == 1, "the unknown token's reject")
            await asyncio.sleep(0.2)  # nothing more may arrive
            assert_delivered_once(sink, expected)
            assert mined > sink.counters["chain.logs"] > len(expected)  # legs; untracked logs filtered by the node
            assert sink.counters["chain.untracked_logs"] == 0 and sink.counters["chain.trades"] == len(expected)
            assert (
                not health.stale("chain")
                and health.snapshot()["chain"]["payloads"] == sink.counters["chain.logs"] + sink.counters["chain.heads"]
            )
            assert source.last_processed_block is not None and source.last_processed_block >= node.head - 1
            [(_, _, raw)] = [r for r in sink.rejected if r[1] == "unknown_token"]
            assert raw["logs"][0]["transactionHash"] == "0x" + "ee" * 32  # type: ignore[index]
            latencies = [(sink.accepted_at[t.key] - t.detected_at).total_seconds() for t in sink.accepted]
            assert max(latencies) < 1.0

    asyncio.run(scenario())


def test_a_dropped_connection_and_a_silent_stall_lose_and_repeat_nothing(
    node: FakeRpcNode, sim: SimPolymarketServer, world: SimWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tracked = set(busiest(world, 5))
    trades = world.day_trades[:360]
    phases = [trades[:120], trades[120:240], trades[240:]]
    expected = [[t for t in phase if t.wallet in tracked] for phase in phases]
    settings = ChainSourceSettings(
        stale_after_s=1.0, flush_delay_s=0.05, backoff_base_s=0.4, backoff_max_s=0.4, retry_s=0.1
    )
    node.max_block_range = 7  # the catch-ups span more blocks: eth_getLogs ranges must be split

    async def scenario() -> None:
        node.mine_every(0.1)  # a live chain: headers keep coming
        async with chain_source(node, sim, tracked, settings) as (_, sink, _):
            await until(lambda: node.requests["eth_getLogs"] >= 1, "the first connection's catch-up")
            replay(node, world, phases[0])
            await until(lambda: len(sink.accepted) >= len(expected[0]), "phase 1")

            node.drop()  # a network failure: the phase-2 blocks are mined while the source is away
            replay(node, world, phases[1])
            await until(lambda: len(sink.accepted) >= len(expected[0]) + len(expected[1]), "phase 2 after the drop")
            assert sink.counters["chain.reconnects"] == 1 and sink.counters["chain.backfilled_logs"] > 0

            opened, stalled_at = node.connections_opened, time.monotonic()
            node.stall()  # the socket stays open and answers pings; nothing is pushed any more
            replay(node, world, phases[2])
            await until(lambda: node.connections_opened > opened, "a new socket after the stall")
            reopened_after = time.monotonic() - stalled_at
            await until(lambda: len(sink.accepted) >= sum(map(len, expected)), "phase 3 after the stall")
            await asyncio.sleep(0.3)
            assert_delivered_once(sink, [t for phase in expected for t in phase])
            assert sink.counters["chain.stale_reconnects"] == 1 and sink.counters["chain.reconnects"] == 2
            assert reopened_after < settings.stale_after_s + settings.backoff_max_s + 0.5
            assert node.connections_opened == 3 and node.open_connections == 1  # the stalled socket was closed
            assert sink.counters["chain.duplicate_logs"] >= 0 and not sink.rejected

    try:
        asyncio.run(scenario())
    finally:
        node.mine_every(None)
    assert SECRET not in client_log(caplog)
    assert "127.0.0.1" in client_log(caplog)  # the host is what identifies the node in the log


def test_track_replaces_the_filter_on_the_open_connection(
    node: FakeRpcNode, sim: SimPolymarketServer, world: SimWorld
) -> None:
    first, added = busiest(world, 2)
    first_all = [t for t in world.day_trades if t.wallet == first]
    added_all = [t for t in world.day_trades if t.wallet == added]
    first_trades, added_trades = first_all[:6], added_all[:6]

    async def scenario() -> None:
        async with chain_source(node, sim, {first}) as (source, sink, _):
            await until(lambda: node.requests["eth_getLogs"] >= 1, "the catch-up")
            replay(node, world, first_trades[:3] + added_trades[:3])
            await until(lambda: len(sink.accepted) >= 3, "the first wallet's fills")

            source.track(frozenset({first, added}))
            await until(lambda: node.requests["eth_unsubscribe"] >= 1, "the re-subscription")
            replay(node, world, first_trades[3:] + added_trades[3:])
            await until(lambda: len(sink.accepted) >= 9, "both wallets' fills")

            source.track(frozenset({added}))
            await until(lambda: node.requests["eth_unsubscribe"] >= 2, "the second re-subscription")
            replay(node, world, first_all[6:10] + added_all[6:10])
            now_expected = added_all[6:10]
            await until(lambda: len(sink.accepted) >= 9 + len(now_expected), "the remaining wallet's fills")
            await asyncio.sleep(0.2)
            assert_delivered_once(sink, first_trades + added_trades[3:] + now_expected)
            assert node.connections_opened == 1 and sink.counters["chain.reconnects"] == 0

    asyncio.run(scenario())


def test_a_leg_removed_by_a_reorg_before_its_block_completed_never_reaches_the_sink(
    node: FakeRpcNode, sim: SimPolymarketServer, world: SimWorld
) -> None:
    wallet = busiest(world, 1)[0]
    undone, kept = [t for t in world.day_trades if t.wallet == wallet][:2]
    settings = ChainSourceSettings(flush_delay_s=5.0, backoff_base_s=0.05)  # only a header completes a block

    async def scenario() -> None:
        async with chain_source(node, sim, {wallet}, settings) as (_, sink, _):
            await until(lambda: node.requests["eth_getLogs"] >= 1, "the catch-up")
            node.append_block(trade_logs(undone, legs=2), int(undone.timestamp.timestamp()))
            await until(lambda: sink.counters["chain.logs"] == 2, "the undone trade's legs")
            node.reorg_last_block()
            node.append_block(trade_logs(kept), int(kept.timestamp.timestamp()))
            node.append_block([], int(kept.timestamp.timestamp()))
            await until(lambda: len(sink.accepted) >= 1, "the trade of the new branch")
            await asyncio.sleep(0.2)
            assert [t.key for t in sink.accepted] == [kept.key]
            assert (
                sink.counters["chain.reject.removed_by_reorg"] == 2 and sink.counters["chain.removed_after_emit"] == 0
            )

    asyncio.run(scenario())


def test_a_failed_claim_keeps_the_trade_pending_and_the_cursor_behind_it(
    node: FakeRpcNode, sim: SimPolymarketServer, world: SimWorld
) -> None:
    wallet = busiest(world, 1)[0]
    trade = next(t for t in world.day_trades if t.wallet == wallet)
    second = int(trade.timestamp.timestamp())

    async def scenario() -> None:
        async with chain_source(node, sim, {wallet}) as (source, sink, _):
            await until(lambda: node.requests["eth_getLogs"] >= 1, "the catch-up")
            sink.fail = True  # the trades table is unavailable
            block = node.append_block(trade_logs(trade, legs=2), second).number
            node.append_block([], second)
            await until(lambda: sink.counters["chain.accept_errors"] >= 3, "a few claim retries")
            assert source.last_processed_block is not None and source.last_processed_block < block
            sink.fail = False
            await until(lambda: len(sink.accepted) == 1, "the trade once the claim works")
            node.append_block([], second)
            await until(lambda: (source.last_processed_block or 0) >= block, "the cursor past the trade's block")
            await asyncio.sleep(0.2)
            assert_delivered_once(sink, [trade])

    asyncio.run(scenario())


def test_an_unreachable_node_is_retried_with_jittered_exponential_backoff(
    sim: SimPolymarketServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delays: list[float] = []
    stop = asyncio.Event()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        if len(delays) == 6:
            stop.set()

    async def scenario() -> None:
        settings = ChainSourceSettings(backoff_base_s=0.1, backoff_max_s=1.0)
        source = ChainSource(
            f"ws://127.0.0.1:{port}/{SECRET}", TokenResolver(None), settings=settings, sleep=sleep, jitter=lambda: 0.5
        )
        source.track(frozenset({"0x" + "ab" * 20}))
        sink = TimedSink()
        await asyncio.wait_for(source.run(sink, stop), timeout=10)
        assert sum(n for k, n in sink.counters.items() if k.startswith("chain.connection_errors.")) == 6
        assert SECRET not in repr(source)

    asyncio.run(scenario())
    # attempt n waits base x 2^n capped, jittered into [half, full]: jitter 0.5 gives three quarters of it
    assert delays == pytest.approx([0.075, 0.15, 0.3, 0.6, 0.75, 0.75])
    assert SECRET not in client_log(caplog)
