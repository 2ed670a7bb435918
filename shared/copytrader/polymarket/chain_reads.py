"""Reads of Polygon state over JSON-RPC 2.0 on HTTP: ERC-1155 and ERC-20 `balanceOf` (`eth_call` at "latest") and a
transaction's receipt (`eth_getTransactionReceipt`), with the pUSD its Transfer logs moved to or from a wallet.

The redemption's verification and the venue sync read the chain through this (the listener's WebSocket session,
`listener.chain_rpc`, is for subscriptions). An error answer, a missing or malformed result is an `RpcError`:
never a zero balance.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from copytrader.errors import RpcError
from copytrader.polymarket.http import JsonHttp

ERC1155_BALANCE_OF = "0x00fdd58e"  # balanceOf(address,uint256)
ERC20_BALANCE_OF = "0x70a08231"  # balanceOf(address)
# keccak("Transfer(address,address,uint256)"): the ERC-20 Transfer event's public topic0, not a key
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


def _word(value: int) -> str:
    return f"{value:064x}"


def _address_word(address: str) -> str:
    return _word(int(address, 16))


def _quantity(value: object, what: str) -> int:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16) if len(value) > 2 else 0
        except ValueError:
            pass
    raise RpcError(f"{what} is not a hex quantity: {str(value)[:80]!r}")


@dataclass(frozen=True)
class Receipt:
    transaction_hash: str
    succeeded: bool
    block_number: int
    logs: tuple[dict[str, Any], ...]

    def net_transfer_to(self, token: str, wallet: str) -> int:
        """Base units of ERC-20 `token` the logs moved into `wallet`, less those they moved out of it."""
        target = _address_word(wallet)
        net = 0
        for log in self.logs:
            topics = [str(t).lower() for t in log.get("topics") or []]
            if str(log.get("address", "")).lower() != token.lower() or len(topics) != 3 or topics[0] != TRANSFER_TOPIC:
                continue
            amount = _quantity(log.get("data"), "Transfer amount")
            if topics[2][2:] == target:
                net += amount
            if topics[1][2:] == target:
                net -= amount
        return net


class ChainReads:
    """`eth_call` balances and receipts from one JSON-RPC endpoint over HTTP (POST)."""

    def __init__(self, http: JsonHttp) -> None:
        self._http = http
        self._ids = itertools.count(1)

    def _call(self, method: str, params: list[Any]) -> Any:
        answer = self._http.post("", {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if not isinstance(answer, dict):
            raise RpcError(f"{method}: no JSON-RPC answer")
        if "error" in answer:
            raise RpcError(f"{method}: JSON-RPC error {str(answer['error'])[:200]}")
        if "result" not in answer:
            raise RpcError(f"{method}: answer without a result")
        return answer["result"]

    def _eth_call(self, to: str, data: str) -> int:
        result = self._call("eth_call", [{"to": to, "data": data}, "latest"])
        return _quantity(result, f"eth_call {data[:10]} on {to}")

    def erc1155_balance(self, contract: str, owner: str, token_id: str) -> int:
        return self._eth_call(contract, ERC1155_BALANCE_OF + _address_word(owner) + _word(int(token_id)))

    def erc20_balance(self, token: str, owner: str) -> int:
        return self._eth_call(token, ERC20_BALANCE_OF + _address_word(owner))

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The transaction's receipt, or None while it is not mined (or unknown to the node)."""
        result = self._call("eth_getTransactionReceipt", [tx_hash])
        if result is None:
            return None
        if not isinstance(result, dict):
            raise RpcError("eth_getTransactionReceipt: the result is not an object")
        logs = result.get("logs")
        if not isinstance(logs, list):
            raise RpcError("eth_getTransactionReceipt: no logs list")
        return Receipt(
            transaction_hash=str(result.get("transactionHash") or tx_hash),
            succeeded=_quantity(result.get("status"), "receipt status") == 1,
            block_number=_quantity(result.get("blockNumber"), "receipt block"),
            logs=tuple(log for log in logs if isinstance(log, dict)),
        )
