"""A loopback CLOB V2 that answers as Polymarket documents the endpoints `ClobVenue` and the preflight use.

Served at the root of 127.0.0.1:<port> (TCP_NODELAY, keep-alive):
  GET  /version -> {"version": 2}; GET /time; GET /api/geoblock -> {blocked, ip, country, region}
  GET  /auth/derive-api-key, POST /auth/api-key   L1: the ClobAuth EIP-712 signature must recover to POLY_ADDRESS
  GET  /auth/api-keys, /balance-allowance, /data/order/{id}, /data/trades, POST /order   L2: HMAC-SHA256 checked
  GET  /book, /tick-size, /neg-risk
What POST /order checks and how it matches, the books, keys, orders and trades: `tests.support.clob_exchange`.

Scripted behaviours for the next POST (`script`): "reject:<errorMsg>" (200, success false), "http:<status>"
(answer <status> without processing), "fill_then_hang" (process and fill, then answer only after `hang_s`,
past the client's timeout), "fill_then_drop" (process and fill, then close the socket without answering).
Payload shapes follow REFERENCE.md section f and the recorded fixtures in ../shared/polymarket/data
(nautilus-polymarket-fixtures http_*); no data file is copied here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.clob_exchange import ClobExchange
from tests.support.loopback import JsonHandler, Loopback


class FakeClob(ClobExchange, Loopback):
    """The exchange (`ClobExchange`) served at the root of a loopback port."""

    def __init__(self, *, chain_id: int = 137) -> None:
        super().__init__(chain_id=chain_id)
        self.script: list[str] = []  # what the next POSTs /order do (module docstring)
        self.hang_s = 1.5
        self.posts: list[dict[str, Any]] = []  # every POST /order body received (processed or not)
        self.requests: list[str] = []  # "GET /book", ...
        self.auth_failures: list[str] = []  # paths answered 401

    def start(self) -> FakeClob:
        fake = self

        class Handler(JsonHandler):
            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def _route(self, method: str) -> None:
                parsed = urlparse(self.path)
                path, query = parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()}
                body = self._body()
                fake.requests.append(f"{method} {path}")
                if path == "/version":
                    return self._send(200, {"version": fake.version})
                if path == "/time":
                    return self._send(200, int(time.time()))
                if path == "/api/geoblock":
                    return self._send(200, fake.geoblock)
                if path in ("/book", "/tick-size", "/neg-risk"):
                    book = fake.books.get(query.get("token_id", ""))
                    if book is None:
                        return self._send(404, {"error": "No orderbook exists for the requested token id"})
                    if path == "/tick-size":
                        return self._send(200, {"minimum_tick_size": float(book.tick)})
                    if path == "/neg-risk":
                        return self._send(200, {"neg_risk": book.neg_risk})
                    return self._send(200, fake.book_payload(query["token_id"], book))
                if path in ("/auth/derive-api-key", "/auth/api-key"):
                    address = fake.authenticate_l1(self.headers)
                    if address is None:
                        fake.auth_failures.append(path)
                        return self._send(401, {"error": "Unauthorized/Invalid api key"})
                    creds = fake.api_keys.get(address.lower())
                    if creds is None:
                        if path == "/auth/derive-api-key":
                            return self._send(400, {"error": "Could not derive api key!"})
                        creds = fake.issue_api_key(address)
                    return self._send(200, {"apiKey": creds[0], "secret": creds[1], "passphrase": creds[2]})
                address = fake.authenticate_l2(self.headers, method, path, body)
                if address is None:
                    fake.auth_failures.append(path)
                    return self._send(401, {"error": "Unauthorized/Invalid api key"})
                if path == "/auth/api-keys":
                    return self._send(200, {"apiKeys": [fake.api_keys[address][0]]})
                if path == "/balance-allowance":
                    return self._send(200, {"balance": str(fake.balance), "allowance": str(fake.allowance)})
                if path.startswith("/data/order/"):
                    found = fake.orders.get(path.removeprefix("/data/order/"))
                    return self._send(200, found) if found else self._send(404, {"error": "order not found"})
                if path == "/data/trades":
                    rows = [t for t in fake.trades if not query.get("asset_id") or t["asset_id"] == query["asset_id"]]
                    return self._send(200, {"data": rows, "next_cursor": "LTE=", "limit": 500, "count": len(rows)})
                if path == "/order" and method == "POST":
                    return self._order(address, body)
                return self._send(404, {"error": "not found"})

            def _order(self, address: str, body: bytes) -> None:
                payload = json.loads(body)
                with fake._lock:
                    fake.posts.append(payload)
                    action = fake.script.pop(0) if fake.script else "normal"
                    if action.startswith("http:"):
                        return self._send(int(action[5:]), {"error": "Internal server error"})
                    if action.startswith("reject:"):
                        return self._send(200, {"success": False, "orderID": None, "errorMsg": action[7:]})
                    status, answer = fake.post_order(address, payload)
                if action == "fill_then_hang":
                    time.sleep(fake.hang_s)
                elif action == "fill_then_drop":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                return self._send(status, answer)

        self._serve(Handler)
        return self


@contextmanager
def fake_clob() -> Iterator[FakeClob]:
    fake = FakeClob().start()
    try:
        yield fake
    finally:
        fake.stop()
