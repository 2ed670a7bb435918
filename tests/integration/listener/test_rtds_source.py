"""`RtdsSource` against the loopback RTDS server: tracked trades arrive and untracked ones never do, PINGs
keep time, a silent stall and a dropped socket are both replaced by a new connection (with growing,
jittered backoff while the fault lasts), the wallet filter changes without a reconnect, a failed claim is
offered again, and feed errors never escape `run`. Intervals are short (PING 0.1 s, stale after 0.5 s)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from decimal import Decimal
from itertools import pairwise

import pytest
from eth_utils.address import to_checksum_address

from copytrader.listener.health import SourceHealth
from copytrader.listener.rtds_source import RtdsSettings, RtdsSource
from copytrader.model import Source, WhaleTrade
from copytrader.polymarket.rtds import ORDERS_MATCHED, subscribe_message
from copytrader.sim.world import SimWorld, build_world
from tests.support.listener_fakes import RecordingSink
from tests.support.rtds_server import ConnectionLog, RtdsServer, envelope, firehose_frames, trade_frame, trade_payload
from tests.support.sim_worlds import SMALL_WORLD

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FAST = RtdsSettings(
    ping_interval_s=0.1,
    stale_after_s=0.5,
    open_timeout_s=2.0,
    close_timeout_s=0.5,
    backoff_initial_s=0.05,
    backoff_max_s=0.4,
)
QUIET = replace(FAST, stale_after_s=5.0)  # for tests that push no steady traffic


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return build_world(SMALL_WORLD)


@pytest.fixture(scope="module")
def whales(world: SimWorld) -> list[str]:
    """The three busiest wallets of the simulated day."""
    return [w for w, _ in Counter(t.wallet for t in world.day_trades).most_common(3)]


@pytest.fixture
def server() -> Iterator[RtdsServer]:
    with RtdsServer() as running:
        yield running


@pytest.fixture
def firehose_server(world: SimWorld, whales: list[str]) -> Iterator[RtdsServer]:
    """A server whose firehose (other wallets' trades every 20 ms) keeps a healthy socket fresh."""
    others = [t for t in world.day_trades if t.wallet not in whales]
    with RtdsServer(firehose=firehose_frames(others, 200)) as running:
        yield running


def of(world: SimWorld, wallets: Sequence[str]) -> list[WhaleTrade]:
    return [t for t in world.day_trades if t.wallet in set(wallets)]


@asynccontextmanager
async def running(source: RtdsSource, sink: RecordingSink) -> AsyncIterator[asyncio.Event]:
    """Run the source in the background; on exit set `stop` and require `run` to return within 2 s."""
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(sink, stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 2.0)


async def eventually(check: Callable[[], bool], what: str, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def subscribed(server: RtdsServer, n: int) -> ConnectionLog:
    return await asyncio.to_thread(server.wait_for_subscriptions, n)


async def push(server: RtdsServer, frames: str | list[str]) -> None:
    assert await asyncio.to_thread(server.push, frames) >= 1, "no subscribed socket got the frames"


def keys(trades: Sequence[WhaleTrade]) -> set[str]:
    return {t.key for t in trades}


async def delivered(sink: RecordingSink, expected: Sequence[WhaleTrade]) -> None:
    await eventually(lambda: keys(sink.accepted) >= keys(expected), f"{len(expected)} trades")


def gaps(logs: Sequence[ConnectionLog]) -> list[float]:
    """Seconds between one connection's close and the next one's open."""
    return [b.opened_at - a.closed_at for a, b in pairwise(logs) if a.closed_at is not None]


# ------------------------------------------------------------------------------------------------ the filter


def test_tracked_trades_arrive_and_untracked_never_do(world: SimWorld, whales: list[str], server: RtdsServer) -> None:
    ours = of(world, whales)[:60]
    theirs = [t for t in world.day_trades if t.wallet not in whales][:100]
    firehose = firehose_frames(theirs, 2000)
    frames: list[str] = []
    for i, trade in enumerate(ours):  # our trades scattered through the firehose, half checksummed, ...
        frames += firehose[i * 33 : (i + 1) * 33]
        frames.append(trade_frame(trade, checksum=i % 2 == 0))
        if i % 3 == 0:  # ... a third of them reported by `orders_matched` too
            frames.append(trade_frame(trade, kind=ORDERS_MATCHED, checksum=True))
    frames += [trade_frame(t, checksum=True) for t in theirs] + firehose[len(ours) * 33 :]
    ours_frames = len(ours) + len(range(0, len(ours), 3))
    health = SourceHealth()
    sink = RecordingSink()
    source = RtdsSource(replace(QUIET, url=server.url), health=health)
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, frames)
            await delivered(sink, ours)
            await eventually(lambda: sink.counters["rtds.payloads"] == len(frames), "every frame read")
            await asyncio.sleep(0.05)  # nothing else may follow

    asyncio.run(scenario())
    assert keys(sink.accepted) == keys(ours)
    by_key = {t.key: t for t in ours}
    for got in sink.accepted:
        want = by_key[got.key]
        assert got.source is Source.RTDS
        assert (got.wallet, got.size, got.price, got.timestamp) == (want.wallet, want.size, want.price, want.timestamp)
    assert sink.counters["rtds.trades"] == ours_frames
    assert sink.counters["rtds.untracked"] == len(frames) - ours_frames
    assert sink.rejected == []
    assert health.snapshot()["rtds"]["payloads"] == len(frames)


def test_track_swaps_the_filter_without_reconnecting(world: SimWorld, whales: list[str], server: RtdsServer) -> None:
    first, second = whales[0], whales[1]
    a1, a2 = of(world, [first])[:2]
    b1, b2 = of(world, [second])[:2]
    sink = RecordingSink()
    source = RtdsSource(replace(QUIET, url=server.url))
    source.track(frozenset({first}))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, [trade_frame(a1), trade_frame(b1)])
            await delivered(sink, [a1])
            source.track(frozenset({to_checksum_address(second)}))  # any case in, lower-case filter
            await push(server, [trade_frame(a2), trade_frame(b2, checksum=True)])
            await delivered(sink, [b2])
            await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert [t.key for t in sink.accepted] == [a1.key, b2.key]
    assert len(server.connections) == 1
    assert sink.counters["rtds.reconnects"] == 0


def test_a_burst_is_one_accept_with_its_legs_merged(world: SimWorld, whales: list[str], server: RtdsServer) -> None:
    fill = of(world, whales[:1])[0]
    leg = trade_payload(fill)
    legs = [{**leg, "size": 10.0}, {**leg, "size": 30.0}]  # one maker, two resting orders, one settlement
    other = of(world, whales[1:2])[0]
    burst = [envelope(legs[0]), trade_frame(other, kind=ORDERS_MATCHED), envelope(legs[1]), trade_frame(other)]
    batches: list[list[WhaleTrade]] = []

    class BatchSink(RecordingSink):
        async def accept(self, trades: Sequence[WhaleTrade]) -> None:
            batches.append(list(trades))
            await super().accept(trades)

    sink = BatchSink()
    source = RtdsSource(replace(QUIET, url=server.url, batch_window_s=0.1))
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, burst)
            await delivered(sink, [fill, other])

    asyncio.run(scenario())
    assert len(batches) == 1
    merged = {t.key: t for t in batches[0]}
    assert merged[fill.key].size == Decimal(40)
    assert merged[other.key].size == other.size  # the taker in both types is counted once


def test_rejects_are_counted_with_their_raw_frame(world: SimWorld, whales: list[str], server: RtdsServer) -> None:
    good = of(world, whales)[0]
    broken = envelope({**trade_payload(good), "price": 1.5})
    unknown = envelope(trade_payload(good), kind="orders_cancelled")
    sink = RecordingSink()
    source = RtdsSource(replace(QUIET, url=server.url))
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, [broken, "{not json", unknown])
            await push(server, trade_frame(good))
            await delivered(sink, [good])

    asyncio.run(scenario())
    assert [(reason, raw) for _, reason, raw in sink.rejected] == [
        ("price_out_of_range", {"detail": "price 1.5 outside (0, 1)", "frame": broken}),
        ("malformed_json", {"detail": "not JSON: '{not json'", "frame": "{not json"}),
        ("unknown_type", {"detail": "type 'orders_cancelled'", "frame": unknown}),
    ]
    assert sink.counters["rtds.reject.price_out_of_range"] == 1


# ------------------------------------------------------------------------------------------------ keep-alive


def test_a_ping_is_sent_on_connect_and_every_interval(server: RtdsServer) -> None:
    sink = RecordingSink()
    source = RtdsSource(replace(QUIET, url=server.url))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await asyncio.sleep(1.0)

    asyncio.run(scenario())
    (connection,) = server.connections
    assert connection.received[0] == subscribe_message()  # subscribe first, then PINGs only
    assert set(connection.received[1:]) == {"PING"}
    assert 9 <= connection.pings <= 13  # one at connect + one per 0.1 s
    assert sink.counters["rtds.pings"] == connection.pings
    # every PING answered with "", read as keep-alive: neither a payload nor a reject
    assert sink.counters["rtds.control"] >= connection.pings - 1
    assert sink.counters["rtds.payloads"] == 0
    assert sink.rejected == []


# ----------------------------------------------------------------------------------------------------- faults


def test_a_silent_stall_is_replaced_by_a_new_socket(
    world: SimWorld, whales: list[str], firehose_server: RtdsServer
) -> None:
    server = firehose_server
    before, after = of(world, whales)[:5], of(world, whales)[5:10]
    health = SourceHealth()
    sink = RecordingSink()
    source = RtdsSource(replace(FAST, url=server.url), health=health, jitter=lambda: 0.0)
    source.track(frozenset(whales))
    seen: dict[str, float] = {}

    async def scenario() -> None:
        async with running(source, sink):
            first = await subscribed(server, 1)
            await push(server, [trade_frame(t) for t in before])
            await delivered(sink, before)
            pings_at_stall = first.pings
            seen["stalled_at"] = time.monotonic()
            await asyncio.to_thread(server.stall)  # open, answering PINGs, no more payloads
            second = await subscribed(server, 2)
            seen["reconnected_after"] = second.opened_at - seen["stalled_at"]
            seen["pings_while_stalled"] = first.pings - pings_at_stall
            assert first.closed_at is not None, "the stalled socket was closed by the client"
            await push(server, [trade_frame(t) for t in after])
            await delivered(sink, after)
            assert not health.stale("rtds")

    asyncio.run(scenario())
    # stale after 0.5 s without payloads, then backoff 0.025 s (attempt 0, jitter drawn 0)
    assert 0.45 <= seen["reconnected_after"] <= 1.0
    assert seen["pings_while_stalled"] >= 3, "the stall is silent: PINGs kept being answered"
    assert keys(sink.accepted) == keys(before) | keys(after)
    assert sink.counters["rtds.stale_reconnects"] == 1
    assert sink.counters["rtds.reconnects"] == 1
    assert health.snapshot()["rtds"]["reconnects"] == 2  # SourceHealth counts every up transition


def test_a_stall_that_follows_new_sockets_backs_off_until_it_ends(
    world: SimWorld, whales: list[str], firehose_server: RtdsServer
) -> None:
    server = firehose_server
    after = of(world, whales)[:5]
    sink = RecordingSink()
    source = RtdsSource(replace(FAST, url=server.url), jitter=lambda: 1.0)  # jitter drawn at its top: delay = base
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await asyncio.sleep(0.1)
            await asyncio.to_thread(server.stall, True)
            await subscribed(server, 4)
            await asyncio.to_thread(server.resume)
            await push(server, [trade_frame(t) for t in after])
            await delivered(sink, after)

    asyncio.run(scenario())
    logs = server.connections[:4]
    # the first socket had delivered payloads (backoff reset); each stalled one since had none: 0.05, 0.1, 0.2
    measured = gaps(logs)
    for gap, expected in zip(measured, (0.05, 0.1, 0.2), strict=True):
        assert expected - 0.02 <= gap <= expected + 0.25, measured
    assert measured == sorted(measured), "the backoff grows while the fault lasts"
    assert sink.counters["rtds.stale_reconnects"] >= 3
    assert keys(sink.accepted) == keys(after)


def test_a_dropped_socket_reconnects_with_growing_backoff(
    world: SimWorld, whales: list[str], firehose_server: RtdsServer
) -> None:
    server = firehose_server
    before, after = of(world, whales)[:3], of(world, whales)[3:6]
    sink = RecordingSink()
    source = RtdsSource(replace(FAST, url=server.url), jitter=lambda: 1.0)
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, [trade_frame(t) for t in before])
            await delivered(sink, before)
            await asyncio.to_thread(server.drop, True)  # abort this socket and the next ones at once
            await eventually(lambda: len(server.connections) >= 4, "three refused reconnects")
            await asyncio.to_thread(server.resume)
            await subscribed(server, 2)
            await push(server, [trade_frame(t) for t in after])
            await delivered(sink, after)

    asyncio.run(scenario())
    measured = gaps(server.connections[:4])
    for gap, expected in zip(measured, (0.05, 0.1, 0.2), strict=True):
        assert expected - 0.02 <= gap <= expected + 0.25, measured
    assert measured == sorted(measured), "the backoff grows while the fault lasts"
    assert keys(sink.accepted) == keys(before) | keys(after)
    assert sink.counters["rtds.disconnects"] >= 4
    assert sink.counters["rtds.stale_reconnects"] == 0


def test_a_failed_claim_is_offered_again(world: SimWorld, whales: list[str], server: RtdsServer) -> None:
    fill = of(world, whales)[0]
    sink = RecordingSink()
    sink.fail = True
    source = RtdsSource(replace(QUIET, url=server.url), jitter=lambda: 0.0)
    source.track(frozenset(whales))

    async def scenario() -> None:
        async with running(source, sink):
            await subscribed(server, 1)
            await push(server, trade_frame(fill))
            await eventually(lambda: sink.counters["rtds.accept_errors"] >= 2, "two failed claims")
            sink.fail = False
            await delivered(sink, [fill])

    asyncio.run(scenario())
    assert sink.accepted == [
        fill.model_copy(update={"source": Source.RTDS, "detected_at": sink.accepted[0].detected_at})
    ]


def test_feed_errors_never_escape_and_stop_is_prompt() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = RecordingSink()
    source = RtdsSource(replace(FAST, url=f"ws://127.0.0.1:{port}", backoff_max_s=5.0, backoff_initial_s=0.05))
    took: dict[str, float] = {}

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(source.run(sink, stop))
        await eventually(lambda: sink.counters["rtds.connect_errors"] >= 4, "four refused connects")
        await asyncio.sleep(0.2)  # now inside a backoff of 0.4 s or more
        started = time.monotonic()
        stop.set()
        await asyncio.wait_for(task, 1.0)  # returns, does not raise
        took["stop"] = time.monotonic() - started

    asyncio.run(scenario())
    assert took["stop"] < 0.1
    assert sink.counters["rtds.connects"] == 0
