"""The listener's figures: how many feed frames one core turns into canonical trades, and how long a tracked
fill takes from the frame's receipt to SQS accepting it.

Frames are real-shaped: RTDS `activity` frames built like the captured one (tests/support/rtds_server.py),
mostly the global firehose of wallets we do not track, and V2 `OrderFilled` logs ABI-encoded like the real
ones (tests/support/rpc_server.py), which the node has already filtered to tracked wallets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.figure import BenchmarkError, Figure, p
from copytrader.listener.chain_legs import LegGroup, whale_trade
from copytrader.listener.outbox import Outbox
from copytrader.listener.publish import TradePublisher
from copytrader.local.aws import LocalAws
from copytrader.model import Source, WhaleProfile, WhaleStatus, WhaleTrade
from copytrader.polymarket.chain import ChainReject, decode_order_filled
from copytrader.polymarket.rtds import TradeFrame, parse_frame
from copytrader.polymarket.tokens import TokenResolver
from copytrader.sim.config import SimConfig
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import build_world
from copytrader.store.trades import SeenTrades
from copytrader.store.whales import Whales
from tests.support import builders as b
from tests.support.chain_logs import trade_logs
from tests.support.fake_polymarket import gamma_payload
from tests.support.rpc_server import FakeRpcNode
from tests.support.rtds_server import RtdsServer, firehose_frames, trade_frame

TRACKED = 1_000
MARKETS = 20
FRAMES = 20_000
SHARE_RTDS_TRACKED = 0.03
SHARE_CHAIN = 0.03


def _tracked_trades(n: int, salt: str) -> list[WhaleTrade]:
    markets = [b.market(f"bench-{i}") for i in range(MARKETS)]
    return [
        b.trade(markets[i % MARKETS], f"whale-{i % TRACKED}", tx=f"{salt}-{i}", price="0.43", size="123.45")
        for i in range(n)
    ]


def _frame_mix() -> tuple[list[tuple[str, str]], frozenset[str], TokenResolver]:
    """(kind, text) frames in a fixed interleaving: firehose, tracked RTDS frames, chain logs."""
    tracked_trades = _tracked_trades(int(FRAMES * (SHARE_RTDS_TRACKED + SHARE_CHAIN)), "mix")
    split = int(FRAMES * SHARE_RTDS_TRACKED)
    rtds_tracked = [("rtds", trade_frame(t, checksum=i % 2 == 1)) for i, t in enumerate(tracked_trades[:split])]
    block = {"blockNumber": "0x10", "blockHash": "0x" + "ab" * 32, "blockTimestamp": hex(1_790_000_000)}
    chain = [
        ("chain", json.dumps({**log, **block, "logIndex": hex(i), "transactionHash": t.tx_hash}))
        for i, t in enumerate(tracked_trades[split:])
        for log in trade_logs(t)
    ]
    firehose = [
        ("rtds", text) for text in firehose_frames(tracked_trades[:50], FRAMES - len(rtds_tracked) - len(chain))
    ]
    specials = rtds_tracked + chain
    step = max(1, len(firehose) // max(1, len(specials)))
    mix: list[tuple[str, str]] = []
    for i, frame in enumerate(firehose):
        mix.append(frame)
        if i % step == 0 and specials:
            mix.append(specials.pop())
    mix.extend(specials)
    wallets = frozenset(b.wallet(f"whale-{i}") for i in range(TRACKED))
    resolver = TokenResolver.from_gamma_markets([gamma_payload(b.market(f"bench-{i}")) for i in range(MARKETS)])
    return mix, wallets, resolver


def _normalize(kind: str, text: str, tracked: frozenset[str], resolver: TokenResolver) -> WhaleTrade | None:
    """One frame through the listener's per-frame path: parse, filter on the watched wallets, normalize."""
    now = datetime.now(UTC)
    if kind == "rtds":
        result = parse_frame(text, now, tracked)
        return result.trade if isinstance(result, TradeFrame) else None
    fill = decode_order_filled(json.loads(text))
    if isinstance(fill, ChainReject) or fill.maker not in tracked:
        return None
    token = resolver.cached(fill.token_id)
    if token is None:
        return None
    group = LegGroup(key=fill.key, block_number=fill.block_number, detected_at=now, legs=[fill])
    return whale_trade(group, token, now)


def listener_frames(args: argparse.Namespace) -> list[Figure]:
    """parse + filter + normalize of a mixed feed on one core (best of three passes)."""
    mix, tracked, resolver = _frame_mix()
    expected = sum(1 for kind, _ in mix if kind == "chain") + int(FRAMES * SHARE_RTDS_TRACKED)
    rates = []
    for _ in range(3):
        started = time.perf_counter()
        trades = [t for kind, text in mix if (t := _normalize(kind, text, tracked, resolver)) is not None]
        rates.append(len(mix) / (time.perf_counter() - started))
        if len(trades) != expected:
            raise BenchmarkError(f"listener_frames: {len(trades)} trades from the mix, expected {expected}")
    chain_share = sum(1 for kind, _ in mix if kind == "chain") / len(mix)
    what = (
        f"{len(mix):,} frames ({1 - chain_share - SHARE_RTDS_TRACKED:.0%} RTDS firehose, "
        f"{SHARE_RTDS_TRACKED:.0%} RTDS tracked, {chain_share:.0%} chain logs), {TRACKED:,} tracked wallets, one core"
    )
    return [Figure("listener_frames_per_s", max(rates), what)]


class _TimedSqs:
    """The SQS client, noting when `send_message_batch` returned (SQS accepted) for each deduplication id."""

    def __init__(self, client: Any, on_accepted: Callable[[str, float], None]) -> None:
        self._client, self._on_accepted = client, on_accepted

    def send_message_batch(self, **kwargs: Any) -> Any:
        response = self._client.send_message_batch(**kwargs)
        done = time.perf_counter()
        failed = {f["Id"] for f in response.get("Failed", [])}
        for entry in kwargs["Entries"]:
            if entry["Id"] not in failed:
                self._on_accepted(entry["MessageDeduplicationId"], done)
        return response


def listener_to_queue(args: argparse.Namespace) -> list[Figure]:
    """Frame receipt -> parse -> claim (conditional put) -> SQS send accepted, one tracked fill at a time."""
    warmup, count = 20, 500
    trades = _tracked_trades(warmup + count, "latency")
    frames = [trade_frame(t) for t in trades]
    tracked = frozenset(t.wallet for t in trades)
    with LocalAws() as aws:
        resources = aws.resources
        assert resources is not None
        accepted: dict[str, float] = {}

        async def run() -> list[float]:
            loop = asyncio.get_running_loop()
            arrived = asyncio.Event()

            def on_accepted(key: str, at: float) -> None:  # on the publishing worker thread
                accepted[key] = at
                loop.call_soon_threadsafe(arrived.set)

            sqs = _TimedSqs(aws.client("sqs"), on_accepted)
            publisher = TradePublisher(sqs, resources.queue_url, aws.client("events"), resources.bus_name)
            outbox = Outbox(SeenTrades(), publisher)
            latencies = []
            for text in frames:
                received = time.perf_counter()
                parsed = parse_frame(text, datetime.now(UTC), tracked)
                if not isinstance(parsed, TradeFrame) or parsed.trade.source is not Source.RTDS:
                    raise BenchmarkError(f"listener_to_queue: frame not parsed as a tracked trade: {parsed}")
                key = parsed.trade.key
                arrived.clear()
                await outbox.accept([parsed.trade])
                while key not in accepted:
                    await arrived.wait()
                    arrived.clear()
                latencies.append(accepted[key] - received)
                await outbox.drain()
                consume()  # untimed: what the Pipe and the fan-out consumers do
            return latencies

        consumer = aws.client("sqs")
        queues = (resources.queue_url, resources.fanout_queue_url)

        def consume() -> None:
            """Receive and delete what is queued. moto's FIFO send walks every message in the queue (AWS does
            not), so an unconsumed queue would make each send slower than the last."""
            for url in queues:
                for message in consumer.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                    consumer.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

        latencies = asyncio.run(run())[warmup:]
    what = (
        f"frame receipt -> claim -> SQS accepted, moto server over HTTP; {count} tracked fills one at a time, "
        "queue consumed between fills"
    )
    return [
        Figure("listener_to_queue_p50_ms", p(latencies, 50), what),
        Figure("listener_to_queue_p99_ms", p(latencies, 99), what),
    ]


_CHILD = """
import atexit, resource, runpy, sys

def report():
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"LISTENER_USAGE {peak} {usage.ru_utime + usage.ru_stime}", file=sys.stderr)

atexit.register(report)
runpy.run_path("functions/listener/main.py", run_name="__main__")
"""


def listener_task(args: argparse.Namespace) -> list[Figure]:
    """The Fargate entry point with all three sources under a 100x firehose: peak memory and CPU share.

    The task runs `functions/listener/main.py` in its own process (its peak RSS is read from /proc:
    `ru_maxrss` would carry this process's own peak across fork and exec), against loopback servers and
    moto; RTDS gets 5,000 frames/s of untracked trades (the real global feed is ~50/s), the chain node a
    block every 100 ms, the Data API the tracked wallets' history.
    """
    seconds, rate = 30.0, 5_000
    world = build_world(SimConfig())
    with (
        LocalAws() as aws,
        SimPolymarketServer(world) as sim,
        RtdsServer() as rtds,
        FakeRpcNode(int(world.day_start.timestamp())) as node,
    ):
        resources = aws.resources
        assert resources is not None
        sim.set_time(world.day_end)
        for wallet in sorted(world.skilled_addresses):
            Whales().put(WhaleProfile(wallet=wallet, status=WhaleStatus.ACTIVE), world.day_end)
        env = {
            **os.environ,
            "COPYTRADER_TRADE_QUEUE_URL": resources.queue_url,
            "COPYTRADER_EVENT_BUS_NAME": resources.bus_name,
            "COPYTRADER_TABLE_WATERMARKS": "copytrader-watermarks",
            "COPYTRADER_DATA_API_URL": f"{sim.url}/data",
            "COPYTRADER_GAMMA_URL": f"{sim.url}/gamma",
            "COPYTRADER_RTDS_URL": rtds.url,
            "COPYTRADER_POLYGON_RPC_URL": node.url,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        frames = firehose_frames(world.day_trades[:200], 10_000)
        batch = rate // 10
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            rtds.push(frames[:batch])
            frames = frames[batch:] + frames[:batch]
            node.append_block([], None)
            time.sleep(0.1)
        child.send_signal(signal.SIGTERM)
        _, stderr = child.communicate(timeout=60)
    line = next((ln for ln in stderr.splitlines() if ln.startswith("LISTENER_USAGE")), None)
    if child.returncode != 0 or line is None:
        raise BenchmarkError(f"listener_task: the listener exited {child.returncode}: {stderr[-1000:]}")
    _, peak_kb, cpu_s = line.split()
    what = f"functions/listener/main.py, 3 sources, RTDS firehose {rate:,} frames/s for {seconds:.0f} s"
    return [
        Figure("listener_task_peak_rss_mb", int(peak_kb) / 1024, what),
        Figure("listener_task_vcpu", float(cpu_s) / seconds, f"{what}: CPU seconds per second"),
    ]
