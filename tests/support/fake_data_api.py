"""A fake Data API and Gamma `/markets` speaking the documented protocols (REFERENCE.md sections a and e).

One `answer(path, query)` function serves both transports: a loopback `ThreadingHTTPServer` for the
integration tests (`serve()`) and `httpx.MockTransport` for unit tests, where sockets are off
(`transport()`). Paths: the Data API under `/data`, Gamma under `/gamma`.

What it honours, as documented:
- `/data/trades`: `user`, `takerOnly` (default true: maker rows only with `takerOnly=false`),
  `filterType=CASH&filterAmount=` (price x size), `start`/`end` (inclusive), `limit` (clamped to 10,000),
  `offset` (400 above 10,000). Newest first.
- `/data/activity`: `user` (required), `type` (comma list), `start`/`end`, `limit` <= 500, `offset` <= 10,000.
- `/data/positions` (`limit` <= 500) and `/data/closed-positions` (`limit` <= 50), `offset` <= 10,000.
- `/data/v1/leaderboard`: `category`, `timePeriod`, `orderBy`, `limit` 1-50, `offset` <= 1,000.
- `/gamma/markets`: `condition_ids` repeated (a comma list is also read), `limit` (default 20), `closed`;
  with `hide_closed_by_default`, closed markets appear only when `closed=true` is asked (as a third-party
  client reports of Gamma).
A limit or offset out of bounds answers 400 with the documented error object; so does an unknown enum.

Faults: `fail(path, status, headers, times, when)` queues answers served before the real ones (429 with
`Retry-After`, 503, ...), to every request of the path or only to those whose query matches `when`. Every
request is recorded (`requests`: path and decoded query) for assertions. A `tests.support.clock.Clock` drives the
client's limiters and retry waits, so a `Retry-After: 7` costs no real time. The rows it serves are built with
`tests.support.data_api_rows`.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from copytrader.sim.loopback import JsonHandler, Loopback

LEADERBOARD_ENUMS = {
    "category": {
        "OVERALL", "POLITICS", "SPORTS", "ESPORTS", "CRYPTO", "CULTURE", "MENTIONS", "WEATHER", "ECONOMICS", "TECH",
        "FINANCE",
    },
    "timePeriod": {"DAY", "WEEK", "MONTH", "ALL"},
    "orderBy": {"PNL", "VOL"},
}  # fmt: skip
LIMITS = {"/data/activity": 500, "/data/positions": 500, "/data/closed-positions": 50}
MAX_OFFSET = 10_000
TRADES_MAX_LIMIT = 10_000
GAMMA_DEFAULT_LIMIT = 20


# ----------------------------------------------------------------------------------------------- the fake


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else json.dumps(self.body).encode()


def _error(message: str, parameter: str = "") -> Answer:
    body = {"error": message, "code": "BAD_REQUEST", "retryable": False, "trace_id": "fake"}
    if parameter:
        body["parameter"] = parameter
    return Answer(400, body)


def _int(query: Mapping[str, list[str]], name: str, default: int | None = None) -> int | None:
    values = query.get(name)
    return int(values[0]) if values else default


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _stamp(row: object) -> int:
    """A row's timestamp for ordering and windows; an unreadable one sorts as 0 (a malformed row stays served)."""
    value = row.get("timestamp") if isinstance(row, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _notional(row: dict[str, Any]) -> float:
    try:
        return float(row["price"]) * float(row["size"])
    except (KeyError, TypeError, ValueError):
        return 0.0


def _newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: -_stamp(row))


class FakeDataApi(Loopback):
    def __init__(self) -> None:
        self.taker_trades: list[dict[str, Any]] = []
        self.maker_trades: list[dict[str, Any]] = []
        self.activity: dict[str, list[dict[str, Any]]] = {}
        self.positions: dict[str, list[dict[str, Any]]] = {}
        self.closed_positions: dict[str, list[dict[str, Any]]] = {}
        self.leaderboards: dict[tuple[str, str, str], list[Any]] = {}
        self.markets: dict[str, dict[str, Any]] = {}
        self.hide_closed_by_default = False
        self.requests: list[tuple[str, dict[str, list[str]]]] = []
        self._faults: dict[str, deque[tuple[Answer, dict[str, str]]]] = {}
        self._lock = threading.Lock()
        self._sorted: dict[str, list[dict[str, Any]]] | None = None  # see `_trades`
        self._keys: dict[str, list[int]] = {}

    # ------------------------------------------------------------------------------------------ setup
    def add_trades(self, rows: Sequence[dict[str, Any]], maker: bool = False) -> None:
        (self.maker_trades if maker else self.taker_trades).extend(rows)
        self._sorted = None

    def fail(
        self,
        path: str,
        status: int,
        headers: dict[str, str] | None = None,
        times: int = 1,
        when: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests to `path` (e.g. "/data/trades") with `status` instead; with
        `when`, only requests whose query has those values."""
        with self._lock:
            queue = self._faults.setdefault(path, deque())
            for _ in range(times):
                body = {"error": f"HTTP {status}", "retryable": True}
                queue.append((Answer(status, body, dict(headers or {})), dict(when or {})))

    def requests_to(self, path: str) -> list[dict[str, list[str]]]:
        return [query for where, query in self.requests if where == path]

    # ------------------------------------------------------------------------------------------ protocol
    def answer(self, path: str, raw_query: str) -> Answer:
        query = parse_qs(raw_query, keep_blank_values=True)
        with self._lock:
            self.requests.append((path, query))
            faults = self._faults.get(path) or deque()
            for fault in faults:
                answer, when = fault
                if all(query.get(name) == [value] for name, value in when.items()):
                    faults.remove(fault)
                    return answer
        try:
            return self._route(path, query)
        except ValueError as exc:
            return _error(str(exc))

    def _route(self, path: str, query: dict[str, list[str]]) -> Answer:
        if path == "/data/trades":
            return self._trades(query)
        if path in LIMITS:
            return self._user_list(path, query)
        if path == "/data/v1/leaderboard":
            return self._leaderboard(query)
        if path == "/gamma/markets":
            return self._markets(query)
        return Answer(404, {"error": "not found"})

    def _page(self, rows: list[Any], query: dict[str, list[str]], max_limit: int, clamp: bool) -> Answer:
        limit = _int(query, "limit", 100) or 0
        offset = _int(query, "offset", 0) or 0
        if offset > MAX_OFFSET or offset < 0:
            return _error(f"offset must be <= {MAX_OFFSET}", "offset")
        if limit > max_limit and not clamp:
            return _error(f"limit must be <= {max_limit}", "limit")
        limit = min(limit, max_limit)
        return Answer(200, rows[offset : offset + limit])

    def _window(
        self, rows: list[dict[str, Any]], query: dict[str, list[str]], keys: list[int] | None = None
    ) -> list[dict[str, Any]]:
        """Rows newest first with start <= timestamp <= end (both inclusive); `keys`: their -timestamps."""
        start, end = _int(query, "start"), _int(query, "end")
        keys = keys if keys is not None else [-_stamp(row) for row in rows]
        low = 0 if end is None else bisect.bisect_left(keys, -end)
        high = len(rows) if start is None else bisect.bisect_right(keys, -start)
        return rows[low:high]

    def _trades(self, query: dict[str, list[str]]) -> Answer:
        user = (_one(query, "user") or "").lower()
        taker_only = _one(query, "takerOnly") != "false"
        with self._lock:  # newest-first lists per (user, takerOnly), built once per change of the trades
            if self._sorted is None:
                self._sorted = {}
            key = f"{user}:{taker_only}"
            if key not in self._sorted:
                source = self.taker_trades if taker_only else self.taker_trades + self.maker_trades
                self._sorted[key] = _newest_first(
                    [row for row in source if not user or str(row.get("proxyWallet", "")).lower() == user]
                )
                self._keys[key] = [-_stamp(row) for row in self._sorted[key]]
            rows, keys = self._sorted[key], self._keys[key]
        rows = self._window(rows, query, keys)
        if _one(query, "filterType") == "CASH":
            floor = float(_one(query, "filterAmount") or 0)
            rows = [row for row in rows if _notional(row) >= floor]
        return self._page(rows, query, TRADES_MAX_LIMIT, clamp=True)

    def _user_list(self, path: str, query: dict[str, list[str]]) -> Answer:
        user = (_one(query, "user") or "").lower()
        if not user:
            return _error("user is required", "user")
        table = {
            "/data/activity": self.activity,
            "/data/positions": self.positions,
            "/data/closed-positions": self.closed_positions,
        }[path]
        rows = list(table.get(user, []))
        if path == "/data/activity":
            kinds = set((_one(query, "type") or "").split(",")) - {""}
            rows = _newest_first([row for row in rows if not kinds or row.get("type") in kinds])
            rows = self._window(rows, query)
        return self._page(rows, query, LIMITS[path], clamp=False)

    def _leaderboard(self, query: dict[str, list[str]]) -> Answer:
        values = {name: _one(query, name) or default for name, default in (
            ("category", "OVERALL"), ("timePeriod", "DAY"), ("orderBy", "PNL"),
        )}  # fmt: skip
        for name, allowed in LEADERBOARD_ENUMS.items():
            if values[name] not in allowed:
                return _error(f"{name} must be one of {sorted(allowed)}", name)
        limit, offset = _int(query, "limit", 25) or 0, _int(query, "offset", 0) or 0
        if not 1 <= limit <= 50 or not 0 <= offset <= 1000:
            return _error("limit must lie in [1, 50] and offset in [0, 1000]")
        rows = self.leaderboards.get((values["category"], values["timePeriod"], values["orderBy"]), [])
        return Answer(200, rows[offset : offset + limit])

    def _markets(self, query: dict[str, list[str]]) -> Answer:
        ids = [cid.lower() for raw in query.get("condition_ids", []) for cid in raw.split(",") if cid]
        closed = _one(query, "closed")
        rows = [self.markets[cid] for cid in dict.fromkeys(ids) if cid in self.markets]
        if closed is not None:
            rows = [row for row in rows if bool(row.get("closed")) == (closed == "true")]
        elif self.hide_closed_by_default:
            rows = [row for row in rows if not row.get("closed")]
        return Answer(200, rows[: _int(query, "limit", GAMMA_DEFAULT_LIMIT)])

    # ----------------------------------------------------------------------------------------- transports
    def transport(self) -> httpx.MockTransport:
        """For unit tests: the same answers without a socket (base URLs http://fake/data, http://fake/gamma)."""

        def handle(request: httpx.Request) -> httpx.Response:
            answer = self.answer(request.url.path, request.url.query.decode())
            return httpx.Response(answer.status, content=answer.encoded(), headers=answer.headers)

        return httpx.MockTransport(handle)

    def start(self) -> FakeDataApi:
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                answer = fake.answer(parts.path, parts.query)
                self._send_bytes(answer.status, answer.encoded(), answer.headers)

        self._serve(Handler, poll_interval=0.02)
        return self


@contextmanager
def serve(fake: FakeDataApi | None = None) -> Iterator[FakeDataApi]:
    fake = (fake or FakeDataApi()).start()
    try:
        yield fake
    finally:
        fake.stop()
