"""Polygon `OrderFilled` logs of the V2 CTF exchanges, decoded into exact fills (pure: no I/O).

Why chain logs: they are the only public feed that names the wallet in both roles, is complete and is
final once mined (REFERENCE.md, "How a copy trader can observe another wallet's trades in real time").

The event (REFERENCE.md section g; addresses from section 0):

    OrderFilled(bytes32 indexed orderHash, address indexed maker, address indexed taker, uint8 side,
                uint256 tokenId, uint256 makerAmountFilled, uint256 takerAmountFilled, uint256 fee,
                bytes32 builder, bytes32 metadata)

One `OrderFilled` is emitted per order a match touches: one per maker order (`maker` = that order's
owner, `taker` = the taker's wallet), then one for the taker order with `taker` = the exchange itself.
So every log describes the order of its `maker` topic: a whale is the `maker` of each log about its own
orders whether it made or took the liquidity, and filtering topic 2 by the watched wallets captures both
roles. `side` is the side of the described order (0 BUY, 1 SELL). For a BUY the maker amount is the pUSD
paid and the taker amount the shares received; for a SELL the reverse. Both have 6 decimals, so shares
and pUSD are exact `Decimal`s and price = pUSD / shares. `fee` is pUSD charged to the taker.

Legacy V1 logs (before the 2026-04-28 cut-over) have another topic0 and layout; they are recognised and
rejected as `legacy_v1_event` rather than misread. A log whose `removed` flag is set was undone by a
reorg: it is rejected as `removed_by_reorg`, carrying its decoded fill so a caller can withdraw the leg.

Several legs of one wallet, token and side in one transaction are one trade (`copytrader.model.trade_key`);
`sum_legs` adds them exactly (shares and pUSD summed, price = total pUSD / total shares).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from eth_abi.abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak  # already loaded by eth_abi

from copytrader.model import Side, trade_key

CTF_EXCHANGE = "0xe111180000d2663c0091e4f400237545b87b996b"
NEG_RISK_CTF_EXCHANGE = "0xe2222d279d744050d28e00520010520000310f59"
EXCHANGES: tuple[str, str] = (CTF_EXCHANGE, NEG_RISK_CTF_EXCHANGE)


def event_topic(signature: str) -> str:
    """topic0 of an event: keccak-256 of its canonical signature, as 0x-prefixed lower-case hex."""
    return "0x" + keccak(text=signature).hex()


ORDER_FILLED_SIGNATURE = "OrderFilled(bytes32,address,address,uint8,uint256,uint256,uint256,uint256,bytes32,bytes32)"
ORDER_FILLED_TOPIC = event_topic(ORDER_FILLED_SIGNATURE)
LEGACY_ORDER_FILLED_SIGNATURE = "OrderFilled(bytes32,address,address,uint256,uint256,uint256,uint256,uint256)"
LEGACY_ORDER_FILLED_TOPIC = event_topic(LEGACY_ORDER_FILLED_SIGNATURE)

DATA_TYPES = ("uint8", "uint256", "uint256", "uint256", "uint256", "bytes32", "bytes32")
DATA_BYTES = 32 * len(DATA_TYPES)
DEFAULT_MAX_TOPICS = 500  # wallets per logs filter; providers cap the size of one filter
AMOUNT_DECIMALS = 6

_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_ADDRESS_PAD = "0x" + "0" * 24
_SIDES = {0: Side.BUY, 1: Side.SELL}


class ChainRejectReason(StrEnum):
    MALFORMED_LOG = "malformed_log"  # not an object, or a required field missing or unreadable
    WRONG_ADDRESS = "wrong_address"  # emitted by a contract other than the two V2 exchanges
    LEGACY_V1_EVENT = "legacy_v1_event"  # the pre-2026-04-28 OrderFilled layout
    WRONG_TOPIC = "wrong_topic"  # any other event
    MALFORMED_TOPICS = "malformed_topics"
    MALFORMED_DATA = "malformed_data"
    UNKNOWN_SIDE = "unknown_side"
    ZERO_AMOUNT = "zero_amount"  # zero shares or zero pUSD
    PRICE_OUT_OF_RANGE = "price_out_of_range"
    REMOVED_BY_REORG = "removed_by_reorg"


@dataclass(frozen=True, slots=True)
class DecodedFill:
    """One `OrderFilled` log: the fill of the order owned by `maker` (lower-case addresses)."""

    exchange: str
    order_hash: str
    maker: str
    taker: str
    side: Side
    token_id: str  # decimal uint256, as the Data API and Gamma write it
    shares: Decimal
    pusd: Decimal
    fee: Decimal
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    removed: bool = False

    @property
    def price(self) -> Decimal:
        return self.pusd / self.shares

    @property
    def is_taker_leg(self) -> bool:
        """The log of the match's taker order (its `taker` topic is the exchange, REFERENCE.md section g)."""
        return self.taker in EXCHANGES

    @property
    def key(self) -> str:
        """The canonical trade key this leg belongs to (`copytrader.model.trade_key`)."""
        return trade_key(self.tx_hash, self.maker, self.token_id, self.side)

    @property
    def log_id(self) -> tuple[str, int]:
        """Identity of the log: a re-delivery (subscription and `eth_getLogs`) has the same block hash and
        index; the same transaction re-mined in another block after a reorg does not."""
        return self.block_hash, self.log_index


@dataclass(frozen=True, slots=True)
class ChainReject:
    reason: ChainRejectReason
    detail: str
    fill: DecodedFill | None = None  # set for `removed_by_reorg`: the leg to withdraw


class _Rejected(Exception):
    def __init__(self, reason: ChainRejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reject = ChainReject(reason, detail)


def micro(amount: int) -> Decimal:
    """An on-chain 6-decimal integer amount as an exact Decimal."""
    return Decimal(amount).scaleb(-AMOUNT_DECIMALS)


def pad32(address: str) -> str:
    """An address as a 32-byte topic (left-padded with zeros), lower-case."""
    lowered = address.strip().lower()
    if not _ADDRESS.match(lowered):
        raise ValueError(f"not a 0x address: {address!r}")
    return _ADDRESS_PAD + lowered[2:]


def _hex_int(value: object, field: str) -> int:
    if isinstance(value, str) and value.startswith(("0x", "0X")):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise _Rejected(ChainRejectReason.MALFORMED_LOG, f"{field} is not a hex quantity: {value!r}")


def _hash(value: object, field: str, reason: ChainRejectReason = ChainRejectReason.MALFORMED_LOG) -> str:
    lowered = value.lower() if isinstance(value, str) else ""
    if not _HEX32.match(lowered):
        raise _Rejected(reason, f"{field} is not a 32-byte hex value: {value!r}")
    return lowered


def _topic_address(topic: str, field: str) -> str:
    if not topic.startswith(_ADDRESS_PAD):
        raise _Rejected(ChainRejectReason.MALFORMED_TOPICS, f"{field} topic is not a padded address: {topic}")
    return "0x" + topic[len(_ADDRESS_PAD) :]


def _event_topics(log: Mapping[str, object]) -> list[str]:
    """All topics, lower-case; rejects unreadable topics and events other than the V2 `OrderFilled`."""
    raw = log.get("topics")
    if not isinstance(raw, list) or not raw:
        raise _Rejected(ChainRejectReason.MALFORMED_TOPICS, f"topics is not a non-empty list: {raw!r}")
    topics = [_hash(t, f"topic {i}", ChainRejectReason.MALFORMED_TOPICS) for i, t in enumerate(raw)]
    if topics[0] == LEGACY_ORDER_FILLED_TOPIC:
        raise _Rejected(ChainRejectReason.LEGACY_V1_EVENT, "legacy V1 OrderFilled (before the 2026-04-28 cut-over)")
    if topics[0] != ORDER_FILLED_TOPIC:
        raise _Rejected(ChainRejectReason.WRONG_TOPIC, f"topic0 {topics[0]} is not the V2 OrderFilled")
    if len(topics) != 4:
        raise _Rejected(ChainRejectReason.MALFORMED_TOPICS, f"OrderFilled has 4 topics, got {len(topics)}")
    return topics


def _data(log: Mapping[str, object]) -> tuple[int, int, int, int, int]:
    """(side, tokenId, makerAmountFilled, takerAmountFilled, fee) from the ABI-encoded data."""
    raw = log.get("data")
    if not isinstance(raw, str) or not raw.startswith("0x"):
        raise _Rejected(ChainRejectReason.MALFORMED_DATA, f"data is not hex: {str(raw)[:80]!r}")
    try:
        data = bytes.fromhex(raw[2:])
    except ValueError:
        raise _Rejected(ChainRejectReason.MALFORMED_DATA, "data is not hex") from None
    if len(data) != DATA_BYTES:
        raise _Rejected(ChainRejectReason.MALFORMED_DATA, f"data has {len(data)} bytes, expected {DATA_BYTES}")
    try:
        side, token_id, maker_amount, taker_amount, fee, _builder, _metadata = abi_decode(DATA_TYPES, data)
    except DecodingError as exc:
        raise _Rejected(ChainRejectReason.MALFORMED_DATA, f"ABI decoding failed: {exc}") from None
    return side, token_id, maker_amount, taker_amount, fee


def _decode(log: object) -> DecodedFill:
    if not isinstance(log, Mapping):
        raise _Rejected(ChainRejectReason.MALFORMED_LOG, f"log is a {type(log).__name__}")
    topics = _event_topics(log)
    address = str(log.get("address") or "").lower()
    if address not in EXCHANGES:
        raise _Rejected(ChainRejectReason.WRONG_ADDRESS, f"emitted by {address or 'nobody'}, not a V2 exchange")
    side_code, token_id, maker_amount, taker_amount, fee = _data(log)
    side = _SIDES.get(side_code)
    if side is None:
        raise _Rejected(ChainRejectReason.UNKNOWN_SIDE, f"side {side_code}")
    pusd_units, share_units = (maker_amount, taker_amount) if side is Side.BUY else (taker_amount, maker_amount)
    if pusd_units == 0 or share_units == 0:
        raise _Rejected(ChainRejectReason.ZERO_AMOUNT, f"{pusd_units} pUSD units for {share_units} share units")
    if pusd_units >= share_units:
        raise _Rejected(ChainRejectReason.PRICE_OUT_OF_RANGE, f"{pusd_units} pUSD units for {share_units} shares")
    removed = log.get("removed", False)
    if not isinstance(removed, bool):
        raise _Rejected(ChainRejectReason.MALFORMED_LOG, f"removed is not a boolean: {removed!r}")
    return DecodedFill(
        exchange=address,
        order_hash=topics[1],
        maker=_topic_address(topics[2], "maker"),
        taker=_topic_address(topics[3], "taker"),
        side=side,
        token_id=str(token_id),
        shares=micro(share_units),
        pusd=micro(pusd_units),
        fee=micro(fee),
        block_number=_hex_int(log.get("blockNumber"), "blockNumber"),
        block_hash=_hash(log.get("blockHash"), "blockHash"),
        tx_hash=_hash(log.get("transactionHash"), "transactionHash"),
        log_index=_hex_int(log.get("logIndex"), "logIndex"),
        removed=removed,
    )


def decode_order_filled(log: object) -> DecodedFill | ChainReject:
    """One JSON-RPC log object -> its fill, or the reason it is not a usable V2 fill. Never raises."""
    try:
        fill = _decode(log)
    except _Rejected as rejected:
        return rejected.reject
    if fill.removed:
        return ChainReject(ChainRejectReason.REMOVED_BY_REORG, f"log {fill.log_index} of block {fill.block_hash}", fill)
    return fill


# ------------------------------------------------------------------------------------------------- legs


@dataclass(frozen=True, slots=True)
class SummedFill:
    """The legs of one (transaction, wallet, token, side): one canonical trade."""

    tx_hash: str
    wallet: str
    token_id: str
    side: Side
    block_number: int
    first_log_index: int
    shares: Decimal
    pusd: Decimal
    fee: Decimal
    legs: int

    @property
    def price(self) -> Decimal:
        return self.pusd / self.shares

    @property
    def key(self) -> str:
        return trade_key(self.tx_hash, self.wallet, self.token_id, self.side)


def sum_legs(legs: Sequence[DecodedFill]) -> SummedFill:
    """Add the legs of one trade exactly: shares, pUSD and fee summed; price = total pUSD / total shares.

    (`copytrader.polymarket.data_api.rows.merge_legs` merges already-rounded Data API rows by a size-weighted
    mean; on chain the integer amounts are known, so the sum is exact.) Raises ValueError when the legs
    do not all belong to one trade.
    """
    if not legs:
        raise ValueError("no legs to sum")
    first = legs[0]
    if any(leg.key != first.key for leg in legs):
        raise ValueError("legs of different trades cannot be summed")
    return SummedFill(
        tx_hash=first.tx_hash,
        wallet=first.maker,
        token_id=first.token_id,
        side=first.side,
        block_number=first.block_number,
        first_log_index=min(leg.log_index for leg in legs),
        shares=sum((leg.shares for leg in legs), Decimal(0)),
        pusd=sum((leg.pusd for leg in legs), Decimal(0)),
        fee=sum((leg.fee for leg in legs), Decimal(0)),
        legs=len(legs),
    )


# ---------------------------------------------------------------------------------------------- filters


def subscription_filter(wallets: Iterable[str]) -> dict[str, object]:
    """The `eth_subscribe("logs", ...)` / `eth_getLogs` filter for these wallets' fills.

    address = both V2 exchanges; topics = [OrderFilled, any order hash, maker in wallets] (REFERENCE.md
    section g). Raises ValueError for no wallets: an empty OR list matches every maker on geth-style nodes,
    which would subscribe to the whole exchange.
    """
    topics = sorted({pad32(w) for w in wallets})
    if not topics:
        raise ValueError("a logs filter needs at least one wallet (an empty list matches every maker)")
    return {"address": list(EXCHANGES), "topics": [ORDER_FILLED_TOPIC, None, topics]}


def subscription_filters(wallets: Iterable[str], max_topics: int = DEFAULT_MAX_TOPICS) -> list[dict[str, object]]:
    """The wallets' filters, at most `max_topics` wallets each (sorted, so a set gives the same chunks)."""
    if max_topics < 1:
        raise ValueError("max_topics must be >= 1")
    ordered = sorted({w.strip().lower() for w in wallets})
    return [subscription_filter(ordered[i : i + max_topics]) for i in range(0, len(ordered), max_topics)]


def block_range_filter(log_filter: Mapping[str, object], from_block: int, to_block: int) -> dict[str, object]:
    """A subscription filter bounded to blocks [from_block, to_block] for `eth_getLogs`."""
    if not 0 <= from_block <= to_block:
        raise ValueError(f"bad block range [{from_block}, {to_block}]")
    return {**log_filter, "fromBlock": hex(from_block), "toBlock": hex(to_block)}
