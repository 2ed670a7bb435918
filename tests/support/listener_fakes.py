"""Fakes shared by the listener unit tests: Data API rows, a Data API on httpx.MockTransport (its client runs on
a `tests.support.clock.Clock`), and in-memory claims, publisher and sink."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx

from copytrader.listener.publish import PublishReport
from copytrader.model import WhaleTrade
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from copytrader.polymarket.data_api.rows import parse_trade_row
from tests.support.builders import T0, hex_id
from tests.support.clock import Clock

EPOCH0 = int(T0.timestamp())


WALLET = hex_id("wallet:whale", 20)
OTHER_WALLET = hex_id("wallet:other", 20)
CONDITION = hex_id("condition:m1", 32)
TOKEN = str(int(hashlib.sha256(b"token").hexdigest(), 16))[:76]


def v1_row(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """A v1 `/trades` row with every documented field (values made up for the test, layout as documented)."""
    row: dict[str, Any] = {
        "proxyWallet": WALLET,
        "side": "BUY",
        "asset": TOKEN,
        "conditionId": CONDITION,
        "size": 100.5,
        "price": 0.42,
        "timestamp": EPOCH0 + n,
        "title": "Will it happen?",
        "slug": "will-it-happen",
        "icon": "",
        "eventSlug": "it",
        "outcome": "Yes",
        "outcomeIndex": 0,
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profileImage": "",
        "profileImageOptimized": "",
        "transactionHash": hex_id(f"tx:{n}", 32),
    }
    row.update(overrides)
    return row


def v2_row(n: int = 0, **overrides: Any) -> dict[str, Any]:
    """The same trade in the `/v2/trades` snake_case layout."""
    row: dict[str, Any] = {
        "proxy_wallet": WALLET,
        "side": "BUY",
        "token_id": TOKEN,
        "condition_id": CONDITION,
        "size": 100.5,
        "price": 0.42,
        "timestamp": EPOCH0 + n,
        "title": "Will it happen?",
        "slug": "will-it-happen",
        "icon": "",
        "event_slug": "it",
        "outcome": "Yes",
        "outcome_index": 0,
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profile_image": "",
        "profile_image_optimized": "",
        "transaction_hash": hex_id(f"tx:{n}", 32),
    }
    row.update(overrides)
    return row


def trade(n: int) -> WhaleTrade:
    """The canonical trade of `v1_row(n)`."""
    parsed = parse_trade_row(v1_row(n), T0)
    assert isinstance(parsed, WhaleTrade)
    return parsed


@dataclass
class FakeDataApi:
    """`GET /trades` over rows held newest first; `responders` can script failures per request number."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # wallet -> rows, newest first
    requests: list[dict[str, str]] = field(default_factory=list)
    responders: dict[int, Callable[[], httpx.Response]] = field(default_factory=dict)
    before_page: Callable[[int], None] | None = None  # called with the request number before answering

    def handler(self, request: httpx.Request) -> httpx.Response:
        number = len(self.requests)
        params = {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()}
        self.requests.append(params)
        if number in self.responders:
            return self.responders[number]()
        if self.before_page is not None:
            self.before_page(number)
        rows = self.rows.get(params.get("user", ""), [])
        if "end" in params:
            rows = [r for r in rows if r["timestamp"] <= int(params["end"])]
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        return httpx.Response(200, content=json.dumps(rows[offset : offset + limit]).encode())

    def client(self, clock: Clock, limiter: SlidingWindowLimiter | None = None, **kwargs: Any) -> DataApiClient:
        http = httpx.AsyncClient(base_url="https://data-api.test", transport=httpx.MockTransport(self.handler))
        limiter = limiter or SlidingWindowLimiter(10_000, 10.0, clock=clock.monotonic, sleep=clock.sleep)
        return DataApiClient(http, limiter, wall=clock, sleep=clock.sleep, jitter=lambda: 0.0, **kwargs)


class FakeClaims:
    """`SeenTrades` in memory; `fail_keys` raise like a DynamoDB outage would."""

    def __init__(self) -> None:
        self.claimed: set[str] = set()
        self.pending: dict[str, tuple[WhaleTrade, datetime]] = {}
        self.fail_keys: set[str] = set()
        self.calls = 0

    def claim(self, trade: WhaleTrade, now: datetime) -> bool:
        self.calls += 1
        if trade.key in self.fail_keys:
            raise RuntimeError("dynamodb unavailable")
        if trade.key in self.claimed:
            return False
        self.claimed.add(trade.key)
        self.pending[trade.key] = (trade, now)
        return True

    def mark_published(self, key: str, now: datetime) -> None:
        self.pending.pop(key, None)

    def stale_unpublished(self, older_than: datetime, limit: int = 100) -> list[WhaleTrade]:
        return [trade for trade, at in sorted(self.pending.values(), key=lambda p: p[1]) if at < older_than][:limit]

    def retake(self, key: str, now: datetime, older_than: datetime) -> bool:
        if key not in self.pending or self.pending[key][1] >= older_than:
            return False
        self.pending[key] = (self.pending[key][0], now)
        return True


class FakePublisher:
    """Records every publish call; keys in `fail_queue_once` fail on SQS the first time they are sent."""

    def __init__(self) -> None:
        self.calls: list[list[WhaleTrade]] = []
        self.queued: list[str] = []
        self.fail_queue_once: set[str] = set()
        self.fail_events: set[str] = set()
        self._failed: set[str] = set()

    def publish(self, trades: Sequence[WhaleTrade]) -> PublishReport:
        self.calls.append(list(trades))
        failed = [t.key for t in trades if t.key in self.fail_queue_once and t.key not in self._failed]
        self._failed.update(failed)
        self.queued.extend(t.key for t in trades if t.key not in failed)
        events_failed = [t.key for t in trades if t.key in self.fail_events]
        return PublishReport(
            queued=len(trades) - len(failed),
            evented=len(trades) - len(events_failed),
            failed_queue=failed,
            failed_events=events_failed,
        )


class RecordingSink:
    """A `TradeSink` that keeps what it is given; `fail` makes `accept` raise (a claim outage)."""

    def __init__(self) -> None:
        self.accepted: list[WhaleTrade] = []
        self.counters: Counter[str] = Counter()
        self.rejected: list[tuple[str, str, object]] = []
        self.fail = False

    async def accept(self, trades: Sequence[WhaleTrade]) -> None:
        if self.fail:
            raise RuntimeError("claim failed")
        self.accepted.extend(trades)

    def count(self, source: str, event: str, n: int = 1) -> None:
        self.counters[f"{source}.{event}"] += n

    def reject(self, source: str, reason: str, raw: object) -> None:
        self.counters[f"{source}.reject.{reason}"] += 1
        self.rejected.append((source, reason, raw))
