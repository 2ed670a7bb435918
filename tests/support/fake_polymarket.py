"""A loopback HTTP server speaking the documented CLOB and Gamma read protocols, fed by the test.

CLOB under /clob: `GET /book?token_id=` (strings, levels worst-first, 404 for unknown tokens).
Gamma under /gamma: `GET /markets?condition_ids=` (JSON-in-string fields). Tests set books and markets
directly; a test can also make the CLOB fail (`fail_books`, HTTP 503) or answer garbage (`malformed_books`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

from copytrader.model import Market, OrderBook
from copytrader.sim.loopback import JsonHandler, Loopback


def gamma_payload(market: Market) -> dict[str, Any]:
    """A Gamma market object for `market`, with the real field names and encodings."""
    return {
        "id": str(abs(hash(market.condition_id)) % 10**7),
        "conditionId": market.condition_id,
        "question": market.question,
        "slug": market.slug,
        "clobTokenIds": json.dumps([t.token_id for t in market.tokens]),
        "outcomes": json.dumps([t.outcome for t in market.tokens]),
        "outcomePrices": json.dumps([str(market.payouts[t.token_id]) for t in market.tokens])
        if market.payouts
        else json.dumps(["0.5", "0.5"]),
        "orderPriceMinTickSize": float(market.tick_size),
        "orderMinSize": float(market.min_order_size),
        "negRisk": market.neg_risk,
        "negRiskMarketID": market.neg_risk_market_id,
        "endDate": market.end_time.strftime("%Y-%m-%dT%H:%M:%SZ") if market.end_time else None,
        "closed": market.closed,
        "active": True,
        "acceptingOrders": market.accepting_orders,
        "feesEnabled": market.taker_fee_rate > 0,
        "feeSchedule": {"rate": float(market.taker_fee_rate), "exponent": 1},
        "category": market.category,
        "umaResolutionStatus": "resolved" if market.payouts else None,
        "events": [{"id": market.event_id, "slug": market.slug, "title": market.question}] if market.event_id else [],
    }


class FakePolymarket(Loopback):
    def __init__(self) -> None:
        self.books: dict[str, OrderBook] = {}
        self.markets: dict[str, Market] = {}
        self.fail_books = False
        self.malformed_books: set[str] = set()  # tokens whose book comes back unparseable
        self.requests: list[str] = []
        # the Data API's open positions (`/data/v2/positions`): (wallet, token id) -> (current size, last event, epoch)
        self.positions: dict[tuple[str, str], tuple[str, int]] = {}

    def start(self) -> FakePolymarket:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                query = parse_qs(parsed.query)
                fake.requests.append(self.path)
                if parsed.path == "/clob/book":
                    if fake.fail_books:
                        return self._send(503, {"error": "Trading is currently disabled"})
                    token = (query.get("token_id") or [""])[0]
                    if token in fake.malformed_books:
                        return self._send(200, {"asset_id": token, "bids": [{"price": "abc", "size": "1"}]})
                    book = fake.books.get(token)
                    if book is None:
                        return self._send(404, {"error": "No orderbook exists for the requested token id"})
                    market = next((m for m in fake.markets.values() if m.token(token)), None)
                    return self._send(200, book.to_clob(market.condition_id if market else ""))
                if parsed.path == "/gamma/markets":
                    ids = [i for raw in query.get("condition_ids", []) for i in raw.split(",")]
                    rows = [gamma_payload(fake.markets[i]) for i in ids if i in fake.markets]
                    return self._send(200, rows)
                if parsed.path == "/data/v2/positions":
                    user = (query.get("user") or [""])[0]
                    rows = [
                        {"token_id": token, "current_size": size, "last_event_at": last, "proxy_wallet": wallet}
                        for (wallet, token), (size, last) in fake.positions.items()
                        if wallet == user
                    ]
                    return self._send(200, {"data": rows, "pagination": {"has_more": False, "next_cursor": None}})
                return self._send(404, {"error": "not found"})

        self._serve(Handler)
        return self


@contextmanager
def fake_polymarket() -> Iterator[FakePolymarket]:
    fake = FakePolymarket().start()
    try:
        yield fake
    finally:
        fake.stop()
