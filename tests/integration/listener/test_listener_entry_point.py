"""`functions/listener/main.py` as ECS runs it: a separate process configured only by its environment, talking
to moto and the simulated Data API over loopback HTTP, stopped with SIGTERM.

It must publish the tracked wallets' fills, exit 0 on SIGTERM after persisting its high-water marks (the
checkpoint interval is 30 s, so the marks found in the table come from the shutdown path), write only JSON
lines to stdout, and never print the Polygon RPC URL (an operator secret that is in its environment).
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from copytrader.listener.config import (
    ENV_DATA_API_LOOKBACK_S,
    ENV_DATA_API_POLL_INTERVAL_S,
    ENV_DATA_API_URL,
    ENV_GAMMA_URL,
    ENV_MARKS_TABLE,
    ENV_RTDS_URL,
    ENV_WATCH_LIST_REFRESH_S,
)
from copytrader.local.aws import LocalAws
from copytrader.model import WhaleStatus, WhaleTrade
from copytrader.runtime.env import EVENT_BUS_NAME, POLYGON_RPC_URL, TRADE_QUEUE_URL
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld
from tests.support.listener_world import delivered, hours, most_active, seed_whales, trades_of

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SECRET_RPC_URL = "wss://polygon-mainnet.example/v2/NEVER-LOG-THIS-KEY"
QUIET_S = 300  # the lookback cutoff sits in a quiet stretch, so start-up delay cannot move a trade across it


def quiet_cutoff(trades: list[WhaleTrade], after: datetime) -> datetime:
    """A time after `after` with no fill of `trades` in the QUIET_S seconds that follow it."""
    times = sorted(t.timestamp for t in trades if t.timestamp > after)
    for earlier, later in itertools.pairwise(times):
        if (later - earlier).total_seconds() > QUIET_S + 60:
            return earlier + timedelta(seconds=30)
    raise AssertionError("no quiet stretch in the simulated day")


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.05)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_entry_point_publishes_then_drains_and_persists_on_sigterm(
    aws: LocalAws, marks_table: str, sim: SimPolymarketServer, world: SimWorld
) -> None:
    assert aws.resources is not None
    tracked = set(most_active(world, 3))
    cutoff = quiet_cutoff([t for t in world.day_trades if t.wallet in tracked], world.day_start + hours(1))
    sim.set_time(cutoff + hours(2))
    seed_whales(dict.fromkeys(tracked, WhaleStatus.ACTIVE), sim.now)
    expected = trades_of(world, tracked, cutoff, sim.now)
    assert len(expected) >= 5

    lookback_s = int((datetime.now(UTC) - cutoff).total_seconds())  # the process's clock is the real one
    env = {
        **os.environ,
        TRADE_QUEUE_URL: aws.resources.queue_url,
        EVENT_BUS_NAME: aws.resources.bus_name,
        ENV_MARKS_TABLE: marks_table,
        ENV_DATA_API_URL: f"{sim.url}/data",
        ENV_DATA_API_POLL_INTERVAL_S: "0.05",
        ENV_DATA_API_LOOKBACK_S: str(lookback_s),
        ENV_WATCH_LIST_REFRESH_S: "1",
        POLYGON_RPC_URL: SECRET_RPC_URL,  # the chain source tries it (and fails): its key must never be logged
        ENV_RTDS_URL: f"ws://127.0.0.1:{closed_port()}",  # no test reaches the internet
        ENV_GAMMA_URL: f"{sim.url}/gamma",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    sqs = aws.client("sqs")

    def queued() -> int:
        attributes = sqs.get_queue_attributes(
            QueueUrl=aws.resources.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"])

    process = subprocess.Popen(
        [sys.executable, "functions/listener/main.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: queued() >= len(expected) or process.poll() is not None, 20, "trades on the queue")
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, stderr[-2000:]
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    logs = [line for line in lines if "_aws" not in line]
    metrics = [line for line in lines if "_aws" in line]  # CloudWatch EMF documents
    messages = [line["message"] for line in logs]
    assert messages[0] == "listener starting" and messages[-1] == "listener stopped"
    assert "listener stats" in messages
    assert metrics and all(m["listener_heartbeat"] == [1.0] for m in metrics)
    assert sum(sum(m.get("listener_published", [])) for m in metrics) == len(expected)
    assert SECRET_RPC_URL not in stdout + stderr and "NEVER-LOG-THIS-KEY" not in stdout + stderr
    assert sim.url not in stdout, "URLs are not logged (only the host)"

    got = delivered(aws)
    assert set(got.queue) == set(expected) and set(got.queue.values()) == {1}

    items = aws.client("dynamodb").scan(TableName=marks_table)["Items"]
    newest = {item["wallet"]["S"]: int(item["newest"]["N"]) for item in items}
    assert set(newest) == tracked
    for wallet in tracked:
        latest = max(t.timestamp for t in world.day_trades if t.wallet == wallet and t.timestamp <= sim.now)
        assert newest[wallet] == int(latest.timestamp()) or latest < cutoff
