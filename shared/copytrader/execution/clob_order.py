"""CLOB orders for `ClobVenue`: their amounts, their signing by the SDK, their id, and their stored form.

Amounts (REFERENCE.md §0b.2, §0b.7; the SDK's own rounding, `order_amounts` gives them for the reservation and the
fill checks):
- FOK/FAK are market orders (`create_market_order`, order_type set explicitly: the SDK's default is FAK). BUY
  amount = pUSD = floor_2dp(min(shares x limit, max_cost / (1 + rate x (1 - tick)))), `max_price` = the limit:
  makerAmount = that pUSD, takerAmount = floor_{amount dp}(pUSD / limit) shares, the least the fill may give (the
  limit is the slippage guard). A market BUY spends its pUSD, so at better prices it gets more shares; the cap
  keeps amount + the largest fee those shares can cost (fee/pUSD = rate x (1 - p) <= rate x (1 - tick)) within
  the reservation. SELL shares = floor_2dp(shares), `min_price` = the limit: takerAmount = shares x limit.
- GTC/GTD are limit orders (`create_limit_order`): BUY takerAmount = floor_2dp(shares), makerAmount = shares x
  limit; SELL the mirror. A GTD order expires at signing time + `gtd_lifetime_s` (the SDK refuses less than 180 s).
- amounts carry 6 decimals (integers in micro-units); the decimals per tick are the SDK's.

Signing is the SDK's (`create_*`, which never sends; `place_*`, which may send an on-chain approval and re-post, is
never used). Its salt is random and its timestamp the signing time, so the signed order cannot be re-made:
`SignedClobOrder.stored` (the order as JSON; not a secret, never logged) is written with the PENDING ledger entry and
every later attempt posts exactly that order (`restore`).

Order id = the EIP-712 digest of the plain Order struct (`order_id`, REFERENCE.md §0b.2 snippet) under the exchange
the order is signed for: ExchangeV3 for a V2 position id, else the neg-risk or the standard V2 exchange. The SDK picks
the exchange from the venue's market data; for signature types 0-2 the exchange is the one whose digest the
signature recovers to the signer under (types 3 wrap the signature, so `order.neg_risk` decides). `ClobVenue`
checks that the venue's `order_id` is this id.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import TYPE_CHECKING, Any, Literal

from copytrader.errors import VenueRejected
from copytrader.execution import signing_libs  # noqa: F401  (before the SDK: keeps the recursion limit)
from copytrader.model import OrderType, Side, SizedOrder
from copytrader.money import ONE

if TYPE_CHECKING:
    from polymarket import SecureClient, SignedOrder

MICRO = Decimal(10) ** 6
SIZE_DP = 2
AMOUNT_DECIMALS = {  # tick -> decimals of amounts (REFERENCE.md §0b.7, the SDK's rounding table)
    "0.1": 3,
    "0.01": 4,
    "0.005": 5,
    "0.0025": 6,
    "0.001": 5,
    "0.0001": 6,
}
EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
_ORDER_FIELDS = (
    ("salt", "uint256"),
    ("maker", "address"),
    ("signer", "address"),
    ("tokenId", "uint256"),
    ("makerAmount", "uint256"),
    ("takerAmount", "uint256"),
    ("side", "uint8"),
    ("signatureType", "uint8"),
    ("timestamp", "uint256"),
    ("metadata", "bytes32"),
    ("builder", "bytes32"),
)
_V2_POSITION_MASK = ((1 << 64) - 1) << 40  # reserved bits of a V2 position id: all zero (`is_v2_position_id`)


def _floor(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


def _amount_places(tick: Decimal) -> int:
    places = AMOUNT_DECIMALS.get(format(tick.normalize(), "f"))
    if places is None:
        raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", f"unsupported tick size {tick}")
    return places


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


@dataclass(frozen=True, repr=False)
class SignedClobOrder:
    """A signed order as the ledger keeps it: its id, its amounts, its exchange, and `stored` (the SDK's SignedOrder
    as JSON, which `restore` turns back into exactly the order that was signed). Never logged."""

    order_id: str
    maker_amount: int
    taker_amount: int
    exchange: str  # the spender of a BUY's pUSD
    stored: str

    def __repr__(self) -> str:
        return f"SignedClobOrder(order_id={self.order_id})"


def sign_order(client: SecureClient, order: SizedOrder, *, signed_at: datetime, gtd_lifetime_s: int) -> SignedClobOrder:
    """Build and sign `order` with the SDK without sending it; raises VenueRejected when it cannot be built."""
    from polymarket import PolymarketError, TransportError, UserInputError

    order_amounts(order)  # our own checks (tick, minimum size) before the SDK's
    side: Literal["BUY", "SELL"] = "BUY" if order.side is Side.BUY else "SELL"
    limit = str(order.limit_price)
    try:
        if order.order_type in (OrderType.FOK, OrderType.FAK):
            kind: Literal["FOK", "FAK"] = "FOK" if order.order_type is OrderType.FOK else "FAK"
            if order.side is Side.BUY:
                amount = str(Decimal(order_amounts(order)[0]) / MICRO)
                signed = client.create_market_order(
                    asset_id=order.token_id, side="BUY", amount=amount, max_price=limit, order_type=kind
                )
            else:
                shares = str(_floor(order.shares, SIZE_DP))
                signed = client.create_market_order(
                    asset_id=order.token_id, side="SELL", shares=shares, min_price=limit, order_type=kind
                )
        else:
            expiration = int(signed_at.timestamp()) + gtd_lifetime_s if order.order_type is OrderType.GTD else None
            signed = client.create_limit_order(
                asset_id=order.token_id,
                price=limit,
                size=str(_floor(order.shares, SIZE_DP)),
                side=side,
                expiration=expiration,
            )
    except UserInputError as exc:
        text = str(exc)[:200]
        code = "INVALID_ORDER_MIN_TICK_SIZE" if "tick" in text.lower() else "INVALID_ORDER_ERROR"
        raise VenueRejected(code, f"not built: {text}") from None
    except TransportError as exc:
        raise VenueRejected("VENUE_UNREACHABLE", f"market data not readable, nothing sent: {exc}") from None
    except PolymarketError as exc:
        raise VenueRejected("MARKET_NOT_READY", f"not built: {type(exc).__name__}: {str(exc)[:200]}") from None
    exchange = exchange_of(signed, neg_risk=order.neg_risk, chain_id=_chain_id(client))
    return SignedClobOrder(
        order_id(signed, exchange, chain_id=_chain_id(client)),
        signed.maker_amount,
        signed.taker_amount,
        exchange,
        json.dumps(dataclasses.asdict(signed), separators=(",", ":")),
    )


def restore(stored: str) -> SignedOrder:
    """The SDK's SignedOrder from its stored form (`SignedClobOrder.stored`)."""
    from polymarket import SignedOrder

    return SignedOrder(**json.loads(stored))


def _chain_id(client: SecureClient) -> int:
    from polymarket._internal.environment import get_environment_config

    return int(get_environment_config(client.environment).chain_id)


def _typed_data(o: SignedOrder, exchange: str, chain_id: int) -> dict[str, Any]:
    version = "3" if exchange == EXCHANGE_V3 else "2"
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": n, "type": t} for n, t in _ORDER_FIELDS],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": version,
            "chainId": chain_id,
            "verifyingContract": exchange,
        },
        "message": {
            "salt": o.salt,
            "maker": o.maker,
            "signer": o.signer,
            "tokenId": int(o.token_id),
            "makerAmount": o.maker_amount,
            "takerAmount": o.taker_amount,
            "side": 0 if o.side == "BUY" else 1,
            "signatureType": o.signature_type,
            "timestamp": o.timestamp,
            "metadata": o.metadata,
            "builder": o.builder,
        },
    }


def order_id(o: SignedOrder, exchange: str, *, chain_id: int = 137) -> str:
    """The order's id: the EIP-712 digest of the plain Order struct under `exchange` (REFERENCE.md §0b.2)."""
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    m = encode_typed_data(full_message=_typed_data(o, exchange, chain_id))
    return "0x" + keccak(b"\x19" + m.version + m.header + m.body).hex()


def exchange_of(o: SignedOrder, *, neg_risk: bool, chain_id: int = 137) -> str:
    """The exchange `o` is signed for (module docstring); raises VenueRejected when no candidate verifies."""
    if int(o.token_id) & _V2_POSITION_MASK == 0:
        return EXCHANGE_V3
    preferred, other = (NEG_RISK_EXCHANGE_V2, EXCHANGE_V2) if neg_risk else (EXCHANGE_V2, NEG_RISK_EXCHANGE_V2)
    if o.signature_type == 3:
        return preferred
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    for exchange in (preferred, other):
        message = encode_typed_data(full_message=_typed_data(o, exchange, chain_id))
        try:
            recovered = Account.recover_message(message, signature=bytes.fromhex(o.signature.removeprefix("0x")))
        except Exception:  # a malformed signature verifies under no exchange
            continue
        if str(recovered).lower() == str(o.signer).lower():
            return exchange
    raise VenueRejected("INVALID_ORDER_ERROR", "the SDK's signature verifies under no exchange; not sent")
