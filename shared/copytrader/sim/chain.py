"""A simulated Polygon on loopback for live redemption and the venue sync (the integration tests', and the demo's
redemption fault, `copytrader.local.redeem_fault`): JSON-RPC 2.0 over HTTP, the relayer's transaction status route,
and the Data API v2 positions route, on one 127.0.0.1 port.

- `POST /` JSON-RPC: `eth_call` of ERC-1155 `balanceOf(address,uint256)` (0x00fdd58e) on any contract and ERC-20
  `balanceOf(address)` (0x70a08231), `eth_getTransactionReceipt` (status, blockNumber, logs; null while pending).
- `GET /v1/account/transactions/{id}` (relayer, REFERENCE §0b.2): `{"transaction_id", "transaction_hash", "state"}`
  with the states STATE_NEW .. STATE_CONFIRMED | STATE_FAILED.
- `GET /v2/positions?user&status&limit&cursor` (Data API v2, §0b.4): the `{"data", "pagination"}` envelope, paged
  by `page_size`; `positions_fault` breaks it ("http_500", "has_more_without_cursor", "data_null").

`execute(wallet, calls)` is what the chain does with one transaction of redemption calls (the contracts' effects):
`redeemPositions(collateral, 0x0, conditionId, [1,2])` (0x01b7037c) on a collateral adapter burns the wallet's
ConditionalTokens balance of the condition's tokens and transfers the payout in pUSD from the adapter (on
ConditionalTokens itself with pUSD it pays 0 and burns nothing, as on Polygon); `Router.redeem(bytes31, index,
amount)` (0xd217a3cc) burns `amount` of the V2 position on PositionManager and pays it. The receipt's logs are the
pUSD Transfers.

`SdkClientStandIn` stands in for `polymarket.SecureClient` at the one method the sender calls,
`execute_transaction(calls=, metadata=)`: it hands the calls to the loopback chain and returns the SDK's own
`SyncGaslessTransactionHandle`, whose `wait()` polls the loopback relayer route above through the SDK's transport.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from eth_abi.abi import decode

from copytrader.polymarket.chain_reads import TRANSFER_TOPIC
from copytrader.risk.redemption import (
    CONDITIONAL_TOKENS,
    CTF_COLLATERAL_ADAPTER,
    NEG_RISK_CTF_COLLATERAL_ADAPTER,
    POSITION_MANAGER,
    PUSD,
)
from copytrader.sim.loopback import JsonHandler, Loopback


def _topic(address: str) -> str:
    return "0x" + f"{int(address, 16):064x}"


class EvmNode(Loopback):
    def __init__(self) -> None:
        self.erc1155: dict[tuple[str, str, int], int] = {}  # (contract, owner, id) -> balance, lower-case addresses
        self.erc20: dict[tuple[str, str], int] = {}
        self.receipts: dict[str, dict[str, Any] | None] = {}  # None: pending
        self.relayer: dict[str, dict[str, Any]] = {}
        self.conditions: dict[str, list[int]] = {}  # CTF condition id -> its token ids
        self.payouts: dict[int, Decimal] = {}
        self.calls_seen: list[tuple[str, str]] = []  # (target, selector) of every call executed
        self.positions: list[dict[str, Any]] = []  # Data API v2 rows of the wallet
        self.page_size = 2
        self.positions_fault: str | None = None
        self.fail_rpc = False  # every JSON-RPC request answers an error
        self.rpc_requests: list[str] = []
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------------------------------- state
    def set_1155(self, contract: str, owner: str, token_id: str, amount: int) -> None:
        self.erc1155[(contract.lower(), owner.lower(), int(token_id))] = amount

    def set_pusd(self, owner: str, amount: int) -> None:
        self.erc20[(PUSD.lower(), owner.lower())] = amount

    def pusd(self, owner: str) -> int:
        return self.erc20.get((PUSD.lower(), owner.lower()), 0)

    def balance(self, contract: str, owner: str, token_id: str) -> int:
        return self.erc1155.get((contract.lower(), owner.lower(), int(token_id)), 0)

    def _burn_pay(self, contract: str, wallet: str, token: int, amount: int, payer: str, logs: list[Any]) -> None:
        key = (contract.lower(), wallet.lower(), token)
        self.erc1155[key] = self.erc1155.get(key, 0) - amount
        paid = int(Decimal(amount) * self.payouts.get(token, Decimal(0)))
        if paid:
            self.erc20[(PUSD.lower(), wallet.lower())] = self.pusd(wallet) + paid
            logs.append({"address": PUSD, "topics": [TRANSFER_TOPIC, _topic(payer), _topic(wallet)], "data": hex(paid)})

    def execute(self, wallet: str, calls: Sequence[Any], *, burn: bool = True) -> list[dict[str, Any]]:
        """Apply one transaction's calls (see the module docstring); its pUSD Transfer logs."""
        logs: list[dict[str, Any]] = []
        for call in calls:
            selector, args = call.data[:10], bytes.fromhex(call.data[10:])
            self.calls_seen.append((call.to, selector))
            if not burn:
                continue
            if selector == "0x01b7037c":
                collateral, _, condition, _ = decode(["address", "bytes32", "bytes32", "uint256[]"], args)
                adapters = {CTF_COLLATERAL_ADAPTER.lower(), NEG_RISK_CTF_COLLATERAL_ADAPTER.lower()}
                if call.to.lower() not in adapters or collateral.lower() != PUSD.lower():
                    continue  # ConditionalTokens with pUSD: a position nobody holds, pays 0
                for token in self.conditions.get("0x" + condition.hex(), []):
                    held = self.erc1155.get((CONDITIONAL_TOKENS.lower(), wallet.lower(), token), 0)
                    self._burn_pay(CONDITIONAL_TOKENS, wallet, token, held, call.to, logs)
            elif selector == "0xd217a3cc":
                condition, index, amount = decode(["bytes31", "uint256", "uint256"], args)
                token = (int.from_bytes(condition, "big") << 8) | index
                self._burn_pay(POSITION_MANAGER, wallet, token, amount, call.to, logs)
        return logs

    def submit(self, wallet: str, calls: Sequence[Any], *, burn: bool = True, mined: bool = True) -> str:
        """A relayer transaction of `calls`: executed on the chain now; CONFIRMED with its receipt unless `mined`
        is False (then STATE_EXECUTED and no receipt until `confirm`)."""
        number = next(self._ids)
        transaction_id, tx_hash = f"relay-{number}", "0x" + f"{number:064x}"
        logs = self.execute(wallet, calls, burn=burn)
        receipt = {"transactionHash": tx_hash, "status": "0x1", "blockNumber": hex(100 + number), "logs": logs}
        self.relayer[transaction_id] = {"transaction_id": transaction_id, "transaction_hash": None,
                                        "state": "STATE_EXECUTED", "receipt": receipt, "hash": tx_hash}  # fmt: skip
        self.receipts[tx_hash] = None
        if mined:
            self.confirm(transaction_id)
        return transaction_id

    def confirm(self, transaction_id: str) -> None:
        entry = self.relayer[transaction_id]
        entry.update(state="STATE_CONFIRMED", transaction_hash=entry["hash"])
        self.receipts[entry["hash"]] = entry["receipt"]

    # ------------------------------------------------------------------------------------------ serving
    def _rpc(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method"), request.get("params") or []
        self.rpc_requests.append(str(method))
        answer: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        if self.fail_rpc:
            return {**answer, "error": {"code": -32603, "message": "internal error"}}
        if method == "eth_call":
            to, data = params[0]["to"].lower(), params[0]["data"]
            owner = "0x" + data[10 + 24 : 10 + 64]
            if data.startswith("0x00fdd58e"):
                value = self.erc1155.get((to, owner, int(data[10 + 64 : 10 + 128], 16)), 0)
            elif data.startswith("0x70a08231"):
                value = self.erc20.get((to, owner), 0)
            else:
                return {**answer, "error": {"code": -32000, "message": "execution reverted"}}
            return {**answer, "result": "0x" + f"{value:064x}"}
        if method == "eth_getTransactionReceipt":
            return {**answer, "result": self.receipts.get(params[0])}
        return {**answer, "error": {"code": -32601, "message": "method not found"}}

    def _positions(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        status = query.get("status", ["OPEN"])[0]
        rows = [row for row in self.positions if row["status"] == status]
        start = int(query.get("cursor", ["0"])[0])
        page = rows[start : start + self.page_size]
        more = start + self.page_size < len(rows)
        if self.positions_fault == "http_500":
            return 500, {"error": "internal"}
        if self.positions_fault == "data_null":
            return 200, {"data": None, "pagination": {"has_more": False, "next_cursor": None}}
        cursor = None if not more or self.positions_fault == "has_more_without_cursor" else str(start + self.page_size)
        return 200, {"data": page, "pagination": {"has_more": more, "next_cursor": cursor}}

    def start(self) -> EvmNode:
        node = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                return self._send(200, node._rpc(body))

            def do_GET(self) -> None:
                parsed = urlparse(self.path)
                if parsed.path.startswith("/v1/account/transactions/"):
                    entry = node.relayer.get(parsed.path.rsplit("/", 1)[1])
                    if entry is None:
                        return self._send(404, {"error": "not found"})
                    return self._send(200, {k: entry[k] for k in ("transaction_id", "transaction_hash", "state")})
                if parsed.path == "/v2/positions":
                    status, payload = node._positions(parse_qs(parsed.query))
                    return self._send(status, payload)
                return self._send(404, {"error": "not found"})

        self._serve(Handler)
        return self


class SdkClientStandIn:
    """`polymarket.SecureClient` at `execute_transaction` and `wallet` (see the module docstring). `burn=False`: the
    relayer confirms a transaction that burns nothing; `mined=False`: it stays pending until `node.confirm`;
    `fail_send`: the submission raises (nothing left)."""

    def __init__(self, node: EvmNode, wallet: str) -> None:
        from polymarket.clients._transport import SyncTransport

        self.node, self.wallet = node, wallet
        self.burn, self.mined, self.fail_send = True, True, False
        self.sent: list[list[Any]] = []
        self._relayer = SyncTransport(base_url=node.url)

        class _Ctx:
            relayer = self._relayer

        self._ctx = _Ctx()

    def execute_transaction(self, *, calls: Sequence[Any], metadata: str | None = None) -> Any:
        from polymarket.transactions import SyncGaslessTransactionHandle

        if self.fail_send:
            raise ConnectionError("relayer unreachable")
        self.sent.append(list(calls))
        transaction_id = self.node.submit(self.wallet, calls, burn=self.burn, mined=self.mined)
        return SyncGaslessTransactionHandle(
            transaction_id=transaction_id, transaction_hash=None, _relayer=self._relayer, _max_polls=2, _poll_delay_s=0
        )
