"""Polygon `OrderFilled` logs for tests, as the CTF Exchange V2 emits them (REFERENCE.md §g): one log from its
fields (`order_filled_log`), or the logs of a whole trade split into legs (`trade_logs`). They carry no block
fields: `tests.support.rpc_server.FakeRpcNode` adds those when it mines them.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Protocol

from eth_abi.abi import encode as abi_encode

from copytrader.polymarket.chain import CTF_EXCHANGE, ORDER_FILLED_TOPIC, pad32

Log = dict[str, Any]


def hash32(label: str) -> str:
    return "0x" + hashlib.sha256(label.encode()).hexdigest()


class TradeLike(Protocol):
    """What a log builder needs of a trade (`copytrader.model.WhaleTrade` has it)."""

    @property
    def wallet(self) -> str: ...
    @property
    def side(self) -> str: ...
    @property
    def token_id(self) -> str: ...
    @property
    def size(self) -> Decimal: ...
    @property
    def price(self) -> Decimal: ...
    @property
    def tx_hash(self) -> str: ...


def units(amount: Decimal) -> int:
    """A 6-decimal on-chain amount; raises when `amount` is not on the 1e-6 grid."""
    scaled = amount.scaleb(6)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of 1e-6 units")
    return int(scaled)


def order_filled_log(
    *,
    maker: str,
    taker: str,
    side: str,
    token_id: str | int,
    shares_units: int,
    pusd_units: int,
    fee_units: int = 0,
    tx_hash: str,
    exchange: str = CTF_EXCHANGE,
    order_hash: str | None = None,
) -> Log:
    """A V2 `OrderFilled` log (no block fields yet: the node adds them when the log is mined).

    BUY: makerAmountFilled = pUSD paid, takerAmountFilled = shares; SELL: the reverse (REFERENCE.md §g).
    """
    buy = side.upper() == "BUY"
    maker_amount, taker_amount = (pusd_units, shares_units) if buy else (shares_units, pusd_units)
    data = abi_encode(
        ["uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32"],
        [0 if buy else 1, int(token_id), maker_amount, taker_amount, fee_units, b"\x00" * 32, b"\x00" * 32],
    )
    return {
        "address": exchange,
        "topics": [
            ORDER_FILLED_TOPIC,
            order_hash or hash32(f"order:{tx_hash}:{maker}:{token_id}:{shares_units}"),
            pad32(maker),
            pad32(taker),
        ],
        "data": "0x" + data.hex(),
        "transactionHash": tx_hash,
    }


def trade_logs(
    trade: TradeLike, *, legs: int = 1, taker_leg: bool = True, exchange: str = CTF_EXCHANGE, taker: str | None = None
) -> list[Log]:
    """The `OrderFilled` logs of one trade, split into `legs` fills of the wallet's orders whose shares and
    pUSD sum exactly to the trade's (so the summed price is the trade's price).

    `taker_leg`: the wallet took liquidity (taker topic = the exchange); otherwise its resting order was
    hit by `taker` (default: a fixed counterparty address).
    """
    shares, pusd = units(trade.size), units(trade.size * trade.price)
    counterparty = exchange if taker_leg else (taker or "0x" + "c0" * 20)
    logs = []
    shares_left, pusd_left = shares, pusd
    for k in range(legs):
        last = k == legs - 1
        leg_shares = shares_left if last else shares // legs
        leg_pusd = pusd_left if last else pusd * leg_shares // shares
        shares_left, pusd_left = shares_left - leg_shares, pusd_left - leg_pusd
        logs.append(
            order_filled_log(
                maker=trade.wallet,
                taker=counterparty,
                side=str(trade.side),
                token_id=trade.token_id,
                shares_units=leg_shares,
                pusd_units=leg_pusd,
                tx_hash=trade.tx_hash,
                exchange=exchange,
                order_hash=hash32(f"order:{trade.tx_hash}:{k}"),
            )
        )
    return logs
