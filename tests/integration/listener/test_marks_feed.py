"""`MarkFeed` against the loopback CLOB market channel, the loopback CLOB REST (`GET /book`) and moto: the held
tokens are subscribed, every message type moves the mark, `on_mark` sees each update, marks reach the marks table
within the write policy, a change of positions changes the subscription on the live socket, a dropped socket falls
back to REST and a silent one is replaced. Intervals are short (PING 0.1 s, stale after 0.6 s)."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest

from copytrader.listener.build import clob_book_fetcher
from copytrader.listener.health import SourceHealth
from copytrader.listener.held_tokens import HeldPositions
from copytrader.listener.marks_book import MarkWritePolicy
from copytrader.listener.marks_feed import MarkFeed, MarkFeedSettings
from copytrader.model.marks import Mark, MarkSource
from copytrader.store.marks import PriceMarks
from copytrader.store.positions import Positions
from copytrader.store.tables import PositionModel
from tests.support import builders as b
from tests.support.clob_market_server import ClobMarketServer, book_message
from tests.support.handbook import data_file

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]
D = Decimal
A, B, C = b.token_id("a"), b.token_id("b"), b.token_id("c")
FAST = MarkFeedSettings(
    ping_interval_s=0.1,
    stale_after_s=0.6,
    open_timeout_s=2.0,
    close_timeout_s=0.5,
    backoff_initial_s=0.05,
    backoff_max_s=0.2,
    rest_after_s=60.0,
    rest_interval_s=0.1,
    flush_interval_s=0.05,
    refresh_interval_s=0.1,
    policy=MarkWritePolicy(min_write_gap_s=0.2, write_every_s=30.0),
)


def _hold(*tokens: str, shares: str = "10") -> None:
    for token in tokens:
        PositionModel(
            account="paper", token_id=token, condition_id="0x" + "cd" * 32, shares=D(shares), updated_at=b.T0
        ).save()


async def _until(predicate, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.01)


@asynccontextmanager
async def running(feed: MarkFeed) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


def synchronously(test):
    """Run an async test in its own event loop (the suite has no asyncio plugin)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


def _feed(server: ClobMarketServer, clob: httpx.AsyncClient | None = None, **settings) -> MarkFeed:
    return MarkFeed(
        HeldPositions(Positions("paper")),
        PriceMarks(),
        clob_book_fetcher(clob) if clob is not None else None,
        replace(FAST, url=server.url, **settings),
        health=SourceHealth(),
    )


@synchronously
async def test_held_tokens_are_subscribed_and_every_message_type_moves_the_mark(aws, server):
    # GIVEN positions in A and B (not C), and books for A and B on the channel
    _hold(A, B)
    server.books[A] = book_message(A, bids=[("0.50", "200"), ("0.49", "350")], asks=[("0.51", "150"), ("0.52", "250")])
    server.books[B] = book_message(B, bids=[("0.20", "10")], asks=[])
    feed = _feed(server)
    seen: list[Mark] = []
    feed.on_mark(seen.append)
    async with running(feed):
        # THEN the first frame subscribes exactly the held tokens, then PINGs follow
        await _until(lambda: len(seen) >= 2)
        first = json.loads(server.sockets[0].received[0])
        assert first == {"assets_ids": sorted([A, B]), "type": "market", "custom_feature_enabled": True}
        # the snapshots (worst-first levels): A 0.50 / 0.51, B 0.20 / no ask
        assert (feed.book.get(A).bid, feed.book.get(A).ask) == (D("0.50"), D("0.51"))
        assert (feed.book.get(B).bid, feed.book.get(B).ask) == (D("0.20"), None)
        # WHEN each documented message type arrives for A
        price_change = {
            "event_type": "price_change",
            "market": "0x" + "ab" * 32,
            "price_changes": [
                {"asset_id": A, "price": "0.5", "size": "0", "side": "BUY", "best_bid": "0.49", "best_ask": "0.51"}
            ],
            "timestamp": "1757908892351",
        }
        last_trade = {"event_type": "last_trade_price", "asset_id": A, "price": "0.456", "side": "SELL", "size": "2"}
        best = {"event_type": "best_bid_ask", "asset_id": A, "best_bid": "0.45", "best_ask": "0.47", "spread": "0.02"}
        tick = {"event_type": "tick_size_change", "asset_id": A, "old_tick_size": "0.01", "new_tick_size": "0.001"}
        for message in (price_change, last_trade, best, tick):
            await asyncio.to_thread(server.push, message)
        await _until(lambda: feed.counters["clob_market.alive"] >= 1 and len(seen) >= 5)
        # THEN on_mark saw each priced update in order, each a complete mark
        a_updates = [(m.bid, m.ask, m.last_trade) for m in seen if m.token_id == A]
        assert a_updates == [
            (D("0.50"), D("0.51"), None),
            (D("0.49"), D("0.51"), None),
            (D("0.49"), D("0.51"), D("0.456")),
            (D("0.45"), D("0.47"), D("0.456")),
        ]
        assert all(m.source is MarkSource.CLOB_WS for m in seen)
        # and the marks table holds the latest (written at most every 0.2 s per token)
        await _until(
            lambda: PriceMarks().read([A]).get(A, None) is not None and PriceMarks().read([A])[A].bid == D("0.45")
        )
        stored = PriceMarks().read([A, B, C])
        assert set(stored) == {A, B} and stored[A].last_trade == D("0.456") and stored[B].ask is None
        await _until(lambda: server.sockets[0].pings >= 2)


@synchronously
async def test_a_new_position_is_subscribed_on_the_live_socket_and_a_closed_one_dropped(aws, server):
    _hold(A)
    server.books[A] = book_message(A, bids=[("0.30", "5")], asks=[("0.32", "5")])
    server.books[C] = book_message(C, bids=[("0.70", "5")], asks=[("0.72", "5")])
    feed = _feed(server)
    async with running(feed):
        await _until(lambda: feed.book.get(A) is not None)
        # WHEN C is bought and A sold out
        _hold(C)
        _hold(A, shares="0")
        await _until(lambda: feed.book.get(C) is not None and feed.book.get(A) is None)
        # the feed sends the unsubscribe right after the subscribe, so C's snapshot can arrive before the server has
        # read it: wait for the server to have read both frames, then look at them
        await _until(lambda: sum(1 for f in server.sockets[0].received[1:] if f != "PING") >= 2)
        # THEN the same socket got a subscribe for C and an unsubscribe for A; C's snapshot marked it
        assert len(server.sockets) == 1
        changes = [json.loads(f) for f in server.sockets[0].received[1:] if f != "PING"]
        assert {"assets_ids": [C], "operation": "subscribe", "custom_feature_enabled": True} in changes
        assert {"assets_ids": [A], "operation": "unsubscribe", "custom_feature_enabled": True} in changes
        assert feed.book.get(C).bid == D("0.70")


@synchronously
async def test_a_dropped_socket_falls_back_to_rest_and_a_silent_one_is_replaced(aws, server, polymarket):
    # GIVEN a position in A whose book the CLOB's REST API has (0.61 / 0.63), and a channel that refuses sockets
    _hold(A)
    polymarket.books[A] = b.book(A, bids=[("0.61", "100")], asks=[("0.63", "100")])
    server.drop(refuse=True)
    async with httpx.AsyncClient(base_url=f"{polymarket.url}/clob") as clob:
        feed = _feed(server, clob)
        async with running(feed):
            # THEN the REST fallback marks A (every held token is polled while the socket is down)
            await _until(lambda: feed.book.get(A) is not None)
            assert feed.book.get(A).source is MarkSource.REST and feed.book.get(A).bid == D("0.61")
            assert feed.counters["clob_market.connect_errors"] + feed.counters["clob_market.disconnects"] >= 1
            # WHEN the channel takes sockets again but goes silent (no PONG, nothing)
            server.books[A] = book_message(A, bids=[("0.60", "1")], asks=[("0.62", "1")])
            server.resume()
            await _until(lambda: feed.book.get(A).source is MarkSource.CLOB_WS)
            server.silence()
            # THEN the watchdog replaces the socket after 0.6 s without a frame
            await _until(lambda: feed.counters["clob_market.stale_reconnects"] >= 1)
            server.resume()
            await _until(lambda: sum(1 for s in server.sockets if not s.closed) >= 1 and feed.connected)


RECORDED = "nautilus-polymarket-fixtures"


@synchronously
async def test_recorded_market_channel_messages_replay_into_marks(aws, server):
    """The captured and documented messages of data/nautilus-polymarket-fixtures, pushed as the server would."""
    folder = data_file(f"{RECORDED}/ws_market_book_msg.json").parent
    token = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
    _hold(token)
    server.books[token] = json.loads((folder / "ws_market_book_msg.json").read_text())
    feed = _feed(server)
    seen: list[Mark] = []
    feed.on_mark(seen.append)
    async with running(feed):
        await _until(lambda: len(seen) >= 1)
        for name in (
            "ws_market_price_change_msg.json",
            "ws_market_last_trade_msg.json",
            "ws_market_tick_size_msg.json",
        ):
            await asyncio.to_thread(server.push, (folder / name).read_text())
        await _until(lambda: len(seen) >= 3 and feed.counters["clob_market.alive"] >= 1)
    # book 0.50/0.51 -> price_change best 0.51/0.52 -> last trade 0.51
    assert [(m.bid, m.ask, m.last_trade) for m in seen] == [
        (D("0.50"), D("0.51"), None),
        (D("0.51"), D("0.52"), None),
        (D("0.51"), D("0.52"), D("0.51")),
    ]
    assert sum(v for k, v in feed.counters.items() if k.startswith("clob_market.rejects")) == 0
    assert seen[-1].at.utcoffset() == datetime.now(UTC).utcoffset()  # stamped on receipt, in UTC
