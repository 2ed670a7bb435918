"""JSON-RPC 2.0 over one WebSocket, for the chain source: requests matched to answers by id, subscription
notifications queued with their receipt times for the source's session loop (the only consumer), and the
decoding of a hex QUANTITY (block numbers, timestamps)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from copytrader.errors import RpcError


@dataclass(frozen=True)
class Note:
    subscription: str
    result: Any
    received_at: datetime
    received_mono: float


@dataclass(frozen=True)
class Closed:
    reason: str


class Wake:
    """Look again: the watched wallets changed, or stop was set."""


WAKE = Wake()
Event = Note | Closed | Wake


class RpcSession:
    """JSON-RPC 2.0 over one WebSocket: answers matched to requests by id, subscription notifications
    queued (with their receipt times) for the session loop, which is the only consumer."""

    def __init__(
        self,
        ws: ClientConnection,
        inbox: asyncio.Queue[Event],
        timeout_s: float,
        on_note: Callable[[], None],
        wall: Callable[[], datetime],
        monotonic: Callable[[], float],
    ) -> None:
        self._ws, self._inbox, self._timeout_s, self._on_note = ws, inbox, timeout_s, on_note
        self._wall, self._monotonic = wall, monotonic
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self.last_note: dict[str, float] = {}  # subscription id -> monotonic time of its latest notification
        self.garbage = 0

    async def call(self, method: str, params: list[Any]) -> Any:
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            await self._ws.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}))
            async with asyncio.timeout(self._timeout_s):
                return await future
        finally:
            self._waiting.pop(request_id, None)

    async def read(self) -> None:
        reason = "closed"
        try:
            async for message in self._ws:
                received_at, received_mono = self._wall(), self._monotonic()
                try:
                    payload = json.loads(message)
                except ValueError:
                    self.garbage += 1
                    continue
                for item in payload if isinstance(payload, list) else [payload]:
                    self._route(item, received_at, received_mono)
        except ConnectionClosed as exc:
            reason = f"closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})"
        finally:
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(RpcError(f"connection {reason} before the answer"))
                    future.exception()  # its caller may be failing on the send instead: no "never retrieved"
            self._inbox.put_nowait(Closed(reason))

    def _route(self, item: object, received_at: datetime, received_mono: float) -> None:
        if not isinstance(item, dict):
            self.garbage += 1
            return
        params = item.get("params")
        if item.get("method") == "eth_subscription" and isinstance(params, dict):
            subscription = str(params.get("subscription"))
            self.last_note[subscription] = received_mono
            self._on_note()
            self._inbox.put_nowait(Note(subscription, params.get("result"), received_at, received_mono))
            return
        future = self._waiting.get(item["id"]) if isinstance(item.get("id"), int) else None
        if future is None or future.done():
            self.garbage += 1
        elif "error" in item:
            future.set_exception(RpcError(f"JSON-RPC error {json.dumps(item['error'])[:300]}"))
        else:
            future.set_result(item.get("result"))

    def abort(self) -> None:
        """Drop the TCP connection without a closing handshake (a stalled peer may never answer one)."""
        self._ws.transport.abort()


def hex_quantity(value: object, what: str) -> int:
    """A JSON-RPC QUANTITY ("0x"-prefixed hex) as an int; RpcError when `value` (named `what`) is not one."""
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(f"{what} is not a hex quantity: {str(value)[:80]!r}")
