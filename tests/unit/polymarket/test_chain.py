"""`copytrader.polymarket.chain`: the V2 OrderFilled topic, decoding of 21 real taker legs, every reject,
and the subscription filters."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from copytrader.model import Side, trade_key
from copytrader.polymarket.chain import (
    CTF_EXCHANGE,
    DATA_TYPES,
    EXCHANGES,
    LEGACY_ORDER_FILLED_TOPIC,
    NEG_RISK_CTF_EXCHANGE,
    ORDER_FILLED_SIGNATURE,
    ORDER_FILLED_TOPIC,
    ChainReject,
    ChainRejectReason,
    DecodedFill,
    block_range_filter,
    decode_order_filled,
    pad32,
    subscription_filter,
    subscription_filters,
)
from tests.support.handbook import HANDBOOK, load_json

REAL_LEGS = "nautilus-polymarket-fixtures/newer_commits/chain_order_filled_taker_fees.json"
WHALE = "0x" + "ab" * 20
OTHER = "0x" + "cd" * 20
TOKEN = 71321045679252212594626385532706912750332728571942532289631379312455583992563
TX = "0x" + "11" * 32
BLOCK_HASH = "0x" + "22" * 32
ORDER_HASH = "0x" + "33" * 32


def log_of(
    *,
    side: int = 0,
    maker_amount: int = 5_000_000,
    taker_amount: int = 10_000_000,
    fee: int = 0,
    token: int = TOKEN,
    address: str | None = CTF_EXCHANGE,
    maker: str = WHALE,
    taker: str = CTF_EXCHANGE,
    **overrides: Any,
) -> dict[str, Any]:
    """A log object as `eth_subscribe("logs")` / `eth_getLogs` deliver it, amounts ABI-encoded."""
    data = abi_encode(DATA_TYPES, [side, token, maker_amount, taker_amount, fee, b"\x01" * 32, b"\x02" * 32])
    log = {
        "address": address,
        "topics": [ORDER_FILLED_TOPIC, ORDER_HASH, pad32(maker), pad32(taker)],
        "data": "0x" + data.hex(),
        "blockNumber": "0x4c4b40",
        "blockHash": BLOCK_HASH,
        "transactionHash": TX,
        "transactionIndex": "0x3",
        "logIndex": "0x1a",
        "removed": False,
    }
    log.update(overrides)
    return log


def decoded(log: object) -> DecodedFill:
    result = decode_order_filled(log)
    assert isinstance(result, DecodedFill), result
    return result


def rejected(log: object) -> ChainReject:
    result = decode_order_filled(log)
    assert isinstance(result, ChainReject), result
    return result


# ------------------------------------------------------------------------------------------------- topics


def _documented_topics() -> list[str]:
    """Every `topic0 = 0x...` the handbook's reference states for the exchanges' events (section g)."""
    reference = HANDBOOK / "polymarket" / "REFERENCE.md"
    if not reference.exists():
        pytest.skip(f"handbook reference not found at {reference} (place ../shared beside the repo)")
    return re.findall(r"topic0 = (0x[0-9a-f]{64})", reference.read_text())


def test_topic0_of_each_signature_is_the_one_the_reference_documents() -> None:
    documented = _documented_topics()
    assert "0x" + keccak(text=ORDER_FILLED_SIGNATURE).hex() == ORDER_FILLED_TOPIC
    assert ORDER_FILLED_TOPIC in documented and LEGACY_ORDER_FILLED_TOPIC in documented
    assert ORDER_FILLED_TOPIC != LEGACY_ORDER_FILLED_TOPIC


def test_exchange_addresses_are_the_documented_v2_contracts() -> None:
    # REFERENCE.md section 0, compared case-insensitively (the constants are lower-case, as logs carry them)
    assert "0xE111180000d2663C0091e4f400237545B87B996B".lower() == CTF_EXCHANGE
    assert "0xe2222d279d744050d28e00520010520000310F59".lower() == NEG_RISK_CTF_EXCHANGE


# ---------------------------------------------------------------------------------------------- real legs


def real_leg_log(leg: dict[str, str]) -> dict[str, Any]:
    return log_of(
        side=0 if leg["side"] == "BUY" else 1,
        maker_amount=int(leg["maker_amount_filled"]),
        taker_amount=int(leg["taker_amount_filled"]),
        fee=int(leg["fee"]),
        address=NEG_RISK_CTF_EXCHANGE if leg["exchange"] == "neg_risk" else CTF_EXCHANGE,
    )


def test_the_21_real_taker_legs_decode_to_their_side_shares_price_and_fee() -> None:
    legs = load_json(REAL_LEGS)
    assert len(legs) == 21
    for leg in legs:
        fill = decoded(real_leg_log(leg))
        maker_amount, taker_amount = Decimal(leg["maker_amount_filled"]), Decimal(leg["taker_amount_filled"])
        shares, pusd = (taker_amount, maker_amount) if leg["side"] == "BUY" else (maker_amount, taker_amount)
        assert fill.side is Side(leg["side"])
        assert fill.shares == shares / 1_000_000 and fill.pusd == pusd / 1_000_000
        assert fill.fee == Decimal(leg["fee"]) / 1_000_000
        tick = Decimal(1).scaleb(Decimal(leg["price"]).as_tuple().exponent)  # type: ignore[arg-type]
        assert fill.price.quantize(tick) == Decimal(leg["price"]), leg
        assert fill.exchange == (NEG_RISK_CTF_EXCHANGE if leg["exchange"] == "neg_risk" else CTF_EXCHANGE)
        assert fill.is_taker_leg
        # the decoded shares and price reproduce the protocol fee C x rate x p x (1 - p) (REFERENCE.md section h)
        p, rate = Decimal(leg["price"]), Decimal(leg["fee_rate"])
        assert abs(fill.fee - fill.shares * rate * p * (1 - p)) <= Decimal("0.00001"), leg


def test_a_log_decodes_every_field() -> None:
    fill = decoded(log_of(maker=WHALE.upper().replace("0X", "0x"), taker=OTHER))
    assert fill.maker == WHALE and fill.taker == OTHER and not fill.is_taker_leg
    assert fill.order_hash == ORDER_HASH and fill.token_id == str(TOKEN)
    assert (fill.block_number, fill.block_hash, fill.tx_hash, fill.log_index) == (5_000_000, BLOCK_HASH, TX, 26)
    assert fill.side is Side.BUY and fill.shares == Decimal(10) and fill.pusd == Decimal(5)
    assert fill.price == Decimal("0.5") and fill.fee == 0 and not fill.removed
    assert fill.key == trade_key(TX, WHALE, str(TOKEN), "BUY")
    assert fill.log_id == (BLOCK_HASH, 26)


def test_sell_reads_shares_from_the_maker_amount() -> None:
    fill = decoded(log_of(side=1, maker_amount=7_570_000, taker_amount=4_920_500))
    assert fill.side is Side.SELL and fill.shares == Decimal("7.57") and fill.pusd == Decimal("4.9205")
    assert fill.price == Decimal("0.65")


def test_hex_fields_in_upper_case_are_accepted() -> None:
    log = log_of(
        address=NEG_RISK_CTF_EXCHANGE.upper().replace("0X", "0x"), transactionHash=TX.upper().replace("0X", "0x")
    )
    fill = decoded(log)
    assert fill.exchange == NEG_RISK_CTF_EXCHANGE and fill.tx_hash == TX


# ------------------------------------------------------------------------------------------------ rejects


def legacy_v1_log() -> dict[str, Any]:
    data = abi_encode(["uint256"] * 5, [0, TOKEN, 5_000_000, 10_000_000, 0])
    return log_of(
        address="0x4bfb41d5b3570defd03c39a9a4d8de6bd8b8982e",
        topics=[LEGACY_ORDER_FILLED_TOPIC, ORDER_HASH, pad32(WHALE), pad32(OTHER)],
        data="0x" + data.hex(),
    )


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        pytest.param(["not", "a", "log"], ChainRejectReason.MALFORMED_LOG, id="not-an-object"),
        pytest.param(legacy_v1_log(), ChainRejectReason.LEGACY_V1_EVENT, id="legacy-v1"),
        pytest.param(log_of(address="0x" + "99" * 20), ChainRejectReason.WRONG_ADDRESS, id="other-contract"),
        pytest.param(log_of(address=None), ChainRejectReason.WRONG_ADDRESS, id="no-address"),
        pytest.param(log_of(topics=["0x" + "44" * 32, ORDER_HASH]), ChainRejectReason.WRONG_TOPIC, id="other-event"),
        pytest.param(log_of(topics=[]), ChainRejectReason.MALFORMED_TOPICS, id="no-topics"),
        pytest.param(
            log_of(topics=[ORDER_FILLED_TOPIC, ORDER_HASH]), ChainRejectReason.MALFORMED_TOPICS, id="2-topics"
        ),
        pytest.param(
            log_of(topics=[ORDER_FILLED_TOPIC, ORDER_HASH, "0x" + "ff" * 32, pad32(OTHER)]),
            ChainRejectReason.MALFORMED_TOPICS,
            id="maker-not-an-address",
        ),
        pytest.param(
            log_of(topics=[ORDER_FILLED_TOPIC, "0x1234", pad32(WHALE), pad32(OTHER)]),
            ChainRejectReason.MALFORMED_TOPICS,
            id="short-topic",
        ),
        pytest.param(log_of(data="0x" + "00" * 64), ChainRejectReason.MALFORMED_DATA, id="short-data"),
        pytest.param(log_of(data="0xzz"), ChainRejectReason.MALFORMED_DATA, id="data-not-hex"),
        pytest.param(log_of(data=None), ChainRejectReason.MALFORMED_DATA, id="no-data"),
        pytest.param(
            log_of(data="0x" + (300).to_bytes(32, "big").hex() + "00" * 192),
            ChainRejectReason.MALFORMED_DATA,
            id="side-overflows-uint8",
        ),
        pytest.param(log_of(side=2), ChainRejectReason.UNKNOWN_SIDE, id="side-2"),
        pytest.param(log_of(taker_amount=0), ChainRejectReason.ZERO_AMOUNT, id="zero-shares"),
        pytest.param(log_of(maker_amount=0), ChainRejectReason.ZERO_AMOUNT, id="zero-pusd"),
        pytest.param(log_of(maker_amount=10_000_000), ChainRejectReason.PRICE_OUT_OF_RANGE, id="price-1"),
        pytest.param(log_of(maker_amount=10_000_001), ChainRejectReason.PRICE_OUT_OF_RANGE, id="price-above-1"),
        pytest.param(log_of(blockNumber=None), ChainRejectReason.MALFORMED_LOG, id="pending-log"),
        pytest.param(log_of(logIndex="26"), ChainRejectReason.MALFORMED_LOG, id="log-index-not-hex"),
        pytest.param(log_of(blockHash="0x12"), ChainRejectReason.MALFORMED_LOG, id="bad-block-hash"),
        pytest.param(log_of(transactionHash=None), ChainRejectReason.MALFORMED_LOG, id="no-tx-hash"),
        pytest.param(log_of(removed="no"), ChainRejectReason.MALFORMED_LOG, id="removed-not-bool"),
    ],
)
def test_unusable_logs_are_rejected_with_a_reason(log: object, reason: ChainRejectReason) -> None:
    result = rejected(log)
    assert result.reason is reason and result.detail and result.fill is None


def test_a_log_removed_by_a_reorg_is_rejected_with_its_fill() -> None:
    result = rejected(log_of(removed=True))
    assert result.reason is ChainRejectReason.REMOVED_BY_REORG
    assert result.fill is not None and result.fill.removed and result.fill.log_id == (BLOCK_HASH, 26)
    assert result.fill.key == decoded(log_of()).key


def test_a_log_without_the_removed_flag_is_live() -> None:
    log = log_of()
    del log["removed"]
    assert not decoded(log).removed


# ------------------------------------------------------------------------------------------------ filters


def test_pad32_left_pads_a_lower_cased_address() -> None:
    assert pad32("0x" + "AB" * 20) == "0x" + "00" * 12 + "ab" * 20
    with pytest.raises(ValueError, match="not a 0x address"):
        pad32("0x1234")


def test_the_filter_matches_both_exchanges_and_the_maker_topic() -> None:
    flt = subscription_filter([OTHER, WHALE.upper().replace("0X", "0x"), WHALE])
    assert flt == {"address": list(EXCHANGES), "topics": [ORDER_FILLED_TOPIC, None, [pad32(WHALE), pad32(OTHER)]]}


def test_no_wallets_never_becomes_a_match_everything_filter() -> None:
    with pytest.raises(ValueError, match="at least one wallet"):
        subscription_filter([])
    assert subscription_filters([]) == []


def test_filters_are_chunked_to_max_topics_wallets() -> None:
    wallets = {f"0x{n:040x}" for n in range(1, 1_202)}
    filters = subscription_filters(wallets)
    assert [len(f["topics"][2]) for f in filters] == [500, 500, 201]  # type: ignore[index]
    covered = [t for f in filters for t in f["topics"][2]]  # type: ignore[index]
    assert sorted(covered) == sorted(pad32(w) for w in wallets) and len(set(covered)) == len(wallets)
    assert [len(f["topics"][2]) for f in subscription_filters(wallets, max_topics=1_000)] == [1_000, 201]  # type: ignore[index]
    assert subscription_filters(list(wallets)) == filters  # order of the input does not matter
    with pytest.raises(ValueError):
        subscription_filters(wallets, max_topics=0)


def test_a_block_range_filter_adds_hex_bounds() -> None:
    flt = subscription_filter([WHALE])
    assert block_range_filter(flt, 10, 2_009) == {**flt, "fromBlock": "0xa", "toBlock": "0x7d9"}
    with pytest.raises(ValueError):
        block_range_filter(flt, 11, 10)
