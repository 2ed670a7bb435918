"""Legs of chain fills waiting for their block to complete, and the trade a completed group becomes.

A wallet's several `OrderFilled` legs of one token and side in one transaction are one trade
(`copytrader.model.trade_key`): `PendingLegs` holds them per key until their block is complete (the
source decides when), drops a log seen twice (subscription and backfill), recognises a leg that arrives
after its trade was emitted, and withdraws a leg removed by a reorg while it is still waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from copytrader.model import Source, WhaleTrade
from copytrader.money import MICRO, ONE
from copytrader.polymarket.chain import (
    DecodedFill,
    SummedFill,
    sum_legs,
)
from copytrader.polymarket.tokens import TokenInfo


class Added(Enum):
    ADDED = "added"
    DUPLICATE = "duplicate"  # this log (block hash, index) was seen before
    LATE = "late"  # its trade was already emitted


class Withdrawn(Enum):
    PENDING = "pending"  # the leg was still waiting: dropped
    EMITTED = "emitted"  # too late: its trade already went to the sink
    UNKNOWN = "unknown"


@dataclass
class LegGroup:
    """The legs of one trade key seen so far, with the raw logs (kept for rejects)."""

    key: str
    block_number: int
    detected_at: datetime  # receipt time of the first leg
    legs: list[DecodedFill] = field(default_factory=list)
    raw: list[object] = field(default_factory=list)
    retry_at: float = float("-inf")

    def summed(self) -> SummedFill:
        return sum_legs(self.legs)


class PendingLegs:
    """Legs waiting for their block to complete, and the memory that keeps a fill from being emitted twice.

    Pure and synchronous (times are passed in), so the grouping rules are unit-tested without a socket.
    """

    def __init__(self) -> None:
        self.groups: dict[str, LegGroup] = {}
        self._activity: dict[int, float] = {}  # block -> monotonic time of its latest leg
        self._seen: dict[tuple[str, int], int] = {}  # log id -> block
        self._emitted: dict[str, int] = {}  # trade key -> block

    def add(self, fill: DecodedFill, raw: object, received_at: datetime, now: float) -> Added:
        if fill.log_id in self._seen:
            return Added.DUPLICATE
        self._seen[fill.log_id] = fill.block_number
        if fill.key in self._emitted:
            return Added.LATE
        group = self.groups.get(fill.key)
        if group is None:
            group = self.groups[fill.key] = LegGroup(fill.key, fill.block_number, received_at)
        group.legs.append(fill)
        group.raw.append(raw)
        self._activity[group.block_number] = now
        return Added.ADDED

    def withdraw(self, fill: DecodedFill) -> Withdrawn:
        """A reorg removed this log: drop its leg if it is still pending."""
        self._seen.pop(fill.log_id, None)
        group = self.groups.get(fill.key)
        if group is not None:
            kept = [i for i, leg in enumerate(group.legs) if leg.log_id != fill.log_id]
            if len(kept) < len(group.legs):
                group.legs = [group.legs[i] for i in kept]
                group.raw = [group.raw[i] for i in kept]
                if not group.legs:
                    self._drop(group)
                return Withdrawn.PENDING
        return Withdrawn.EMITTED if fill.key in self._emitted else Withdrawn.UNKNOWN

    def through(self, block: int, now: float) -> list[LegGroup]:
        """Groups of blocks <= `block` (a header at `block` arrived), except those waiting for a retry."""
        return self._ordered(g for g in self.groups.values() if g.block_number <= block and g.retry_at <= now)

    def quiet(self, now: float, delay_s: float) -> list[LegGroup]:
        """Groups whose block got no new leg for `delay_s`, except those waiting for a retry."""
        return self._ordered(
            g for g in self.groups.values() if self._activity[g.block_number] + delay_s <= now and g.retry_at <= now
        )

    def next_due(self, delay_s: float) -> float | None:
        """The earliest monotonic time at which `quiet` may return a group."""
        times = [max(self._activity[g.block_number] + delay_s, g.retry_at) for g in self.groups.values()]
        return min(times, default=None)

    def settle(self, groups: Iterable[LegGroup], emitted: bool) -> None:
        """These groups are done (emitted to the sink, or rejected)."""
        for group in groups:
            self._drop(group)
            if emitted:
                self._emitted[group.key] = group.block_number

    def postpone(self, groups: Iterable[LegGroup], until: float) -> None:
        for group in groups:
            group.retry_at = until

    @property
    def oldest_block(self) -> int | None:
        return min((g.block_number for g in self.groups.values()), default=None)

    def forget_below(self, block: int) -> None:
        """Forget log ids and emitted keys of blocks < `block` (bounded memory)."""
        self._seen = {k: b for k, b in self._seen.items() if b >= block}
        self._emitted = {k: b for k, b in self._emitted.items() if b >= block}

    def _drop(self, group: LegGroup) -> None:
        self.groups.pop(group.key, None)
        if not any(g.block_number == group.block_number for g in self.groups.values()):
            self._activity.pop(group.block_number, None)

    @staticmethod
    def _ordered(groups: Iterable[LegGroup]) -> list[LegGroup]:
        return sorted(groups, key=lambda g: (g.block_number, min(leg.log_index for leg in g.legs)))


def trade_price(summed: SummedFill) -> Decimal:
    """The trade's price rounded to 1e-6 (finer than any tick), kept inside (0, 1) as the model requires."""
    return min(max(summed.price.quantize(MICRO), MICRO), ONE - MICRO)


def whale_trade(group: LegGroup, token: TokenInfo, block_time: datetime) -> WhaleTrade:
    summed = group.summed()
    return WhaleTrade.create(
        wallet=summed.wallet,
        side=summed.side,
        token_id=summed.token_id,
        condition_id=token.condition_id,
        outcome=token.outcome,
        outcome_index=token.outcome_index,
        price=trade_price(summed),
        size=summed.shares,
        timestamp=block_time,
        tx_hash=summed.tx_hash,
        source=Source.CHAIN,
        detected_at=group.detected_at,
        fee=summed.fee,
    )
