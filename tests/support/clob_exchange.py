"""The fake CLOB's exchange, without HTTP: its books, API keys, orders and trades, and the rules it applies as
Polymarket documents them (REFERENCE.md section f). `tests.support.fake_clob.FakeClob` serves it over HTTP.

Authentication: L1 (the ClobAuth EIP-712 signature must recover to POLY_ADDRESS) issues or derives API keys; L2
checks the HMAC-SHA256 of timestamp + method + path + body with the key's secret. `post_order` checks the order's
EIP-712 signature against the right exchange (the Neg Risk exchange for a neg-risk token) and that it recovers to
`signer` (types 0-2; a POLY_1271 signature is checked on chain by the deposit wallet, so only its shape is checked
here), the tick, the market minimum, the balance, a duplicate order hash; then matches against the book: FOK all
or nothing, FAK what is there, GTC/GTD rest the remainder (`live`). Market orders (FOK/FAK): BUY makerAmount is
pUSD, SELL shares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MICRO = Decimal(10) ** 6
CTF_EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
EXCHANGE_V3 = "0xe3333700cA9d93003F00f0F71f8515005F6c00Aa"
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."  # the SDK's exact texts
FAK_KILLED = "no orders found to match with FAK order. FAK orders are partially filled or killed if no match is found."


@dataclass
class Level:
    price: Decimal
    size: Decimal


@dataclass
class FakeBook:
    asks: list[Level] = field(default_factory=list)  # kept best (lowest) first
    bids: list[Level] = field(default_factory=list)  # kept best (highest) first
    tick: Decimal = Decimal("0.01")
    min_size: Decimal = Decimal(5)
    neg_risk: bool = False
    market: str = "0x" + "ab" * 32


def exchange_for(token: str, neg_risk: bool) -> str:
    """The exchange an order for `token` is signed for: ExchangeV3 for a V2 position id (reserved bits 40-103 all
    zero), else the neg-risk or the standard V2 exchange (REFERENCE.md §0b.2, §0b.3)."""
    if int(token) & (((1 << 64) - 1) << 40) == 0:
        return EXCHANGE_V3
    return NEG_RISK_EXCHANGE_V2 if neg_risk else CTF_EXCHANGE_V2


# The exchange's EIP-712 Order struct, written here from ExchangeV3's source (REFERENCE §0b.2) independently of
# `copytrader.execution.clob_order`, so the tests check the production hash against an oracle of their own.
ORDER_FIELDS = (
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


def order_hash_and_signer(order: dict[str, Any], exchange: str, chain_id: int = 137) -> tuple[str, str | None]:
    """The EIP-712 hash of a posted order (the wire body's `order`) and the address its signature recovers to (None
    for a deposit wallet, type 3, whose ERC-7739 wrapped signature the wallet contract checks on chain)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from eth_utils.crypto import keccak

    typed = {
        "primaryType": "Order",
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": n, "type": t} for n, t in ORDER_FIELDS],
        },
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "3" if exchange == EXCHANGE_V3 else "2",
            "chainId": chain_id,
            "verifyingContract": exchange,
        },
        "message": {
            "salt": int(order["salt"]),
            "maker": order["maker"],
            "signer": order["signer"],
            "tokenId": int(order["tokenId"]),
            "makerAmount": int(order["makerAmount"]),
            "takerAmount": int(order["takerAmount"]),
            "side": 0 if order["side"] == "BUY" else 1,
            "signatureType": int(order["signatureType"]),
            "timestamp": int(order["timestamp"]),
            "metadata": order["metadata"],
            "builder": order["builder"],
        },
    }
    encoded = encode_typed_data(full_message=typed)
    digest = "0x" + keccak(b"\x19" + encoded.version + encoded.header + encoded.body).hex()
    if int(order["signatureType"]) == 3:
        return digest, None
    try:
        recovered = Account.recover_message(encoded, signature=bytes.fromhex(order["signature"][2:]))
    except Exception:
        return digest, ""
    return digest, str(recovered)


class ClobExchange:
    """See the module docstring. A test sets books (`set_book`), balance and allowance, and reads `orders`, `trades`."""

    def __init__(self, *, chain_id: int = 137) -> None:
        self.chain_id = chain_id
        self.books: dict[str, FakeBook] = {}
        self.version = 2
        self.geoblock: dict[str, Any] = {"blocked": False, "ip": "127.0.0.1", "country": "IE", "region": "L"}
        self.balance = 10_000 * 10**6  # pUSD micro-units
        self.allowance = 10**15
        self.fee_rate = Decimal("0.05")  # the markets' taker fee rate (clob-markets `fd.r`)
        self.deployed = True  # what the relayer's GET /deployed answers for a proxy, Safe or deposit wallet
        self.l1_refused = False  # answer every L1 call 401 (a key the venue will not authenticate)
        self.orders: dict[str, dict[str, Any]] = {}
        self.trades: list[dict[str, Any]] = []
        self.api_keys: dict[str, tuple[str, str, str]] = {}  # address -> (key, secret, passphrase)
        self.revoked: set[str] = set()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ set-up helpers
    def set_book(
        self,
        token: str,
        *,
        asks: list[tuple[str, str]] = (),  # type: ignore[assignment]
        bids: list[tuple[str, str]] = (),  # type: ignore[assignment]
        tick: str = "0.01",
        min_size: str = "5",
        neg_risk: bool = False,
    ) -> None:
        self.books[token] = FakeBook(
            asks=sorted((Level(Decimal(p), Decimal(s)) for p, s in asks), key=lambda lv: lv.price),
            bids=sorted((Level(Decimal(p), Decimal(s)) for p, s in bids), key=lambda lv: -lv.price),
            tick=Decimal(tick),
            min_size=Decimal(min_size),
            neg_risk=neg_risk,
        )

    def issue_api_key(self, address: str) -> tuple[str, str, str]:
        creds = (
            f"key-{secrets.token_hex(8)}",
            base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            secrets.token_hex(16),
        )
        self.api_keys[address.lower()] = creds
        return creds

    # ------------------------------------------------------------------ auth
    def authenticate_l1(self, headers: Any) -> str | None:
        """The address a ClobAuth EIP-712 signature (REFERENCE.md §0b.2) recovers to, when it is POLY_ADDRESS."""
        from eth_account import Account
        from eth_account.messages import encode_typed_data

        address = headers.get("POLY_ADDRESS", "")
        typed = {
            "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": self.chain_id},
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                ],
                "ClobAuth": [
                    {"name": "address", "type": "address"},
                    {"name": "timestamp", "type": "string"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "message", "type": "string"},
                ],
            },
            "primaryType": "ClobAuth",
            "message": {
                "address": address,
                "timestamp": headers.get("POLY_TIMESTAMP", ""),
                "nonce": int(headers.get("POLY_NONCE", "0")),
                "message": "This message attests that I control the given wallet",
            },
        }
        try:
            signer = Account.recover_message(
                encode_typed_data(full_message=typed), signature=bytes.fromhex(headers.get("POLY_SIGNATURE", "")[2:])
            )
        except Exception:
            return None
        return address if str(signer).lower() == address.lower() else None

    def authenticate_l2(self, headers: Any, method: str, path: str, body: bytes) -> str | None:
        address = headers.get("POLY_ADDRESS", "").lower()
        creds = self.api_keys.get(address)
        if creds is None or creds[0] in self.revoked:
            return None
        key, secret, passphrase = creds
        if headers.get("POLY_API_KEY") != key or headers.get("POLY_PASSPHRASE") != passphrase:
            return None
        message = headers.get("POLY_TIMESTAMP", "") + method + path + body.decode()
        expected = base64.urlsafe_b64encode(
            hmac.new(base64.urlsafe_b64decode(secret), message.encode(), hashlib.sha256).digest()
        ).decode()
        return address if hmac.compare_digest(expected, headers.get("POLY_SIGNATURE", "")) else None

    # ------------------------------------------------------------------ matching
    def post_order(self, address: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        order = payload["order"]
        order_type = payload.get("orderType", "GTC")
        token = str(order["tokenId"])
        book = self.books.get(token)
        if book is None:
            return 400, {"error": "MARKET_NOT_READY: no orderbook for this token"}
        exchange = exchange_for(token, book.neg_risk)
        order_id, recovered = order_hash_and_signer(order, exchange, self.chain_id)
        if int(order["signatureType"]) != 3 and (recovered or "").lower() != str(order["signer"]).lower():
            return 400, {"error": "invalid signature"}
        if int(order["signatureType"]) == 0 and str(order["maker"]).lower() != str(order["signer"]).lower():
            return 400, {"error": "invalid signature: EOA maker must be the signer"}
        if order_id in self.orders:
            return 400, {"error": "INVALID_ORDER_DUPLICATED: order already exists"}
        side = order["side"]
        maker, taker = Decimal(order["makerAmount"]) / MICRO, Decimal(order["takerAmount"]) / MICRO
        market = order_type in ("FOK", "FAK")
        price = (maker / taker) if side == "BUY" else (taker / maker)
        shares_asked = taker if side == "BUY" else maker
        if not market and price % book.tick != 0:
            return 400, {"error": f"INVALID_ORDER_MIN_TICK_SIZE: price {price} breaks tick {book.tick}"}
        if shares_asked < book.min_size:
            return 400, {
                "error": f"INVALID_ORDER_MIN_SIZE: Size ({shares_asked}) lower than the minimum: {book.min_size}"
            }
        cost_cap = maker if side == "BUY" else Decimal(0)
        if side == "BUY" and cost_cap * MICRO > min(self.balance, self.allowance):
            return 400, {"error": "INVALID_ORDER_NOT_ENOUGH_BALANCE: not enough balance / allowance"}
        fills = self._match(book, side, price, maker if (market and side == "BUY") else None, shares_asked)
        filled = sum((s for _, s in fills), Decimal(0))
        spent = sum((p * s for p, s in fills), Decimal(0))
        complete = filled >= shares_asked
        if order_type == "FOK" and not complete:
            return 200, self.refusal(FOK_KILLED)
        if order_type == "FAK" and filled == 0:
            return 200, self.refusal(FAK_KILLED)
        self._consume(book, side, fills)
        trade_ids = [self._trade(order_id, token, side, p, s, book) for p, s in fills]
        if side == "BUY":
            self.balance -= int(spent * MICRO)
        if complete:
            state, wire = "MATCHED", "matched"
        elif market:  # FAK: what matched stays matched, the rest is killed
            state, wire = "CANCELED", "matched"
        else:  # GTC/GTD: the rest rests
            state, wire = "LIVE", "live"
        self.orders[order_id] = {
            "id": order_id,
            "status": state,
            "owner": self.api_keys[address][0],
            "maker_address": order["maker"],
            "market": book.market,
            "asset_id": token,
            "side": side,
            "original_size": str(shares_asked),
            "size_matched": str(filled),
            "price": str(price.quantize(book.tick)) if not market else str(price),
            "outcome": "Yes",
            "expiration": order.get("expiration", "0"),
            "order_type": order_type,
            "associate_trades": trade_ids,
            "created_at": int(time.time()),
        }
        making, taking = (spent, filled) if side == "BUY" else (filled, spent)
        return 200, {
            "success": True,
            "errorMsg": "",
            "orderID": order_id,
            "status": wire,
            "makingAmount": str(making),
            "takingAmount": str(taking),
            "transactionsHashes": ["0x" + secrets.token_hex(32)] if fills else [],
            "tradeIDs": trade_ids,
        }

    @staticmethod
    def refusal(message: str, status: str = "") -> dict[str, Any]:
        """A 200 answer with `success: false` (the SDK's RejectedOrder; its code comes from `errorMsg`)."""
        return {
            "success": False,
            "errorMsg": message,
            "orderID": "",
            "status": status,
            "makingAmount": "",
            "takingAmount": "",
        }

    def cancel(self, order_id: str) -> dict[str, Any]:
        """DELETE /order: a LIVE order is cancelled (what matched stays matched); anything else is not."""
        with self._lock:
            found = self.orders.get(order_id)
            if found is None:
                return {"canceled": [], "not_canceled": {order_id: "order not found"}}
            if found["status"] != "LIVE":
                return {"canceled": [], "not_canceled": {order_id: f"order is {found['status']}"}}
            found["status"] = "CANCELED"
            return {"canceled": [order_id], "not_canceled": {}}

    def markets_by_token(self, token: str) -> dict[str, Any] | None:
        book = self.books.get(token)
        return None if book is None else {"condition_id": book.market, "primary_token_id": token}

    def clob_market(self, condition_id: str) -> dict[str, Any] | None:
        """GET /clob-markets/{cid} in the fields the SDK reads: t (tokens), mts (tick), nr (neg risk), fd (fees)."""
        tokens = {t: b for t, b in self.books.items() if b.market.lower() == condition_id.lower()}
        if not tokens:
            return None
        book = next(iter(tokens.values()))
        return {
            "t": [{"t": t, "o": "Yes"} for t in tokens],
            "mts": str(book.tick),
            "nr": book.neg_risk,
            "fd": {"r": str(self.fee_rate), "e": 1},
        }

    @staticmethod
    def _match(
        book: FakeBook, side: str, limit: Decimal, budget: Decimal | None, shares: Decimal
    ) -> list[tuple[Decimal, Decimal]]:
        levels = book.asks if side == "BUY" else book.bids
        fills: list[tuple[Decimal, Decimal]] = []
        left_cash, left_shares = budget, shares
        for level in levels:
            if (side == "BUY" and level.price > limit) or (side == "SELL" and level.price < limit):
                break
            if left_cash is not None:
                take = min(level.size, (left_cash / level.price).quantize(Decimal("0.01"), rounding="ROUND_DOWN"))
                left_cash -= take * level.price
            else:
                take = min(level.size, left_shares)
                left_shares -= take
            if take > 0:
                fills.append((level.price, take))
            if (left_cash is not None and left_cash < level.price * Decimal("0.01")) or (
                left_cash is None and left_shares <= 0
            ):
                break
        return fills

    @staticmethod
    def _consume(book: FakeBook, side: str, fills: list[tuple[Decimal, Decimal]]) -> None:
        levels = book.asks if side == "BUY" else book.bids
        for price, size in fills:
            level = next(lv for lv in levels if lv.price == price)
            level.size -= size
        levels[:] = [lv for lv in levels if lv.size > 0]

    def _trade(self, order_id: str, token: str, side: str, price: Decimal, size: Decimal, book: FakeBook) -> str:
        trade_id = f"trade-{next(self._ids):04d}"
        self.trades.append(
            {
                "id": trade_id,
                "taker_order_id": order_id,
                "market": book.market,
                "asset_id": token,
                "side": side,
                "size": str(size),
                "fee_rate_bps": "0",
                "price": str(price),
                "status": "MATCHED",
                "match_time": str(int(time.time())),
                "last_update": str(int(time.time())),
                "outcome": "Yes",
                "bucket_index": 0,
                "owner": "",
                "maker_address": "0x" + "70" * 20,
                "transaction_hash": "0x" + secrets.token_hex(32),
                "maker_orders": [
                    {
                        "asset_id": token,
                        "fee_rate_bps": "0",
                        "maker_address": "0x" + "70" * 20,
                        "matched_amount": str(size),
                        "order_id": "0x" + secrets.token_hex(32),
                        "outcome": "Yes",
                        "owner": "",
                        "price": str(price),
                        "side": "SELL" if side == "BUY" else "BUY",
                    }
                ],
                "trader_side": "TAKER",
            }
        )
        return trade_id

    @staticmethod
    def book_payload(token: str, book: FakeBook) -> dict[str, Any]:
        return {
            "market": book.market,
            "asset_id": token,
            "timestamp": str(int(time.time() * 1000)),
            "hash": "0x" + "00" * 20,
            "bids": [{"price": str(lv.price), "size": str(lv.size)} for lv in reversed(book.bids)],
            "asks": [{"price": str(lv.price), "size": str(lv.size)} for lv in reversed(book.asks)],
            "min_order_size": str(book.min_size),
            "tick_size": str(book.tick),
            "neg_risk": book.neg_risk,
        }
