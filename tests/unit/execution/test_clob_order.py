"""CLOB orders without a network: amounts (against the SDK's rounding), the order id (against the REFERENCE.md §0b.2
derivation and signature recovery), the exchange an order is signed for, the stored form, credentials."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from copytrader.errors import CredentialsError, VenueRejected
from copytrader.execution.clob_order import (
    EXCHANGE_V2,
    EXCHANGE_V3,
    NEG_RISK_EXCHANGE_V2,
    SignedClobOrder,
    exchange_of,
    order_amounts,
    order_id,
    restore,
    wanted_shares,
)
from copytrader.execution.credentials import parse_credentials
from copytrader.model import OrderType, Side
from tests.support import builders as b
from tests.support.clob_exchange import ORDER_FIELDS

D = Decimal
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
V2_POSITION = str((0x01 << 248) | (0xAB << 120) | (2 << 104) | 1)  # module 1, arity 2, reserved bits zero, outcome 1


def order(**overrides):
    """A FOK BUY of 15.37 shares of TOKEN up to 0.52, no fee, no worst-case cap (max_cost 0)."""
    fields = {
        "token_id": TOKEN,
        "order_type": OrderType.FOK,
        "shares": D("15.37"),
        "limit_price": D("0.52"),
        "max_cost": D(0),
        "taker_fee_rate": D(0),
    }
    return b.sized_order("copy-key-1", **{**fields, **overrides})


def signed(exchange: str, *, token: str = TOKEN, signature_type: int = 0):
    """A SignedOrder as the SDK makes it, signed here with a throwaway key for `exchange` (plain EIP-712)."""
    from polymarket import SignedOrder

    account = Account.create()
    zero = "0x" + "00" * 32
    unsigned = SignedOrder(
        builder=zero,
        expiration=0,
        maker=account.address,
        maker_amount=7_800_000,
        metadata=zero,
        order_type="FOK",
        salt=4_503_599_627_370_495,
        side="BUY",
        signature="0x",
        signature_type=signature_type,
        signer=account.address,
        taker_amount=15_000_000,
        timestamp=1_765_000_000_123,
        token_id=token,
    )
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": n, "type": t} for n, t in ORDER_FIELDS],
        },
        "primaryType": "Order",
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "3" if exchange == EXCHANGE_V3 else "2",
            "chainId": 137,
            "verifyingContract": exchange,
        },
        "message": {
            "salt": unsigned.salt,
            "maker": unsigned.maker,
            "signer": unsigned.signer,
            "tokenId": int(token),
            "makerAmount": unsigned.maker_amount,
            "takerAmount": unsigned.taker_amount,
            "side": 0,
            "signatureType": signature_type,
            "timestamp": unsigned.timestamp,
            "metadata": zero,
            "builder": zero,
        },
    }
    message = encode_typed_data(full_message=typed)
    signature = account.sign_message(message).signature.hex()
    signature = signature if signature.startswith("0x") else f"0x{signature}"
    return dataclasses.replace(unsigned, signature=signature), message


@pytest.mark.parametrize(
    ("side", "kind", "shares", "price", "tick"),
    [
        (Side.BUY, OrderType.FOK, "15.37", "0.52", "0.01"),
        (Side.SELL, OrderType.FAK, "15.37", "0.52", "0.01"),
        (Side.BUY, OrderType.GTC, "7.5", "0.333", "0.001"),
        (Side.SELL, OrderType.GTD, "100", "0.9999", "0.0001"),
        (Side.BUY, OrderType.FAK, "12.34", "0.4", "0.1"),
        (Side.BUY, OrderType.FOK, "33.33", "0.3725", "0.0025"),
    ],
)
def test_amounts_match_the_sdk_rounding(side, kind, shares, price, tick):
    from polymarket._internal.actions.orders.limit import _compute_limit_order_amounts
    from polymarket._internal.actions.orders.market import _compute_market_order_amounts

    o = order(side=side, order_type=kind, shares=D(shares), limit_price=D(price), tick_size=D(tick))
    if kind in (OrderType.FOK, OrderType.FAK):  # a market BUY is given its pUSD, a SELL its shares
        amount = D(order_amounts(o)[0]) / 10**6 if side is Side.BUY else D(shares)
        sdk = _compute_market_order_amounts(amount=amount, price=D(price), side=side.value, tick_size=D(tick))
    else:
        sdk = _compute_limit_order_amounts(price=D(price), size=D(shares), side=side.value, tick_size=D(tick))
    assert order_amounts(o) == sdk


def test_hand_derived_amounts_of_a_fok_buy():
    # 15.37 x 0.52 = 7.9924 pUSD -> 7.99 (cents); 7.99 / 0.52 = 15.365384.. -> 15.3653 shares (4 decimals at tick 0.01)
    assert order_amounts(order()) == (7_990_000, 15_365_300)


def test_market_buy_spends_at_most_what_the_reservation_covers():
    # 15.37 x 0.52 = 7.9924 pUSD; with a 5% fee the worst case (price at the tick) costs 1.0495 per pUSD
    o = order(shares=D("15.37"), taker_fee_rate=D("0.05"), max_cost=D("7.9924") + D("0.19184"))
    maker, taker = order_amounts(o)
    assert maker == 7_790_000  # floor_2dp(8.18424 / 1.0495) = 7.79
    assert D(maker) / 10**6 * (1 + D("0.05") * D("0.99")) <= o.max_cost
    assert wanted_shares(o) == D(taker) / 10**6 == D("14.9807")  # 7.79 / 0.52 floored to 4 decimals (tick 0.01)


def test_orders_off_the_tick_or_below_the_minimum_are_not_built():
    with pytest.raises(VenueRejected) as tick:
        order_amounts(order(limit_price=D("0.525")))
    with pytest.raises(VenueRejected) as size:
        order_amounts(order(shares=D("4.999"), min_order_size=D(5)))
    with pytest.raises(VenueRejected) as odd:
        order_amounts(order(tick_size=D("0.02"), limit_price=D("0.52")))
    assert (tick.value.code, size.value.code, odd.value.code) == (
        "INVALID_ORDER_MIN_TICK_SIZE",
        "INVALID_ORDER_MIN_SIZE",
        "INVALID_ORDER_MIN_TICK_SIZE",
    )


@pytest.mark.parametrize("exchange", [EXCHANGE_V2, NEG_RISK_EXCHANGE_V2])
def test_the_order_id_is_the_digest_the_signature_recovers_from(exchange):
    o, message = signed(exchange)
    digest = order_id(o, exchange)
    from eth_utils.crypto import keccak

    assert digest == "0x" + keccak(b"\x19" + message.version + message.header + message.body).hex()
    assert Account._recover_hash(bytes.fromhex(digest[2:]), signature=bytes.fromhex(o.signature[2:])) == o.signer
    other = NEG_RISK_EXCHANGE_V2 if exchange == EXCHANGE_V2 else EXCHANGE_V2
    assert order_id(o, other) != digest


@pytest.mark.parametrize("exchange", [EXCHANGE_V2, NEG_RISK_EXCHANGE_V2])
@pytest.mark.parametrize("believed_neg_risk", [False, True])
def test_the_exchange_is_the_one_the_signature_verifies_under_whatever_we_believed(exchange, believed_neg_risk):
    o, _ = signed(exchange)
    assert exchange_of(o, neg_risk=believed_neg_risk) == exchange


def test_a_v2_position_id_is_signed_for_exchange_v3_and_a_deposit_wallet_follows_our_market_data():
    v3, _ = signed(EXCHANGE_V3, token=V2_POSITION)
    assert exchange_of(v3, neg_risk=True) == EXCHANGE_V3
    wrapped, _ = signed(EXCHANGE_V2, signature_type=3)  # its real signature is wrapped: not recoverable here
    assert exchange_of(wrapped, neg_risk=True) == NEG_RISK_EXCHANGE_V2
    bogus = dataclasses.replace(wrapped, signature_type=0, signature="0x" + "11" * 65)
    with pytest.raises(VenueRejected):
        exchange_of(bogus, neg_risk=False)


def test_the_stored_form_restores_exactly_the_signed_order_and_is_never_shown():
    import json

    o, _ = signed(EXCHANGE_V2)
    stored = json.dumps(dataclasses.asdict(o))
    assert restore(stored) == o and order_id(restore(stored), EXCHANGE_V2) == order_id(o, EXCHANGE_V2)
    kept = SignedClobOrder(order_id(o, EXCHANGE_V2), o.maker_amount, o.taker_amount, EXCHANGE_V2, stored)
    assert o.signature not in f"{kept!r} {kept}"


def test_credentials_errors_name_fields_never_values():
    key = "0x" + "ab" * 32
    cases = [
        ('{"private_key": "0x1234"}', "private_key"),
        (f'{{"private_key": "{key}", "signature_type": "POLY_PROXY"}}', "funder"),
        (f'{{"private_key": "{key}", "signature_type": "WALLET"}}', "signature_type"),
        (f'{{"private_key": "{key}", "api_key": "k", "api_secret": "s3cr3t-value"}}', "api_passphrase"),
        ("not json " + key, "not JSON"),
    ]
    for raw, named in cases:
        with pytest.raises(CredentialsError) as caught:
            parse_credentials(raw)
        assert named in str(caught.value) and key not in str(caught.value) and "s3cr3t" not in str(caught.value)


def test_credentials_parse_every_signature_type_and_never_print_secrets():
    key = "ab" * 32
    funder = "0x" + "12" * 20
    for value, kind in (("EOA", 0), (1, 1), ("POLY_GNOSIS_SAFE", 2), ("deposit_wallet", 3), ("3", 3)):
        parsed = parse_credentials({"private_key": key, "signature_type": value, "funder": funder})
        assert parsed.signature_type == kind and parsed.private_key == "0x" + key
    full = parse_credentials(
        {"private_key": key, "api_key": "the-key", "api_secret": "the-secret", "api_passphrase": "the-pass"}
    )
    shown = f"{full!r} {full} {full.api!r}"
    assert key not in shown and "the-secret" not in shown and "the-pass" not in shown
    assert set(full.secrets()) >= {"0x" + key, key, "the-secret", "the-pass"}


def test_the_relayer_key_and_the_chain_endpoint_parse_and_are_never_printed():
    key = "cd" * 32
    address = "0x" + "34" * 20
    parsed = parse_credentials(
        {
            "private_key": key,
            "signature_type": "POLY_PROXY",
            "funder": "0x" + "12" * 20,
            "relayer_api_key": "relayer-s3cret",
            "relayer_api_key_address": address,
            "polygon_http_rpc_url": "https://polygon.example/v2/provider-s3cret",
        }
    )
    assert parsed.relayer is not None and (parsed.relayer.key, parsed.relayer.address) == ("relayer-s3cret", address)
    assert parsed.polygon_http_rpc_url == "https://polygon.example/v2/provider-s3cret"
    shown = f"{parsed!r} {parsed} {parsed.relayer!r}"
    assert "relayer-s3cret" not in shown and "provider-s3cret" not in shown and address in shown
    assert {"relayer-s3cret", "https://polygon.example/v2/provider-s3cret"} <= set(parsed.secrets())
    for bad, named in (
        ({"relayer_api_key": "k"}, "relayer_api_key_address"),
        ({"relayer_api_key_address": address}, "relayer_api_key"),
        ({"relayer_api_key": "k", "relayer_api_key_address": "0x12"}, "relayer_api_key_address"),
        ({"polygon_http_rpc_url": "wss://polygon.example/provider-s3cret"}, "polygon_http_rpc_url"),
    ):
        with pytest.raises(CredentialsError) as caught:
            parse_credentials({"private_key": key, **bad})
        assert named in str(caught.value) and "s3cret" not in str(caught.value)
