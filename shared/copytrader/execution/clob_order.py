"""CLOB V2 orders for `ClobVenue`: their amounts and their deterministic EIP-712 signature (py-clob-client-v2's
order builder).

Order (REFERENCE.md section f, docs "trading/orders"):
- exchange: the V2 CTF Exchange, or the V2 Neg Risk CTF Exchange when `order.neg_risk` (the EIP-712 domain
  "Polymarket CTF Exchange", version "2", chain 137, verifyingContract = that exchange);
- FOK/FAK are market orders: BUY makerAmount = pUSD = floor_2dp(min(shares x limit, max_cost / (1 + rate x
  (1 - tick)))), takerAmount = floor_{amount dp}(makerAmount / limit) shares (the least the fill may give:
  the limit price is the slippage guard). A market BUY spends its pUSD, so at better prices it gets more
  shares; the cap keeps amount + the largest fee those shares can cost (fee/pUSD = rate x (1 - p) <=
  rate x (1 - tick)) within the reservation. SELL makerAmount = floor_2dp(shares), takerAmount =
  floor_{amount dp}(shares x limit);
- GTC/GTD are limit orders: BUY takerAmount = floor_2dp(shares), makerAmount = shares x limit; SELL the
  mirror; a GTD order expires at signing time + `gtd_lifetime_s` (UTC seconds; the venue wants > 60 s);
- amounts carry 6 decimals (integers in micro-units); the decimals per tick are the SDK's ROUNDING_CONFIG;
- salt = the top 53 bits of blake2b("clob-salt-v1" | idempotency key) (a JSON-safe integer), timestamp =
  the ledger entry's creation time in ms, metadata and builder zero: the signed order, and so its
  EIP-712 hash (the venue's order id), is a deterministic function of the copy. ECDSA signing is
  deterministic too (RFC 6979), so re-signing a copy gives the identical order.
- signer = the key's address (EOA, POLY_PROXY, GNOSIS_SAFE) or the deposit wallet (POLY_1271); maker =
  the funder (proxy, Safe or deposit wallet; the key's address for EOA).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from copytrader.errors import VenueRejected
from copytrader.execution import signing_libs  # noqa: F401  (before the SDK: keeps the recursion limit)
from copytrader.execution.credentials import SignatureType, VenueCredentials
from copytrader.model import OrderType, Side, SizedOrder
from copytrader.money import ONE

MICRO = Decimal(10) ** 6
SIZE_DP = 2


def order_salt(idempotency_key: str) -> int:
    """The order's salt: 53 bits of blake2b over the key, so it is fixed per copy and exact in JSON."""
    digest = hashlib.blake2b(f"clob-salt-v1|{idempotency_key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 11


def _floor(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def _amount_places(tick: Decimal) -> int:
    from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG  # type: ignore[import-untyped]

    config = ROUNDING_CONFIG.get(format(tick.normalize(), "f"))
    if config is None:
        raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", f"unsupported tick size {tick}")
    return int(config.amount)


def order_amounts(order: SizedOrder) -> tuple[int, int]:
    """(makerAmount, takerAmount) in micro-units for `order` (module docstring gives the formulas)."""
    tick, price = order.tick_size, order.limit_price
    if not (tick <= price <= ONE - tick) or price % tick != 0:
        raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", f"price {price} vs tick {tick}")
    places = _amount_places(tick)
    shares = _floor(order.shares, SIZE_DP)
    if shares < order.min_order_size or shares <= 0:
        raise VenueRejected("INVALID_ORDER_MIN_SIZE", f"size {shares} < {order.min_order_size}")
    market = order.order_type in (OrderType.FOK, OrderType.FAK)
    if order.side is Side.BUY:
        if market:
            spend = shares * price
            if order.max_cost > 0:  # amount + the largest fee it can incur (at the lowest price) fits max_cost
                spend = min(spend, order.max_cost / (ONE + order.taker_fee_rate * (ONE - tick)))
            maker = _floor(spend, SIZE_DP)
            taker = _floor(maker / price, places)
        else:
            taker, maker = shares, _floor(shares * price, places)
    else:
        maker = shares
        taker = _floor(shares * price, places)
    return int(maker * MICRO), int(taker * MICRO)


def wanted_shares(order: SizedOrder) -> Decimal:
    """The shares a complete fill gives at least: a market BUY's takerAmount (its pUSD floored to cents at the
    limit), else the signed share count."""
    maker, taker = order_amounts(order)
    return Decimal(taker if order.side is Side.BUY else maker) / MICRO


@dataclass(frozen=True)
class SignedClobOrder:
    """The body of `POST /order` (already serialized) and the amounts it commits to."""

    body: str
    order_hash: str
    maker_amount: int
    taker_amount: int
    exchange: str = ""  # the exchange contract the order is signed for (the spender of a BUY's pUSD)


def build_signed_order(
    order: SizedOrder,
    credentials: VenueCredentials,
    *,
    signed_at: datetime,
    chain_id: int = 137,
    gtd_lifetime_s: int = 90,
) -> SignedClobOrder:
    """Sign `order` deterministically (module docstring) and serialize it as the CLOB expects."""
    from py_clob_client_v2.config import get_contract_config  # type: ignore[import-untyped]
    from py_clob_client_v2.constants import BYTES32_ZERO  # type: ignore[import-untyped]
    from py_clob_client_v2.order_utils import (  # type: ignore[import-untyped]
        ExchangeOrderBuilderV2,
        OrderDataV2,
        SignatureTypeV2,
    )
    from py_clob_client_v2.order_utils import Side as ClobSide
    from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2  # type: ignore[import-untyped]
    from py_clob_client_v2.signer import Signer  # type: ignore[import-untyped]

    if credentials.api is None:
        raise RuntimeError("API credentials are not set (derive them before signing)")
    maker_amount, taker_amount = order_amounts(order)
    signer = Signer(credentials.private_key, chain_id)
    contracts = get_contract_config(chain_id)
    exchange = contracts.neg_risk_exchange_v2 if order.neg_risk else contracts.exchange_v2
    funder = credentials.funder or signer.address()
    signer_address = funder if credentials.signature_type is SignatureType.POLY_1271 else signer.address()
    salt = order_salt(order.idempotency_key)
    builder = ExchangeOrderBuilderV2(exchange, chain_id, signer, generate_salt=lambda: str(salt))
    timestamp_ms = int(signed_at.timestamp() * 1000)
    expiration = timestamp_ms // 1000 + gtd_lifetime_s if order.order_type is OrderType.GTD else 0
    data = OrderDataV2(
        maker=funder,
        tokenId=order.token_id,
        makerAmount=str(maker_amount),
        takerAmount=str(taker_amount),
        side=ClobSide.BUY if order.side is Side.BUY else ClobSide.SELL,
        signer=signer_address,
        signatureType=SignatureTypeV2(int(credentials.signature_type)),
        timestamp=str(timestamp_ms),
        metadata=BYTES32_ZERO,
        builder=BYTES32_ZERO,
        expiration=str(expiration),
    )
    signed = builder.build_signed_order(data)
    order_hash = builder.build_order_hash(builder.build_order_typed_data(signed))
    payload = order_to_json_v2(signed, credentials.api.api_key, order.order_type.value)
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return SignedClobOrder(body, order_hash, maker_amount, taker_amount, exchange)
