"""A loopback WebSocket server speaking the CLOB market channel (REFERENCE.md section c).

Protocol: the client's first frame `{"assets_ids":[...],"type":"market","custom_feature_enabled":true}` subscribes the
socket; the server answers with one JSON array holding a `book` snapshot (levels worst-first, as the real server
sends them) for every subscribed token it has a book for. Later `{"assets_ids":[...],"operation":"subscribe"|
"unsubscribe"}` frames change the socket's set (a new token gets its snapshot). The text `PING` is answered `PONG`.
`push(message)` sends a message (a dict, or a raw string) to every socket subscribed to its `asset_id` (to all
sockets when it names none or for raw strings).

Faults: `silence()` stops answering PINGs and sending anything (a socket that stays open but says nothing);
`drop(refuse=True)` aborts every socket's TCP link and, until `resume()`, each new one right after its handshake.

The server runs on its own event loop in a background thread; its methods block until that loop did the work, so
an async test calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


def book_message(token: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int = 1) -> dict[str, Any]:
    """A `book` message; levels given best-first are sent worst-first (bids ascending, asks descending)."""
    return {
        "event_type": "book",
        "asset_id": token,
        "market": "0x" + "ab" * 32,
        "bids": [{"price": p, "size": s} for p, s in reversed(bids)],
        "asks": [{"price": p, "size": s} for p, s in reversed(asks)],
        "timestamp": str(ts),
        "hash": "0x0",
    }


@dataclass
class Socket:
    index: int
    assets: set[str] = field(default_factory=set)
    received: list[str] = field(default_factory=list)
    pings: int = 0
    closed: bool = False


class ClobMarketServer:
    """`with ClobMarketServer() as server:` serves `server.url` on 127.0.0.1 (see the module docstring)."""

    def __init__(self) -> None:
        self.books: dict[str, dict[str, Any]] = {}
        self.sockets: list[Socket] = []
        self._live: dict[ServerConnection, Socket] = {}
        self._silent = self._refuse = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="clob-market-loopback", daemon=True)
        self._server: Server | None = None
        self._subscribed = threading.Condition()

    def __enter__(self) -> ClobMarketServer:
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
        return await serve(self._handle, "127.0.0.1", 0, ping_interval=None)

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    # -------------------------------------------------------------------------------------------- observation
    def wait_for(self, predicate: Any, timeout_s: float = 5.0) -> None:
        """Block until `predicate(self)` holds (checked whenever a socket's frames change)."""
        with self._subscribed:
            if not self._subscribed.wait_for(lambda: predicate(self), timeout_s):
                raise TimeoutError("the condition did not hold in time")

    # --------------------------------------------------------------------------------------------- commands
    def push(self, message: dict[str, Any] | list[Any] | str) -> int:
        return int(self._call(self._push(message)))

    def silence(self) -> None:
        self._silent = True

    def drop(self, refuse: bool = False) -> None:
        self._refuse = refuse
        self._call(self._drop())

    def resume(self) -> None:
        self._silent = self._refuse = False

    async def _push(self, message: dict[str, Any] | list[Any] | str) -> int:
        text = message if isinstance(message, str) else json.dumps(message)
        asset = message.get("asset_id") if isinstance(message, dict) else None
        sent = 0
        for ws, log in list(self._live.items()):
            if asset is None or asset in log.assets:
                try:
                    await ws.send(text)
                    sent += 1
                except ConnectionClosed:
                    pass
        return sent

    async def _drop(self) -> None:
        for ws in list(self._live):
            ws.transport.abort()

    # --------------------------------------------------------------------------------------------- protocol
    async def _handle(self, ws: ServerConnection) -> None:
        log = Socket(index=len(self.sockets))
        self.sockets.append(log)
        if self._refuse:
            ws.transport.abort()
            log.closed = True
            return
        self._live[ws] = log
        try:
            async for frame in ws:
                text = frame if isinstance(frame, str) else frame.decode()
                with self._subscribed:
                    log.received.append(text)
                    if text == "PING":
                        log.pings += 1
                    self._subscribed.notify_all()
                if self._silent:
                    continue
                if text == "PING":
                    await ws.send("PONG")
                    continue
                await self._subscription(ws, log, json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            self._live.pop(ws, None)
            with self._subscribed:
                log.closed = True
                self._subscribed.notify_all()

    async def _subscription(self, ws: ServerConnection, log: Socket, message: dict[str, Any]) -> None:
        assets = set(message.get("assets_ids", []))
        if message.get("operation") == "unsubscribe":
            log.assets -= assets
            return
        new = assets - log.assets
        log.assets |= assets
        with self._subscribed:
            self._subscribed.notify_all()
        snapshots = [self.books[a] for a in sorted(new) if a in self.books]
        if snapshots:
            await ws.send(json.dumps(snapshots))
