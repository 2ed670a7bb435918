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


def order_hash_and_signer(order: dict[str, Any], exchange: str, chain_id: int = 137) -> tuple[str, str | None]:
    """The EIP-712 hash of a posted V2 order and the address its signature recovers to (None for POLY_1271)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data
    from py_clob_client_v2.order_utils.model.ctf_exchange_v2_typed_data import (
        CTF_EXCHANGE_V2_ORDER_STRUCT,
        EIP712_DOMAIN,
    )

    message = {
        "salt": int(order["salt"]),
        "maker": order["maker"],
        "signer": order["signer"],
        "tokenId": int(order["tokenId"]),
        "makerAmount": int(order["makerAmount"]),
        "takerAmount": int(order["takerAmount"]),
        "side": 0 if order["side"] == "BUY" else 1,
        "signatureType": int(order["signatureType"]),
        "timestamp": int(order["timestamp"]),
        "metadata": bytes.fromhex(order["metadata"][2:]),
        "builder": bytes.fromhex(order["builder"][2:]),
    }
    typed = {
        "primaryType": "Order",
        "types": {"EIP712Domain": EIP712_DOMAIN, "Order": CTF_EXCHANGE_V2_ORDER_STRUCT},
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": exchange,
        },
        "message": message,
    }
    encoded = encode_typed_data(full_message=typed)
    from eth_utils import keccak

    digest = keccak(b"\x19" + encoded.version + encoded.header + encoded.body)
    signature = order["signature"]
    if message["signatureType"] == 3:
        return "0x" + digest.hex(), None
    recovered = Account._recover_hash(digest, signature=bytes.fromhex(signature[2:]))
    return "0x" + digest.hex(), recovered


class ClobExchange:
    """See the module docstring. A test sets books (`set_book`), balance and allowance, and reads `orders`, `trades`."""

    def __init__(self, *, chain_id: int = 137) -> None:
        self.chain_id = chain_id
        self.books: dict[str, FakeBook] = {}
        self.version = 2
        self.geoblock: dict[str, Any] = {"blocked": False, "ip": "127.0.0.1", "country": "IE", "region": "L"}
        self.balance = 10_000 * 10**6  # pUSD micro-units
        self.allowance = 10**15
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
        from eth_account import Account
        from eth_utils import keccak
        from poly_eip712_structs import make_domain
        from py_clob_client_v2.signing.model import ClobAuth

        address = headers.get("POLY_ADDRESS", "")
        message = ClobAuth(
            address=address,
            timestamp=headers.get("POLY_TIMESTAMP", ""),
            nonce=int(headers.get("POLY_NONCE", "0")),
            message="This message attests that I control the given wallet",
        )
        domain = make_domain(name="ClobAuthDomain", version="1", chainId=self.chain_id)
        digest = keccak(message.signable_bytes(domain))
        try:
            signer = Account._recover_hash(digest, signature=bytes.fromhex(headers.get("POLY_SIGNATURE", "")[2:]))
        except Exception:
            return None
        return address if signer.lower() == address.lower() else None

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
        exchange = NEG_RISK_EXCHANGE_V2 if book.neg_risk else CTF_EXCHANGE_V2
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
            return 400, {"error": "order couldn't be fully filled. FOK orders are fully filled or killed."}
        if order_type == "FAK" and filled == 0:
            return 400, {"error": "no orders found to match with FAK order. FAK orders are partially filled or killed"}
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
