"""A loopback Polygon JSON-RPC 2.0 WebSocket node for tests (its logs are built with `tests.support.chain_logs`).

`FakeRpcNode` holds a small chain (blocks with timestamps and logs) and serves it on 127.0.0.1 (a free
port) from a background thread with its own event loop; use it as a context manager and connect to `.url`.
Methods: `eth_subscribe` ("newHeads", "logs" with address/topics filters), `eth_unsubscribe`, `eth_getLogs`
(fromBlock/toBlock as hex or "latest"/"earliest"), `eth_blockNumber`, `eth_getBlockByNumber`. Filter
semantics are geth's: `address` is one address or a list (OR); in `topics`, null = any, a string = that
value, a list = any of its values (an empty list = any); a filter with more topics than a log never matches.

The test drives it from its own thread: `append_block(logs)` mines a block and pushes its header and then
its logs to subscribers (the order geth uses; `heads_first=False` reverses it), `drop()` aborts every open
connection (no closing handshake: a network failure), `stall()` keeps the open connections alive
(pings answered) but pushes and answers nothing on them from then on — the silent stall — while new
connections work; `resume()` ends it. `mine_every(s)` adds empty blocks in the background so a client
sees a live chain. `reorg_last_block()` removes the newest block and pushes its logs again with
`removed: true`. `max_block_range` makes `eth_getLogs` refuse wider ranges (as public RPCs do).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from collections import Counter
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from tests.support.chain_logs import Log, hash32

LOGGER = logging.getLogger("tests.fake_rpc_node")  # the node's own records (they show the request path)
T = TypeVar("T")
RANGE_TOO_LARGE = -32005


# ------------------------------------------------------------------------------------------------------- chain


@dataclass
class Block:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    logs: list[Log] = field(default_factory=list)

    def header(self) -> dict[str, Any]:
        return {
            "number": hex(self.number),
            "hash": self.hash,
            "parentHash": self.parent_hash,
            "timestamp": hex(self.timestamp),
            "miner": "0x" + "00" * 20,
            "gasLimit": hex(30_000_000),
            "gasUsed": hex(0),
        }


def matches(log: Log, log_filter: dict[str, Any]) -> bool:
    """geth's log filter semantics (see the module docstring)."""
    address = log_filter.get("address")
    if address:
        wanted = [address] if isinstance(address, str) else list(address)
        if log["address"].lower() not in {a.lower() for a in wanted}:
            return False
    topics = log_filter.get("topics") or []
    if len(topics) > len(log["topics"]):
        return False
    for want, have in zip(topics, log["topics"], strict=False):
        if want is None:
            continue
        options = [want] if isinstance(want, str) else list(want)
        if options and have.lower() not in {o.lower() for o in options}:
            return False
    return True


@dataclass(eq=False)
class _Conn:
    ws: ServerConnection
    heads: set[str] = field(default_factory=set)
    logs: dict[str, dict[str, Any]] = field(default_factory=dict)
    stalled: bool = False


class RpcFailure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class FakeRpcNode:
    """See the module docstring. Every method is thread-safe (it runs on the node's own loop)."""

    def __init__(
        self,
        genesis_time: int = 1_790_000_000,
        *,
        first_block: int = 1_000,
        heads_first: bool = True,
        max_block_range: int | None = None,
    ) -> None:
        self.heads_first, self.max_block_range = heads_first, max_block_range
        self.blocks: list[Block] = [Block(first_block, hash32(f"block:{first_block}"), hash32("genesis"), genesis_time)]
        self.requests: Counter[str] = Counter()
        self.connections_opened = 0
        self._conns: set[_Conn] = set()
        self._ids = itertools.count(1)
        self._forks = 0
        self._miner: asyncio.Task[None] | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-rpc-node", daemon=True)
        self._thread.start()
        self._server: Server = self._call(self._serve())
        self.port: int = self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/secret-api-key"

    @property
    def head(self) -> int:
        return self.blocks[-1].number

    @property
    def open_connections(self) -> int:
        return self._call(self._count_open())

    # ---- test controls -------------------------------------------------------------------------------------

    def append_block(self, logs: Sequence[Log] = (), timestamp: int | None = None) -> Block:
        """Mine a block holding these logs (block fields filled in) and push it to subscribers."""
        return self._call(self._append(list(logs), timestamp))

    def mine_every(self, seconds: float | None) -> None:
        """Mine an empty block every `seconds` in the background (None stops)."""
        self._call(self._set_miner(seconds))

    def drop(self) -> None:
        self._call(self._drop())

    def stall(self) -> None:
        self._call(self._stall(True))

    def resume(self) -> None:
        self._call(self._stall(False))

    def reorg_last_block(self) -> Block:
        """Remove the newest block and push its logs with `removed: true`; the next block reuses its number."""
        return self._call(self._reorg())

    def close(self) -> None:
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> FakeRpcNode:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    # ---- on the node's loop --------------------------------------------------------------------------------

    async def _serve(self) -> Server:
        return await serve(self._handler, "127.0.0.1", 0, logger=LOGGER)

    async def _count_open(self) -> int:
        return len(self._conns)

    async def _append(self, logs: list[Log], timestamp: int | None) -> Block:
        parent = self.blocks[-1]
        number = parent.number + 1
        block = Block(
            number,
            hash32(f"block:{number}:fork:{self._forks}"),
            parent.hash,
            parent.timestamp if timestamp is None else timestamp,
        )
        for index, log in enumerate(logs):
            block.logs.append(
                {
                    **log,
                    "blockNumber": hex(number),
                    "blockHash": block.hash,
                    "transactionIndex": hex(index),
                    "logIndex": hex(index),
                    "removed": False,
                }
            )
        self.blocks.append(block)
        if self.heads_first:
            await self._push_head(block)
            await self._push_logs(block.logs)
        else:
            await self._push_logs(block.logs)
            await self._push_head(block)
        return block

    async def _push_head(self, block: Block) -> None:
        for conn in list(self._conns):
            for subscription in conn.heads:
                await self._notify(conn, subscription, block.header())

    async def _push_logs(self, logs: list[Log]) -> None:
        for conn in list(self._conns):
            for subscription, log_filter in list(conn.logs.items()):
                for log in logs:
                    if matches(log, log_filter):
                        await self._notify(conn, subscription, log)

    async def _notify(self, conn: _Conn, subscription: str, result: object) -> None:
        if conn.stalled:
            return
        message = {
            "jsonrpc": "2.0",
            "method": "eth_subscription",
            "params": {"subscription": subscription, "result": result},
        }
        try:
            await conn.ws.send(json.dumps(message))
        except ConnectionClosed:
            self._conns.discard(conn)

    async def _set_miner(self, seconds: float | None) -> None:
        if self._miner is not None:
            self._miner.cancel()
            self._miner = None
        if seconds is not None:
            self._miner = asyncio.ensure_future(self._mine(seconds))

    async def _mine(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            await self._append([], None)

    async def _drop(self) -> None:
        for conn in list(self._conns):
            conn.ws.transport.abort()
        self._conns.clear()

    async def _stall(self, stalled: bool) -> None:
        for conn in self._conns:
            conn.stalled = stalled

    async def _reorg(self) -> Block:
        block = self.blocks.pop()
        self._forks += 1
        await self._push_logs([{**log, "removed": True} for log in block.logs])
        return block

    async def _shutdown(self) -> None:
        await self._set_miner(None)
        self._server.close()
        await self._server.wait_closed()

    async def _handler(self, ws: ServerConnection) -> None:
        conn = _Conn(ws)
        self._conns.add(conn)
        self.connections_opened += 1
        try:
            async for message in ws:
                if conn.stalled:
                    continue
                await ws.send(json.dumps(self._answer(conn, json.loads(message))))
        except ConnectionClosed:
            pass
        finally:
            self._conns.discard(conn)

    # ---- JSON-RPC ------------------------------------------------------------------------------------------

    def _answer(self, conn: _Conn, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method", ""), request.get("params") or []
        self.requests[method] += 1
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        try:
            reply["result"] = self._result(conn, method, params)
        except RpcFailure as failure:
            reply["error"] = {"code": failure.code, "message": failure.message}
        return reply

    def _result(self, conn: _Conn, method: str, params: list[Any]) -> Any:
        if method == "eth_blockNumber":
            return hex(self.head)
        if method == "eth_getBlockByNumber":
            number = self._block_number(params[0])
            found = [b for b in self.blocks if b.number == number]
            return found[0].header() if found else None
        if method == "eth_getLogs":
            return self._get_logs(params[0])
        if method == "eth_subscribe":
            subscription = hex(next(self._ids))
            if params[0] == "newHeads":
                conn.heads.add(subscription)
            elif params[0] == "logs":
                conn.logs[subscription] = params[1] if len(params) > 1 else {}
            else:
                raise RpcFailure(-32602, f"unsupported subscription {params[0]!r}")
            return subscription
        if method == "eth_unsubscribe":
            known = params[0] in conn.heads or params[0] in conn.logs
            conn.heads.discard(params[0])
            conn.logs.pop(params[0], None)
            return known
        raise RpcFailure(-32601, f"the method {method} does not exist/is not available")

    def _block_number(self, tag: str) -> int:
        if tag == "latest":
            return self.head
        if tag == "earliest":
            return self.blocks[0].number
        return int(tag, 16)

    def _get_logs(self, log_filter: dict[str, Any]) -> list[Log]:
        low = self._block_number(log_filter.get("fromBlock", "latest"))
        high = self._block_number(log_filter.get("toBlock", "latest"))
        if self.max_block_range is not None and high - low + 1 > self.max_block_range:
            raise RpcFailure(RANGE_TOO_LARGE, f"block range is too large (max {self.max_block_range})")
        return [
            log
            for block in self.blocks
            if low <= block.number <= high
            for log in block.logs
            if matches(log, log_filter)
        ]
