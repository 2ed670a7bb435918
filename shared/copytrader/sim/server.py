"""A loopback HTTP server that speaks Polymarket's public REST protocols for a `SimWorld` at a settable time.

Routes (REFERENCE.md sections a, d, e), all JSON:

CLOB under `/clob`
    GET  /book?token_id=            {market, asset_id, timestamp (ms string), hash, bids, asks (strings, worst
                                    first), min_order_size, tick_size, neg_risk[, last_trade_price]}; 404
                                    {"error": "No orderbook exists for the requested token id"} for unknown
                                    tokens and for resolved markets (their books are gone)
    POST /books                     body [{"token_id": ...}, ...] (at most 500) -> list of books (unknown skipped)
    GET  /midpoint?token_id=        {"mid": "0.505"}
    GET  /price?token_id=&side=     BUY -> best bid, SELL -> best ask: {"price": "0.5"}
    GET  /tick-size?token_id=       {"minimum_tick_size": 0.01}
    GET  /neg-risk?token_id=        {"neg_risk": false}
    GET  /time                      epoch seconds of the simulated clock;  GET /ok -> "OK"
Gamma under `/gamma`
    GET  /markets?condition_ids=&clob_token_ids=&id=&slug=&closed=&limit=&offset=   (list filters repeat or
                                    take comma lists) -> Gamma market objects, by id ascending
    GET  /markets/{id}
Data API under `/data`
    GET  /trades?user=&market=&side=&start=&end=&limit=&offset=&takerOnly=
                                    v1 rows with timestamp <= now, newest first; limit is clamped to
                                    [1, 10000], offset > 10000 is a 400 (as the real API). Every simulated
                                    fill is a taker fill, so takerOnly=true and false return the same rows.

Malformed requests get a 400 `{"error": ...}`, unknown routes a 404, unexpected failures a 500; the serving
thread never dies. The clock starts at the world's `day_start` and moves only through `set_time`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

import numpy as np

from copytrader.sim.loopback import JsonHandler, LoopbackServer
from copytrader.sim.tape import DataApiTape
from copytrader.sim.world import SimWorld

NO_BOOK = "No orderbook exists for the requested token id"
MAX_BODY_BYTES = 1 << 20
MAX_BOOKS = 500
DATA_MAX_LIMIT = 10_000
DATA_MAX_OFFSET = 10_000
GAMMA_DEFAULT_LIMIT = 100
GAMMA_MAX_LIMIT = 1_000
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")

Query = dict[str, list[str]]
Json = object


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise HttpError(400, f"parameter {name} given more than once")
    return values[0].strip()


def _required(query: Query, name: str) -> str:
    value = _one(query, name)
    if not value:
        raise HttpError(400, f"missing required parameter {name}")
    return value


def _int(query: Query, name: str, default: int) -> int:
    value = _one(query, name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise HttpError(400, f"parameter {name} must be an integer, got {value!r}") from None


def _bool(query: Query, name: str) -> bool | None:
    value = _one(query, name)
    if value is None or value == "":
        return None
    if value.lower() not in ("true", "false"):
        raise HttpError(400, f"parameter {name} must be true or false, got {value!r}")
    return value.lower() == "true"


def _many(query: Query, name: str) -> list[str]:
    """A list filter given as repeated parameters and/or comma lists."""
    return [item.strip() for value in query.get(name, []) for item in value.split(",") if item.strip()]


class SimPolymarketServer:
    """Serves a `SimWorld` on 127.0.0.1 (a free port) from a daemon thread; use as a context manager.

    `url` is the base; the three APIs live under `url + "/clob"`, `"/gamma"` and `"/data"`.
    """

    def __init__(self, world: SimWorld, at: datetime | None = None) -> None:
        self.world = world
        self._now = world.day_start
        self._lock = threading.Lock()
        self._tape: DataApiTape | None = None
        if at is not None:
            self.set_time(at)
        self._httpd = _Http(("127.0.0.1", 0), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="sim-polymarket", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set_time(self, at: datetime) -> None:
        """Move the simulated clock (any direction); every later response describes the world at `at`."""
        if at.tzinfo is None:
            raise ValueError("the simulated time must carry a timezone")
        with self._lock:
            self._now = at

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SimPolymarketServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- dispatch ------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Query, body: bytes) -> tuple[int, Json]:
        """Route one request; returns (status, JSON payload). Raises nothing."""
        try:
            at = self.now
            if method == "POST" and path == "/clob/books":
                return 200, self._books(body, at)
            if method != "GET":
                raise HttpError(405, f"{method} is not supported on {path}")
            route = _GET_ROUTES.get(path)
            if route is not None:
                return 200, route(self, query, at)
            if path.startswith("/gamma/markets/"):
                return 200, self._gamma_market(path.removeprefix("/gamma/markets/"), at)
            raise HttpError(404, f"no route {path}")
        except HttpError as error:
            return error.status, {"error": error.message}
        except Exception as error:  # the serving thread must survive anything
            return 500, {"error": f"internal error: {type(error).__name__}"}

    # ---- CLOB ----------------------------------------------------------------------------------------------

    def _open_token(self, token_id: str, at: datetime) -> str:
        """The condition id of a token whose book exists at `at` (404 otherwise)."""
        if not self.world.has_token(token_id):
            raise HttpError(404, NO_BOOK)
        condition_id = self.world.condition_of(token_id)
        if self.world.is_closed(condition_id, at) or not self.world.has_book(token_id):
            raise HttpError(404, NO_BOOK)
        return condition_id

    def _book_payload(self, token_id: str, at: datetime) -> dict[str, object]:
        condition_id = self._open_token(token_id, at)
        payload = self.world.book(token_id, at).to_clob(condition_id)
        payload["neg_risk"] = self.world.market_at(condition_id, at).neg_risk
        last = self.world.last_trade_price(token_id, at)
        if last is not None:
            payload["last_trade_price"] = str(last)
        payload["hash"] = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return payload

    def _book(self, query: Query, at: datetime) -> Json:
        return self._book_payload(_required(query, "token_id"), at)

    def _books(self, body: bytes, at: datetime) -> Json:
        try:
            request = json.loads(body or b"null")
        except ValueError:
            raise HttpError(400, "body must be JSON") from None
        if not isinstance(request, list) or not all(
            isinstance(x, dict) and isinstance(x.get("token_id"), str) for x in request
        ):
            raise HttpError(400, 'body must be a list of {"token_id": "..."}')
        if len(request) > MAX_BOOKS:
            raise HttpError(400, f"at most {MAX_BOOKS} token ids per request")
        books = []
        for item in request:
            try:
                books.append(self._book_payload(item["token_id"].strip(), at))
            except HttpError:
                continue
        return books

    def _midpoint(self, query: Query, at: datetime) -> Json:
        token_id = _required(query, "token_id")
        self._open_token(token_id, at)
        return {"mid": str(self.world.mid(token_id, at))}

    def _price(self, query: Query, at: datetime) -> Json:
        token_id = _required(query, "token_id")
        side = _required(query, "side").upper()
        if side not in ("BUY", "SELL"):
            raise HttpError(400, f"side must be BUY or SELL, got {side!r}")
        self._open_token(token_id, at)
        book = self.world.book(token_id, at)
        price = book.best_bid if side == "BUY" else book.best_ask
        if price is None:
            raise HttpError(404, NO_BOOK)
        return {"price": str(price)}

    def _market_of_token(self, query: Query, at: datetime) -> tuple[Decimal, bool]:
        token_id = _required(query, "token_id")
        if not self.world.has_token(token_id):
            raise HttpError(404, "market not found")
        market = self.world.market_at(self.world.condition_of(token_id), at)
        return market.tick_size, market.neg_risk

    def _tick_size(self, query: Query, at: datetime) -> Json:
        return {"minimum_tick_size": float(self._market_of_token(query, at)[0])}

    def _neg_risk(self, query: Query, at: datetime) -> Json:
        return {"neg_risk": self._market_of_token(query, at)[1]}

    def _time(self, query: Query, at: datetime) -> Json:
        return int(at.timestamp())

    def _ok(self, query: Query, at: datetime) -> Json:
        return "OK"

    # ---- Gamma ---------------------------------------------------------------------------------------------

    def _gamma_markets(self, query: Query, at: datetime) -> Json:
        limit = _int(query, "limit", GAMMA_DEFAULT_LIMIT)
        offset = _int(query, "offset", 0)
        if not 0 <= limit <= GAMMA_MAX_LIMIT or offset < 0:
            raise HttpError(400, f"limit must lie in [0, {GAMMA_MAX_LIMIT}] and offset be >= 0")
        closed = _bool(query, "closed")
        conditions = {c.lower() for c in _many(query, "condition_ids")}
        tokens = _many(query, "clob_token_ids")
        ids, slugs = _many(query, "id"), _many(query, "slug")
        wanted: set[str] | None = None
        if conditions or tokens or ids or slugs:
            wanted = conditions | {self.world.condition_of(t) for t in tokens if self.world.has_token(t)}
            wanted |= {self.world.gamma_ids[i] for i in ids if i in self.world.gamma_ids}
            wanted |= {self.world.slugs[s] for s in slugs if s in self.world.slugs}
        selected = [
            condition_id
            for _, condition_id in sorted(self.world.gamma_ids.items(), key=lambda item: int(item[0]))
            if (wanted is None or condition_id in wanted)
            and (closed is None or self.world.is_closed(condition_id, at) == closed)
        ]
        return [self.world.gamma_market(c, at) for c in selected[offset : offset + limit]]

    def _gamma_market(self, gamma_id: str, at: datetime) -> Json:
        condition_id = self.world.gamma_ids.get(gamma_id)
        if condition_id is None:
            raise HttpError(404, "market not found")
        return self.world.gamma_market(condition_id, at)

    # ---- Data API ------------------------------------------------------------------------------------------

    def _data_tape(self) -> DataApiTape:
        with self._lock:
            if self._tape is None:
                self._tape = self.world.data_api_tape
            return self._tape

    def _trades(self, query: Query, at: datetime) -> Json:
        limit = min(max(_int(query, "limit", 100), 1), DATA_MAX_LIMIT)
        offset = _int(query, "offset", 0)
        if not 0 <= offset <= DATA_MAX_OFFSET:
            raise HttpError(400, f"offset must lie in [0, {DATA_MAX_OFFSET}]")
        _bool(query, "takerOnly")
        user = (_one(query, "user") or "").lower()
        if user and not _ADDRESS.match(user):
            raise HttpError(400, f"user must be a 0x address, got {user!r}")
        side = (_one(query, "side") or "").upper()
        if side not in ("", "BUY", "SELL"):
            raise HttpError(400, f"side must be BUY or SELL, got {side!r}")
        markets = {m.lower() for m in _many(query, "market")}
        start, end = _int(query, "start", 0), _int(query, "end", int(at.timestamp()))
        tape = self._data_tape()
        index = tape.by_wallet.get(user, np.zeros(0, dtype=np.int64)) if user else np.arange(len(tape.rows))
        times = tape.timestamps[index]  # non-increasing
        until = min(end, int(at.timestamp()))
        index = index[(times <= until) & (times >= start)]
        rows = (tape.rows[int(k)] for k in index)
        if markets or side:
            rows = (r for r in rows if (not markets or r["conditionId"] in markets) and (not side or r["side"] == side))
        page: list[Json] = []
        for k, row in enumerate(rows):
            if k >= offset + limit:
                break
            if k >= offset:
                page.append(row)
        return page


_GET_ROUTES: dict[str, Callable[[SimPolymarketServer, Query, datetime], Json]] = {
    "/clob/book": SimPolymarketServer._book,
    "/clob/midpoint": SimPolymarketServer._midpoint,
    "/clob/price": SimPolymarketServer._price,
    "/clob/tick-size": SimPolymarketServer._tick_size,
    "/clob/neg-risk": SimPolymarketServer._neg_risk,
    "/clob/time": SimPolymarketServer._time,
    "/clob/ok": SimPolymarketServer._ok,
    "/gamma/markets": SimPolymarketServer._gamma_markets,
    "/data/trades": SimPolymarketServer._trades,
}


class _Http(LoopbackServer):
    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], app: SimPolymarketServer):
        super().__init__(address, handler)
        self.app = app


class _Handler(JsonHandler):
    server: _Http

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        body = b""
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY_BYTES:
                self._send(400, {"error": "bad Content-Length"})
                return
            body = self.rfile.read(length)
        path = parts.path.rstrip("/") or "/"
        status, payload = self.server.app.handle(method, path, parse_qs(parts.query, keep_blank_values=True), body)
        self._send(status, payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
