"""Helpers of the listener integration tests: pick whales in the simulated world, seed the whales table,
and read back what reached the SQS FIFO queue and the EventBridge fan-out queue."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from copytrader.local.aws import LocalAws
from copytrader.model import WhaleProfile, WhaleStatus, WhaleTrade
from copytrader.sim.world import SimWorld
from copytrader.store.whales import Whales


def most_active(world: SimWorld, n: int) -> list[str]:
    """The n wallets with the most fills on the live day (the busiest whales make the strongest test)."""
    return [wallet for wallet, _ in Counter(t.wallet for t in world.day_trades).most_common(n)]


def seed_whales(statuses: dict[str, WhaleStatus], now: datetime) -> None:
    whales = Whales()
    for wallet, status in statuses.items():
        whales.put(WhaleProfile(wallet=wallet, status=status), now)


def trades_of(world: SimWorld, wallets: set[str], after: datetime, until: datetime) -> dict[str, WhaleTrade]:
    """The live day's fills of `wallets` with after <= timestamp <= until, by canonical key."""
    return {t.key: t for t in world.day_trades if t.wallet in wallets and after <= t.timestamp <= until}


@dataclass
class Delivered:
    queue: Counter[str]  # trade key -> messages on the SQS FIFO queue
    fanout: Counter[str]  # trade key -> events delivered through the EventBridge rule


def drain_queue(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Receive and delete until the queue stays empty (FIFO groups release their next message on delete)."""
    bodies: list[dict[str, Any]] = []
    empty = 0
    while empty < 2:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        empty = 0 if messages else empty + 1
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def delivered(aws: LocalAws) -> Delivered:
    assert aws.resources is not None
    sqs = aws.client("sqs")
    queue = Counter(body["key"] for body in drain_queue(sqs, aws.resources.queue_url))
    fanout = Counter(body["detail"]["key"] for body in drain_queue(sqs, aws.resources.fanout_queue_url))
    return Delivered(queue, fanout)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
