"""A loopback CLOB V2 that answers the calls polymarket-client 0.14.0 makes for `ClobVenue` and the preflight, in
the SDK's wire format (REFERENCE.md §0b.2).

Served at the root of 127.0.0.1:<port> (TCP_NODELAY, keep-alive); the SDK's relayer is pointed here too:
  GET  /version -> {"version": 2}; GET /time; GET /api/geoblock -> {blocked, ip, country, region}
  GET  /deployed?address&type -> {"deployed": `deployed`}  (the relayer: is the proxy/Safe/deposit wallet deployed)
  POST /auth/api-key (400 when the key has one), GET /auth/derive-api-key   L1: ClobAuth EIP-712 must recover
  GET  /markets-by-token/{token} -> {condition_id}; GET /clob-markets/{cid} -> {t, mts, nr, fd}   (order metadata)
  GET  /auth/api-keys, /balance-allowance, /data/order/{id}, /data/trades; POST /order; DELETE /order
       L2: the HMAC-SHA256 of timestamp + method + path + body checked
  GET  /book, /tick-size, /neg-risk
What POST /order checks and how it matches, the books, keys, orders and trades: `tests.support.clob_exchange`.

Scripted behaviours for the next POST (`script`): "reject:<errorMsg>" (200, success false), "http:<status>"
(answer <status> with `{"error": ...}` without processing; "http:<status>:<text>" with that text),
"fill_then_hang" (process and fill, then answer only after `hang_s`, past the client's timeout), "fill_then_drop"
(process and fill, then close the socket without answering).
Payload shapes follow REFERENCE.md section f and the recorded fixtures in ../shared/polymarket/data
(nautilus-polymarket-fixtures http_*); no data file is copied here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qs, urlparse

from copytrader.sim.loopback import JsonHandler, Loopback
from tests.support.clob_exchange import CTF_EXCHANGE_V2, EXCHANGE_V3, NEG_RISK_EXCHANGE_V2, ClobExchange


class FakeClob(ClobExchange, Loopback):
    """The exchange (`ClobExchange`) served at the root of a loopback port."""

    def __init__(self, *, chain_id: int = 137) -> None:
        super().__init__(chain_id=chain_id)
        self.script: list[str] = []  # what the next POSTs /order do (module docstring)
        self.hang_s = 1.5
        self.posts: list[dict[str, Any]] = []  # every POST /order body received (processed or not)
        self.requests: list[str] = []  # "GET /book", ...
        self.auth_failures: list[str] = []  # paths answered 401
        self._sockets: list[Any] = []  # every connection accepted (`go_down` closes them)

    def start(self) -> FakeClob:
        fake = self

        class Handler(JsonHandler):
            def setup(self) -> None:
                super().setup()
                fake._sockets.append(self.connection)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self) -> None:
                self._route("GET")

            def do_POST(self) -> None:
                self._route("POST")

            def do_DELETE(self) -> None:
                self._route("DELETE")

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
                if path == "/deployed":
                    return self._send(200, {"deployed": fake.deployed})
                if path.startswith("/markets-by-token/"):
                    found = fake.markets_by_token(path.removeprefix("/markets-by-token/"))
                    return self._send(200, found) if found else self._send(404, {"error": "market not found"})
                if path.startswith("/clob-markets/"):
                    found = fake.clob_market(path.removeprefix("/clob-markets/"))
                    return self._send(200, found) if found else self._send(404, {"error": "market not found"})
                if path in ("/auth/derive-api-key", "/auth/api-key"):
                    address = None if fake.l1_refused else fake.authenticate_l1(self.headers)
                    if address is None:
                        fake.auth_failures.append(path)
                        return self._send(401, {"error": "Unauthorized/Invalid api key"})
                    creds = fake.api_keys.get(address.lower())
                    if path == "/auth/api-key" and creds is not None:
                        return self._send(400, {"error": "Could not create api key"})
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
                    spenders = (CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, EXCHANGE_V3)
                    allowances = {spender: str(fake.allowance) for spender in spenders}
                    return self._send(200, {"balance": str(fake.balance), "allowances": allowances})
                if path.startswith("/data/order/"):
                    found = fake.orders.get(path.removeprefix("/data/order/"))
                    return self._send(200, found) if found else self._send(404, {"error": "order not found"})
                if path == "/data/trades":
                    after = int(query.get("after") or 0)
                    rows = [
                        t
                        for t in fake.trades
                        if (not query.get("asset_id") or t["asset_id"] == query["asset_id"])
                        and int(t["match_time"]) >= after
                    ]
                    return self._send(200, {"data": rows, "next_cursor": "LTE=", "limit": 500, "count": len(rows)})
                if path == "/order" and method == "POST":
                    return self._order(address, body)
                if path == "/order" and method == "DELETE":
                    return self._send(200, fake.cancel(str(json.loads(body or b"{}").get("orderID", ""))))
                return self._send(404, {"error": "not found"})

            def _order(self, address: str, body: bytes) -> None:
                payload = json.loads(body)
                with fake._lock:
                    fake.posts.append(payload)
                    action = fake.script.pop(0) if fake.script else "normal"
                    if action.startswith("http:"):
                        status, _, text = action[5:].partition(":")
                        return self._send(int(status), {"error": text or "Internal server error"})
                    if action.startswith("reject:"):
                        return self._send(200, fake.refusal(action[7:]))
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

    def go_down(self) -> None:
        """Stop listening and close every kept-alive connection: the next request cannot connect."""
        self.stop()
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(2)


@contextmanager
def fake_clob() -> Iterator[FakeClob]:
    fake = FakeClob().start()
    try:
        yield fake
    finally:
        fake.stop()
