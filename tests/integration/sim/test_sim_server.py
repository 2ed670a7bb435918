"""The simulated Polymarket over real HTTP on 127.0.0.1: documented shapes, the clock, and bad requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from copytrader.model import OrderBook
from copytrader.sim.server import NO_BOOK, SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from tests.support.sim_worlds import SMALL_WORLD

pytestmark = pytest.mark.integration

CONFIG = SMALL_WORLD


BOOK_FIELDS = {"market", "asset_id", "timestamp", "hash", "bids", "asks", "min_order_size", "tick_size", "neg_risk"}


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return build_world(CONFIG)


@pytest.fixture
def server(world: SimWorld) -> Iterator[SimPolymarketServer]:
    with SimPolymarketServer(world) as running:
        running.set_time(world.day_start + timedelta(hours=3))
        yield running


def call(server: SimPolymarketServer, path: str, body: object = None, method: str | None = None) -> tuple[int, Any]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(server.url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_book_has_the_clob_shape(server: SimPolymarketServer, world: SimWorld) -> None:
    market = world.markets[0]
    token = market.tokens[0].token_id
    status, book = call(server, f"/clob/book?token_id={token}")
    assert status == 200
    assert set(book) >= BOOK_FIELDS
    assert book["market"] == market.condition_id and book["asset_id"] == token
    assert book["timestamp"] == str(int(server.now.timestamp() * 1000))
    assert isinstance(book["neg_risk"], bool) and len(book["hash"]) == 40
    levels = [lv for side in ("bids", "asks") for lv in book[side]]
    assert all(isinstance(lv["price"], str) and isinstance(lv["size"], str) for lv in levels)
    bids = [float(lv["price"]) for lv in book["bids"]]
    asks = [float(lv["price"]) for lv in book["asks"]]
    assert bids == sorted(bids) and asks == sorted(asks, reverse=True), "levels are sent worst first"
    parsed = OrderBook.from_clob(book)
    expected = world.book(token, server.now)
    assert (parsed.bids, parsed.asks) == (expected.bids, expected.asks)


def test_unknown_and_resolved_tokens_have_no_book(server: SimPolymarketServer, world: SimWorld) -> None:
    assert call(server, "/clob/book?token_id=123") == (404, {"error": NO_BOOK})
    resolution = world.resolutions[0]
    token = next(iter(resolution.payouts))
    assert call(server, f"/clob/book?token_id={token}")[0] in (200, 404)
    server.set_time(resolution.resolve_at)
    assert call(server, f"/clob/book?token_id={token}") == (404, {"error": NO_BOOK})
    assert call(server, f"/clob/book?token_id={world.history.markets.yes_token[0]}") == (404, {"error": NO_BOOK})


def test_batch_books(server: SimPolymarketServer, world: SimWorld) -> None:
    yes, no = (t.token_id for t in world.markets[1].tokens)
    status, books = call(server, "/clob/books", [{"token_id": yes}, {"token_id": no}, {"token_id": "42"}])
    assert status == 200 and [b["asset_id"] for b in books] == [yes, no]
    assert call(server, "/clob/books", b"{not json")[0] == 400
    assert call(server, "/clob/books", {"token_id": yes})[0] == 400


def test_prices_ticks_and_flags(server: SimPolymarketServer, world: SimWorld) -> None:
    market = world.markets[2]
    token = market.tokens[1].token_id
    book = world.book(token, server.now)
    assert call(server, f"/clob/midpoint?token_id={token}") == (200, {"mid": str(book.mid)})
    assert call(server, f"/clob/price?token_id={token}&side=BUY") == (200, {"price": str(book.best_bid)})
    assert call(server, f"/clob/price?token_id={token}&side=SELL") == (200, {"price": str(book.best_ask)})
    assert call(server, f"/clob/tick-size?token_id={token}") == (200, {"minimum_tick_size": float(market.tick_size)})
    assert call(server, f"/clob/neg-risk?token_id={token}") == (200, {"neg_risk": market.neg_risk})
    assert call(server, "/clob/ok") == (200, "OK")


def test_clock_moves_every_answer(server: SimPolymarketServer, world: SimWorld) -> None:
    token = world.markets[3].tokens[0].token_id
    first = call(server, f"/clob/book?token_id={token}")[1]
    assert call(server, "/clob/time") == (200, int(server.now.timestamp()))
    later = server.now + timedelta(minutes=47)
    server.set_time(later)
    assert call(server, "/clob/time") == (200, int(later.timestamp()))
    second = call(server, f"/clob/book?token_id={token}")[1]
    assert second["timestamp"] == str(int(later.timestamp() * 1000)) and second["hash"] != first["hash"]


def test_gamma_markets_filters(server: SimPolymarketServer, world: SimWorld) -> None:
    a, b = world.markets[0], world.markets[1]
    status, found = call(server, f"/gamma/markets?condition_ids={a.condition_id},{b.condition_id}")
    assert status == 200 and {m["conditionId"] for m in found} == {a.condition_id, b.condition_id}
    repeated = call(server, f"/gamma/markets?condition_ids={a.condition_id}&condition_ids={b.condition_id}")[1]
    assert repeated == found
    by_token = call(server, f"/gamma/markets?clob_token_ids={a.tokens[1].token_id}")[1]
    assert [m["conditionId"] for m in by_token] == [a.condition_id]
    assert json.loads(by_token[0]["clobTokenIds"]) == [t.token_id for t in a.tokens]
    assert json.loads(by_token[0]["outcomes"]) == ["Yes", "No"]
    assert len(json.loads(by_token[0]["outcomePrices"])) == 2
    open_markets = call(server, "/gamma/markets?closed=false&limit=1000")[1]
    closed_markets = call(server, "/gamma/markets?closed=true&limit=1000")[1]
    assert all(m["closed"] is False for m in open_markets) and all(m["closed"] is True for m in closed_markets)
    assert len(open_markets) + len(closed_markets) == len(world.condition_ids)
    page = call(server, "/gamma/markets?closed=true&limit=5&offset=5")[1]
    assert page == closed_markets[5:10]
    one = call(server, f"/gamma/markets/{by_token[0]['id']}")
    assert one == (200, by_token[0])
    assert call(server, "/gamma/markets/999")[0] == 404


def test_gamma_reflects_resolution(server: SimPolymarketServer, world: SimWorld) -> None:
    resolution = world.resolutions[0]
    query = f"/gamma/markets?condition_ids={resolution.condition_id}"
    server.set_time(resolution.resolve_at - timedelta(seconds=1))
    assert call(server, query)[1][0]["closed"] is False
    server.set_time(resolution.resolve_at)
    market = call(server, query)[1][0]
    winner = next(t for t, p in resolution.payouts.items() if p == 1)
    expected = ["1", "0"] if json.loads(market["clobTokenIds"])[0] == winner else ["0", "1"]
    assert market["closed"] is True and json.loads(market["outcomePrices"]) == expected


def test_data_api_trades(server: SimPolymarketServer, world: SimWorld) -> None:
    wallet = max(world.skilled_addresses)
    status, rows = call(server, f"/data/trades?user={wallet}&limit=10000&takerOnly=true")
    assert status == 200 and rows
    now = int(server.now.timestamp())
    assert all(r["proxyWallet"] == wallet and r["timestamp"] <= now for r in rows)
    assert [r["timestamp"] for r in rows] == sorted((r["timestamp"] for r in rows), reverse=True)
    assert isinstance(rows[0]["price"], float) and isinstance(rows[0]["size"], float)
    assert call(server, f"/data/trades?user={wallet}&limit=3&offset=2")[1] == rows[2:5]
    server.set_time(world.day_end)
    later = call(server, f"/data/trades?user={wallet}&limit=10000")[1]
    history = sum(r["proxyWallet"] == wallet for r in world.history_trade_rows())
    assert len(later) == history + sum(t.wallet == wallet for t in world.day_trades)
    buys = call(server, f"/data/trades?user={wallet}&side=BUY&limit=10000")[1]
    assert buys and all(r["side"] == "BUY" for r in buys)
    market = str(rows[0]["conditionId"])
    assert all(r["conditionId"] == market for r in call(server, f"/data/trades?market={market}")[1])


@pytest.mark.parametrize(
    "path",
    [
        "/data/trades?offset=20000",
        "/data/trades?limit=abc",
        "/data/trades?user=bob",
        "/data/trades?takerOnly=maybe",
        "/data/trades?side=HOLD",
        "/clob/book",
        "/clob/price?token_id=1&side=UP",
        "/gamma/markets?limit=-1",
        "/gamma/markets?closed=perhaps",
    ],
)
def test_malformed_requests_get_400(server: SimPolymarketServer, path: str) -> None:
    status, body = call(server, path)
    assert status == 400 and isinstance(body["error"], str)
    assert call(server, "/clob/ok") == (200, "OK")


def test_unknown_routes_and_methods(server: SimPolymarketServer) -> None:
    assert call(server, "/clob/nothing")[0] == 404
    assert call(server, "/clob/book?token_id=1", method="DELETE")[0] == 405
    assert call(server, "/clob/ok") == (200, "OK")


def test_concurrent_requests(server: SimPolymarketServer, world: SimWorld) -> None:
    tokens = [t.token_id for m in world.markets for t in m.tokens]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda token: call(server, f"/clob/book?token_id={token}")[0], tokens))
    assert set(results) <= {200, 404} and results.count(200) > len(tokens) // 2
