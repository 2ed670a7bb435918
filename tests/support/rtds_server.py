"""A loopback WebSocket server speaking the RTDS `activity` protocol, with the faults the real one shows.

Protocol (REFERENCE.md section b): a client sends `{"action":"subscribe","subscriptions":[{"topic":"activity",
"type":...}]}`; from then on it receives every frame the test pushes (the firehose has no per-wallet filter).
The text `PING` is answered with an empty text frame, as RTDS does.

Faults
- `stall()`: the silent stall of real-time-data-client issues #26/#35. Open sockets stay open and keep
  answering PING, but pushed frames and the firehose no longer reach them. `stall(new_connections=True)`
  stalls every later connection too, until `resume()`, so a test can watch the client reconnect and
  recover.
- `drop()`: abort every connection's TCP link (no closing handshake, the client sees code 1006);
  `drop(new_connections=True)` also aborts each later connection right after its handshake, until
  `resume()`.

Observation: `connections` lists one `ConnectionLog` per accepted socket (what it sent, its PINGs, whether it
subscribed, when it opened and closed); `wait_for_subscriptions(n)` blocks until n sockets have subscribed.

The server runs on its own event loop in a background thread. Its methods block the caller until the
server loop has done the work, so an async test calls them through `asyncio.to_thread` (a test loop
blocked in `push` could not read the frames the server is writing to it).

Frames are built from `WhaleTrade`s (e.g. `SimWorld.day_trades`) in the real frame's shape: the envelope
`{connection_id, topic, type, timestamp (ms), payload}` and the camelCase payload, `proxyWallet` EIP-55
checksummed when asked (as in the captured frame). `firehose_frames` makes the other wallets' traffic.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from copytrader.model import WhaleTrade
from copytrader.polymarket.rtds import PING, TOPIC, TRADES

CONNECTION_ID = "bG9vcGJhY2stcnRkcw=="


def trade_payload(trade: WhaleTrade, *, checksum: bool = False) -> dict[str, Any]:
    """The RTDS trade payload of `trade`: the fields of the captured frame, numbers as JSON numbers."""
    wallet = to_checksum_address(trade.wallet) if checksum else trade.wallet
    return {
        "asset": trade.token_id,
        "bio": "",
        "conditionId": trade.condition_id,
        "eventSlug": f"event-{trade.condition_id[2:10]}",
        "icon": "https://x.jpg",
        "name": "",
        "outcome": trade.outcome or "",
        "outcomeIndex": trade.outcome_index if trade.outcome_index is not None else 0,
        "price": float(trade.price),
        "profileImage": "",
        "proxyWallet": wallet,
        "pseudonym": f"Loopback-{trade.wallet[2:8]}",
        "side": trade.side.value,
        "size": float(trade.size),
        "slug": f"market-{trade.condition_id[2:10]}",
        "timestamp": int(trade.timestamp.timestamp()),
        "title": f"Will market {trade.condition_id[2:10]} resolve Yes?",
        "transactionHash": trade.tx_hash,
    }


def envelope(payload: Any, *, kind: Any = TRADES, topic: Any = TOPIC, sent_ms: int | None = None) -> str:
    """A frame around `payload`; any JSON value is allowed anywhere, so tests can send broken frames."""
    frame = {
        "connection_id": CONNECTION_ID,
        "topic": topic,
        "type": kind,
        "timestamp": int(time.time() * 1000) if sent_ms is None else sent_ms,
        "payload": payload,
    }
    return json.dumps(frame, separators=(",", ":"))


def trade_frame(trade: WhaleTrade, *, kind: str = TRADES, checksum: bool = False) -> str:
    return envelope(trade_payload(trade, checksum=checksum), kind=kind)


def _hex(label: str, n_bytes: int) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()[: 2 * n_bytes]


def firehose_frames(templates: Sequence[WhaleTrade], n: int, *, seed: int = 0) -> list[str]:
    """`n` trade frames of wallets that are not in `templates` (markets, prices and sizes reused from them),
    every other one checksummed and every fifth an `orders_matched`: the traffic a listener must ignore."""
    frames = []
    for i in range(n):
        base = templates[i % len(templates)]
        other = base.model_copy(
            update={"wallet": _hex(f"firehose:{seed}:{i % 997}", 20), "tx_hash": _hex(f"firehose-tx:{seed}:{i}", 32)}
        )
        frames.append(trade_frame(other, kind="orders_matched" if i % 5 == 4 else TRADES, checksum=i % 2 == 1))
    return frames


@dataclass
class ConnectionLog:
    """What one accepted socket did (appended to by the server thread; read it after the fact)."""

    index: int
    opened_at: float  # time.monotonic()
    received: list[str] = field(default_factory=list)
    pings: int = 0
    subscriptions: list[dict[str, Any]] = field(default_factory=list)
    closed_at: float | None = None
    stalled: bool = False

    @property
    def subscribed(self) -> bool:
        return any(s.get("topic") == TOPIC for s in self.subscriptions)

    @property
    def open(self) -> bool:
        return self.closed_at is None


class RtdsServer:
    """`with RtdsServer() as server:` serves `server.url` on 127.0.0.1 (see the module docstring)."""

    def __init__(self, firehose: Sequence[str] = (), firehose_interval_s: float = 0.02) -> None:
        """`firehose` frames, when given, are sent in a loop, one every `firehose_interval_s`, to every
        subscribed socket that is not stalled: the steady traffic that keeps a healthy feed fresh."""
        self._firehose, self._firehose_interval_s = list(firehose), firehose_interval_s
        self._logs: list[ConnectionLog] = []
        self._live: dict[ServerConnection, ConnectionLog] = {}
        self._stall_new = False
        self._drop_new = False
        self._subscribed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="rtds-loopback", daemon=True)
        self._server: Server | None = None
        self._ticker: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> RtdsServer:
        self._thread.start()
        self._server = self._call(self._start())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"ws://{host}:{port}"

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _start(self) -> Server:
        server = await serve(self._handle, "127.0.0.1", 0, ping_interval=None)
        if self._firehose:
            self._ticker = asyncio.create_task(self._tick())
        return server

    async def _stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    # -------------------------------------------------------------------------------------------- observation

    @property
    def connections(self) -> list[ConnectionLog]:
        return list(self._logs)

    def wait_for_subscriptions(self, n: int, timeout_s: float = 5.0) -> ConnectionLog:
        """Block until `n` sockets (over the server's life) have subscribed; return the n-th."""
        with self._subscribed:
            if not self._subscribed.wait_for(lambda: self._count_subscribed() >= n, timeout_s):
                raise TimeoutError(f"{self._count_subscribed()} of {n} subscriptions after {timeout_s} s")
            return [log for log in self._logs if log.subscribed][n - 1]

    def _count_subscribed(self) -> int:
        return sum(1 for log in self._logs if log.subscribed)

    # ------------------------------------------------------------------------------------------------- frames

    def push(self, frames: str | Iterable[str]) -> int:
        """Send frames to every subscribed socket that is not stalled; returns how many sockets got them."""
        batch = [frames] if isinstance(frames, str) else list(frames)
        return int(self._call(self._broadcast(batch)))

    async def _broadcast(self, frames: list[str]) -> int:
        reached = 0
        for ws, log in list(self._live.items()):
            if not log.subscribed or log.stalled:
                continue
            try:
                for frame in frames:
                    await ws.send(frame)
                reached += 1
            except ConnectionClosed:
                continue
        return reached

    async def _tick(self) -> None:
        i = 0
        while True:
            await self._broadcast([self._firehose[i % len(self._firehose)]])
            i += 1
            await asyncio.sleep(self._firehose_interval_s)

    # ------------------------------------------------------------------------------------------------- faults

    def stall(self, new_connections: bool = False) -> None:
        self._call(self._set_stall(True, new_connections))

    def resume(self) -> None:
        """End stalls (existing and new sockets) and stop dropping new connections."""
        self._call(self._set_stall(False, False))
        self._drop_new = False

    async def _set_stall(self, stalled: bool, new_connections: bool) -> None:
        for log in self._live.values():
            log.stalled = stalled
        self._stall_new = new_connections

    def drop(self, new_connections: bool = False) -> None:
        self._call(self._drop(new_connections))

    async def _drop(self, new_connections: bool) -> None:
        self._drop_new = new_connections
        for ws in list(self._live):
            ws.transport.abort()

    # ------------------------------------------------------------------------------------------------ handler

    async def _handle(self, ws: ServerConnection) -> None:
        log = ConnectionLog(index=len(self._logs), opened_at=time.monotonic(), stalled=self._stall_new)
        self._logs.append(log)
        self._live[ws] = log
        try:
            if self._drop_new:
                ws.transport.abort()
                return
            async for message in ws:
                text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
                log.received.append(text)
                if text.strip().upper() == PING:
                    log.pings += 1
                    await ws.send("")
                    continue
                self._on_request(text, log)
        except ConnectionClosed:
            pass
        finally:
            log.closed_at = time.monotonic()
            self._live.pop(ws, None)

    def _on_request(self, text: str, log: ConnectionLog) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            return
        if not isinstance(request, dict) or request.get("action") != "subscribe":
            return
        subscriptions = [s for s in request.get("subscriptions") or [] if isinstance(s, dict)]
        with self._subscribed:
            log.subscriptions.extend(subscriptions)
            self._subscribed.notify_all()
