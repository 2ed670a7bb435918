"""Wiring: a `Listener` with the Data API poller, the trades-table claim, SQS/EventBridge publishing and
the whales watch list, from a `ListenerConfig` and clients (so tests wire the same thing against moto
and the simulated Polymarket)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx

from copytrader.listener.chain_source import ChainSource
from copytrader.listener.config import ListenerConfig
from copytrader.listener.data_api_poller import DataApiPoller
from copytrader.listener.fast_exits import FastExits
from copytrader.listener.health import SourceHealth
from copytrader.listener.held_tokens import HeldPositions
from copytrader.listener.high_water import HighWaterMarkStore, InMemoryHighWaterMarks
from copytrader.listener.high_water_dynamo import DynamoHighWaterMarks
from copytrader.listener.marks_feed import BookFetch, MarkFeed
from copytrader.listener.outbox import Outbox
from copytrader.listener.ports import Claims, TradeSource, WatchList
from copytrader.listener.publish import TradePublisher
from copytrader.listener.rtds_source import RtdsSource
from copytrader.listener.service import Listener
from copytrader.listener.sightings import Sightings
from copytrader.listener.telemetry import ListenerTelemetry
from copytrader.listener.watch_list import WhaleWatchList
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from copytrader.polymarket.tokens import TokenResolver, gamma_fetcher
from copytrader.runtime.exit_queue import ExitPublisher
from copytrader.store.marks import PriceMarks
from copytrader.store.positions import Positions
from copytrader.store.trades import SeenTrades


def _utc_now() -> datetime:
    return datetime.now(UTC)


def build_listener(
    config: ListenerConfig,
    *,
    http: httpx.AsyncClient,
    sqs: Any,
    events: Any | None,
    marks: HighWaterMarkStore,
    claims: Claims | None = None,
    watch_list: WatchList | None = None,
    streams: Sequence[TradeSource] = (),
    health: SourceHealth | None = None,
    wall: Callable[[], datetime] = _utc_now,
    monotonic: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    price_marks: MarkFeed | None = None,
    fast_exits: FastExits | None = None,
) -> Listener:
    """The listener: the live `streams` (chain logs, RTDS), already registered with `health`, and the Data API
    poller, which reconciles while a stream is healthy and takes over at full speed when all are down."""
    health = health or SourceHealth(monotonic)
    stream_names = [s.name for s in streams]
    limiter = SlidingWindowLimiter(config.rate_limit, config.rate_window_s, clock=monotonic, sleep=sleep)
    client = DataApiClient(http, limiter, wall=wall, sleep=sleep)
    poller = DataApiPoller(
        client,
        marks,
        config.poller,
        wall=wall,
        monotonic=monotonic,
        sleep=sleep,
        streams_down=lambda: health.all_stale(stream_names) if stream_names else True,
    )
    counters: Counter[str] = Counter()
    publisher = TradePublisher(sqs, config.queue_url, events, config.bus_name)
    sightings = Sightings(expected=[*stream_names, poller.name])
    outbox = Outbox(claims or SeenTrades(), publisher, counters, sightings=sightings, wall=wall, monotonic=monotonic)
    return Listener(
        [*streams, poller],
        outbox,
        watch_list or WhaleWatchList(),
        config.listener,
        health=health,
        telemetry=ListenerTelemetry(counters, health),
        wall=wall,
        sleep=sleep,
        marks=price_marks,
        exits=fast_exits,
    )


@asynccontextmanager
async def deployed_listener(config: ListenerConfig) -> AsyncIterator[Listener]:
    """The deployed listener: AWS clients for the configured region (credentials and endpoint from boto3's
    default chain); the chain source when an RPC URL is configured, RTDS unless switched off, and the Data
    API poller; the HTTP clients are closed on exit."""
    import boto3

    session = boto3.session.Session(region_name=config.aws_region)
    events = session.client("events") if config.bus_name else None
    marks: HighWaterMarkStore = DynamoHighWaterMarks() if config.marks_table else InMemoryHighWaterMarks()
    health = SourceHealth()
    async with (
        DataApiClient.http_client(config.data_api_url, config.request_timeout_s) as http,
        httpx.AsyncClient(base_url=config.gamma_url, timeout=config.request_timeout_s) as gamma,
        httpx.AsyncClient(base_url=config.clob_url, timeout=config.request_timeout_s) as clob,
    ):
        feed = price_mark_feed(config, clob, health) if config.price_marks is not None else None
        sqs = session.client("sqs")
        exits = fast_exits(config, sqs) if feed is not None and config.exit_rules is not None else None
        streams: list[TradeSource] = []
        if config.rpc_url:
            streams.append(ChainSource(config.rpc_url, TokenResolver(gamma_fetcher(gamma)), health))
        if config.rtds is not None:
            streams.append(RtdsSource(config.rtds, health=health))
        yield build_listener(
            config,
            http=http,
            sqs=sqs,
            events=events,
            marks=marks,
            streams=streams,
            health=health,
            price_marks=feed,
            fast_exits=exits,
        )


def clob_book_fetcher(clob: httpx.AsyncClient) -> BookFetch:
    """`GET /book?token_id=` on the CLOB: the JSON answer, None on 404 (no book); raises on any other failure."""

    async def fetch(token_id: str) -> Any:
        response = await clob.get("/book", params={"token_id": token_id})
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    return fetch


def price_mark_feed(config: ListenerConfig, clob: httpx.AsyncClient, health: SourceHealth) -> MarkFeed:
    """The mark feed of the deployed listener: the account's held tokens, the marks table, REST over `clob`."""
    return MarkFeed(
        HeldPositions(Positions(config.account)),
        PriceMarks(),
        clob_book_fetcher(clob),
        config.price_marks,
        health=health,
    )


def fast_exits(config: ListenerConfig, sqs: Any) -> FastExits:
    """The fast stops of the deployed listener: the account's positions, the settings' rules, the copy queue."""
    assert config.exit_rules is not None
    held = HeldPositions(Positions(config.account))
    return FastExits(held.exit_positions, config.exit_rules, ExitPublisher(sqs, config.queue_url))
