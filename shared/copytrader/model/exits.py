"""Why we leave a position (the exit reasons), and the exit signal an exit rule publishes into the copy queue.

The reasons have one name each, used in ledger details, metrics and reports. The rules that raise a signal are
`copytrader.copying.exits`; the signal travels the copy pipeline (score -> size -> risk_check -> execute) as the
second message kind of the copy FIFO queue, beside the `WhaleTrade`.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from copytrader.model.types import Frozen, Hash32, NonNegative, Probability, TokenId, UtcTime


class ExitReason(StrEnum):
    MIRROR = "mirror"  # a copied whale sold a fraction of its position: we sell that fraction of its part of ours
    STOP_LOSS = "stop_loss"  # the bid fell to the stop at entry (average cost x (1 - s))
    TAKE_PROFIT = "take_profit"  # the bid reached the target
    TRAILING_STOP = "trailing_stop"  # the bid fell a fraction below its high-water mark since entry
    TIME_TO_END = "time_to_end"  # the market's end date is near (oracle games around resolution)
    RESOLUTION_DISPUTE = "resolution_dispute"  # a UMA proposal or dispute on the market
    WHALE_CULLED = "whale_culled"  # the whale whose copies built the position was culled (policy decides)


EXIT_KIND: Literal["exit"] = "exit"  # the `kind` of an exit message on the copy queue (a WhaleTrade body has no `kind`)


def exit_idempotency_key(account: str, token_id: str, lot: str, reason: ExitReason, trigger: str) -> str:
    """One SELL per (account, position lot, rule, trigger): blake2b-128("exit-v1" | account | token | lot | reason |
    trigger), fields joined by 0x1f like the copy key (`copying.sizing.copy_idempotency_key`)."""
    material = "\x1f".join(("exit-v1", account, token_id, lot, reason.value, trigger))
    return hashlib.blake2b(material.encode(), digest_size=16).hexdigest()


class ExitSignal(Frozen):
    """An exit rule fired for one position: sell `fraction` of it (or `shares`, when given) at `min_price` or better.

    `position_shares` is what the position held when the rule fired: the score step skips the signal when the lot
    or the share count has changed since (`position_gone`: another exit or a fill came first; the next evaluation
    decides again on the position as it is). `trigger` says what fired (e.g. `stop 0.34`) and, with the lot, the
    rule and the held shares, derives the key: a redelivered or repeated signal is the same order, while a position
    a partial fill has reduced is a new one.
    """

    kind: Literal["exit"] = EXIT_KIND
    key: str = Field(min_length=32, max_length=32)
    account: str = Field(min_length=1)
    token_id: TokenId
    condition_id: Hash32
    lot: str = Field(min_length=1)
    reason: ExitReason
    trigger: str = Field(min_length=1, max_length=200)
    position_shares: NonNegative
    fraction: Decimal = Field(default=Decimal(1), gt=0, le=1)
    shares: NonNegative | None = None  # absolute shares to sell (a culled whale's part), else fraction x held
    whale: str | None = None  # the whale whose part is sold (cull), released from its part of the position
    min_price: Probability  # the SELL's limit: never sell below it
    observed_at: UtcTime

    @model_validator(mode="after")
    def _key_matches(self) -> ExitSignal:
        expected = exit_idempotency_key(self.account, self.token_id, self.lot, self.reason, self._key_trigger())
        if self.key != expected:
            raise ValueError(f"key does not match (account, token, lot, reason, trigger): expected {expected}")
        return self

    def _key_trigger(self) -> str:
        return f"{self.trigger}|held={self.position_shares.normalize():f}"

    @classmethod
    def create(cls, **fields: object) -> ExitSignal:
        """Build a signal and derive its key from the identifying fields."""
        held = Decimal(str(fields["position_shares"]))
        trigger = f"{fields['trigger']}|held={held.normalize():f}"
        fields["key"] = exit_idempotency_key(
            str(fields["account"]),
            str(fields["token_id"]),
            str(fields["lot"]),
            ExitReason(str(fields["reason"])),
            trigger,
        )
        return cls.model_validate(fields)


__all__ = ["EXIT_KIND", "ExitReason", "ExitSignal", "exit_idempotency_key"]
