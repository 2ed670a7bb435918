"""A whale's fill in canonical form (`WhaleTrade`) and its key, the same for every source that reports it."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from pydantic import Field, model_validator

from copytrader.model.types import (
    Address,
    Frozen,
    Hash32,
    NonNegative,
    Positive,
    Probability,
    Side,
    Source,
    TokenId,
    UtcTime,
)


def trade_key(tx_hash: str, wallet: str, token_id: str, side: str) -> str:
    """Canonical key of one whale fill: the same for every source that reports it.

    key = blake2b-128( tx_hash | wallet | token_id | side ), fields lower-cased and joined by 0x1f.

    The unit is "this wallet's fill of this token on this side in this settlement transaction". Every
    source carries these four fields (chain logs, RTDS frames, Data API rows), while size and price are
    rounded differently by each source, so they are not part of the key. A wallet filled twice on the
    same token and side within one transaction is one trade (the listener sums the legs). The 0x1f
    separator keeps variable-length fields from colliding (nautilus `determine_trade_id` does the same).
    """
    material = "\x1f".join((tx_hash.lower(), wallet.lower(), token_id, side.upper()))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


class WhaleTrade(Frozen):
    """One fill by a watched wallet, in the canonical form every source is normalised to."""

    key: str = Field(min_length=32, max_length=32)
    wallet: Address
    side: Side
    token_id: TokenId
    condition_id: Hash32
    outcome: str | None = None
    outcome_index: int | None = Field(default=None, ge=0)
    price: Probability
    size: Positive
    timestamp: UtcTime
    tx_hash: Hash32
    source: Source
    detected_at: UtcTime
    # the taker fee the whale paid, pUSD, where the source carries it (chain logs do; Data API rows do not)
    fee: NonNegative | None = None

    @model_validator(mode="after")
    def _key_matches(self) -> WhaleTrade:
        expected = trade_key(self.tx_hash, self.wallet, self.token_id, self.side)
        if self.key != expected:
            raise ValueError(f"key does not match (tx_hash, wallet, token_id, side): expected {expected}")
        return self

    @classmethod
    def create(cls, **fields: object) -> WhaleTrade:
        """Build a trade and derive its canonical key from the identifying fields."""
        fields["key"] = trade_key(
            str(fields["tx_hash"]), str(fields["wallet"]), str(fields["token_id"]).strip(), str(fields["side"])
        )
        return cls.model_validate(fields)

    @property
    def notional(self) -> Decimal:
        return self.price * self.size
