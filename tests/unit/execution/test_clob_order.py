"""CLOB order building without a network: amounts, deterministic salt and hash, signatures, credentials."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from copytrader.errors import CredentialsError, VenueRejected
from copytrader.execution.clob_order import build_signed_order, order_amounts, order_salt, wanted_shares
from copytrader.execution.credentials import ApiCredentials, SignatureType, VenueCredentials, parse_credentials
from copytrader.model import OrderType, Side
from tests.support import builders as b

D = Decimal
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
CTF_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_V2 = "0xe2222d279d744050d28e00520010520000310F59"


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


def creds(kind=SignatureType.EOA):
    key = Account.create()
    funder = None if kind is SignatureType.EOA else Account.create().address
    hex_key = key.key.hex()
    return VenueCredentials(
        hex_key if hex_key.startswith("0x") else f"0x{hex_key}", kind, funder, ApiCredentials("k", "c2VjcmV0", "p")
    ), key.address


def recover(body_order, exchange):
    from py_clob_client_v2.order_utils.model.ctf_exchange_v2_typed_data import (
        CTF_EXCHANGE_V2_ORDER_STRUCT,
        EIP712_DOMAIN,
    )

    message = {
        **{k: int(body_order[k]) for k in ("salt", "tokenId", "makerAmount", "takerAmount", "signatureType")},
        "timestamp": int(body_order["timestamp"]),
        "maker": body_order["maker"],
        "signer": body_order["signer"],
        "side": 0 if body_order["side"] == "BUY" else 1,
        "metadata": bytes(32),
        "builder": bytes(32),
    }
    typed = {
        "primaryType": "Order",
        "types": {"EIP712Domain": EIP712_DOMAIN, "Order": CTF_EXCHANGE_V2_ORDER_STRUCT},
        "domain": {"name": "Polymarket CTF Exchange", "version": "2", "chainId": 137, "verifyingContract": exchange},
        "message": message,
    }
    return Account.recover_message(encode_typed_data(full_message=typed), signature=body_order["signature"])


@pytest.mark.parametrize(
    ("side", "kind", "shares", "price", "tick"),
    [
        (Side.BUY, OrderType.FOK, "15.37", "0.52", "0.01"),
        (Side.SELL, OrderType.FAK, "15.37", "0.52", "0.01"),
        (Side.BUY, OrderType.GTC, "7.5", "0.333", "0.001"),
        (Side.SELL, OrderType.GTD, "100", "0.9999", "0.0001"),
        (Side.BUY, OrderType.FAK, "12.34", "0.4", "0.1"),
    ],
)
def test_amounts_match_the_sdk_rounding(side, kind, shares, price, tick):
    from py_clob_client_v2.order_builder.builder import ROUNDING_CONFIG, OrderBuilder

    o = order(side=side, order_type=kind, shares=D(shares), limit_price=D(price), tick_size=D(tick))
    config = ROUNDING_CONFIG[tick]
    sdk = OrderBuilder(signer=None)
    if kind in (OrderType.FOK, OrderType.FAK):
        amount = float(D(shares) * D(price)) if side is Side.BUY else float(shares)
        _, maker, taker = sdk.get_market_order_amounts(side.value, amount, float(price), config)
    else:
        _, maker, taker = sdk.get_order_amounts(side.value, float(shares), float(price), config)
    assert order_amounts(o) == (maker, taker)


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


def test_salt_is_a_json_safe_function_of_the_idempotency_key():
    assert order_salt("a") == order_salt("a") != order_salt("b")
    assert all(0 <= order_salt(str(i)) < 2**53 for i in range(200))


@pytest.mark.parametrize("kind", list(SignatureType))
@pytest.mark.parametrize("neg_risk", [False, True])
def test_the_signed_order_is_deterministic_and_signed_for_the_right_exchange(kind, neg_risk):
    credentials, address = creds(kind)
    o = order(neg_risk=neg_risk)
    one = build_signed_order(o, credentials, signed_at=b.T0)
    two = build_signed_order(o, credentials, signed_at=b.T0)
    later = build_signed_order(o, credentials, signed_at=b.T0 + timedelta(milliseconds=1))
    assert one == two and one.order_hash != later.order_hash
    import json

    sent = json.loads(one.body)
    body = sent["order"]
    assert body["salt"] == order_salt("copy-key-1") and body["timestamp"] == str(int(b.T0.timestamp() * 1000))
    assert body["signatureType"] == int(kind) and body["side"] == "BUY" and body["expiration"] == "0"
    assert body["maker"] == (credentials.funder or address)
    assert body["signer"] == (credentials.funder if kind is SignatureType.POLY_1271 else address)
    assert (sent["owner"], sent["orderType"]) == ("k", "FOK")
    exchange = NEG_RISK_V2 if neg_risk else CTF_V2
    if kind is SignatureType.POLY_1271:
        # ERC-1271 wrapping: inner ECDSA signature (65 bytes) + app domain separator + contents hash + type
        from eth_abi import encode
        from eth_utils import keccak
        from py_clob_client_v2.order_utils.exchange_order_builder_v2 import (
            DEPOSIT_WALLET_NAME_HASH,
            DEPOSIT_WALLET_VERSION_HASH,
            DOMAIN_TYPE_HASH,
            SOLADY_TYPE_HASH,
        )

        raw = bytes.fromhex(body["signature"][2:])
        inner, separator, contents = raw[:65], raw[65:97], raw[97:129]
        expected_separator = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "uint256", "address"],
                [DOMAIN_TYPE_HASH, keccak(text="Polymarket CTF Exchange"), keccak(text="2"), 137, exchange],
            )
        )
        assert separator == expected_separator
        struct = keccak(
            encode(
                ["bytes32", "bytes32", "bytes32", "bytes32", "uint256", "address", "bytes32"],
                [
                    SOLADY_TYPE_HASH,
                    contents,
                    DEPOSIT_WALLET_NAME_HASH,
                    DEPOSIT_WALLET_VERSION_HASH,
                    137,
                    body["signer"],
                    bytes(32),
                ],
            )
        )
        assert Account._recover_hash(keccak(b"\x19\x01" + separator + struct), signature=inner) == address
    else:
        assert recover(body, exchange) == address
        assert recover(body, CTF_V2 if neg_risk else NEG_RISK_V2) != address  # the other exchange: invalid


def test_gtd_orders_expire_after_the_configured_lifetime():
    credentials, _ = creds()
    import json

    body = json.loads(
        build_signed_order(order(order_type=OrderType.GTD), credentials, signed_at=b.T0, gtd_lifetime_s=90).body
    )
    assert body["order"]["expiration"] == str(int(b.T0.timestamp()) + 90) and body["orderType"] == "GTD"


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


def test_a_whole_number_of_a_million_shares_is_read_as_shares_not_micro_units():
    from copytrader.execution.clob_venue import _shares

    assert [_shares(v) for v in ("1000000", "2500000", "25.0000", "10", 7, None)] == [
        D(1000000), D(2500000), D("25.0000"), D(10), D(7), D(0)
    ]  # fmt: skip
