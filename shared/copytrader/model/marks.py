"""A mark: what one outcome token is worth now, and how old that knowledge is.

A position is valued at the price we could sell it at: the best bid. The mid is for display. A mark older than
the staleness bound (or with no bid) falls back to the last trade price and says so (`stale`), so equity,
drawdown and the breakers never silently use an old price as a fresh one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import model_validator

from copytrader.model.types import Frozen, NonNegative, TokenId, UtcTime


class MarkSource(StrEnum):
    CLOB_WS = "clob-ws"  # CLOB market channel (book, price_change, best_bid_ask, last_trade_price)
    REST = "rest"  # CLOB REST polling (GET /book, /price), the fallback
    SIM = "sim"  # the simulated market (demo, tests)


class Mark(Frozen):
    """The best bid and ask of one token at `at`, and the last trade price (any may be unknown)."""

    token_id: TokenId
    bid: NonNegative | None = None
    ask: NonNegative | None = None
    last_trade: NonNegative | None = None
    at: UtcTime
    source: MarkSource = MarkSource.CLOB_WS

    @model_validator(mode="after")
    def _prices_are_probabilities(self) -> Mark:
        for name in ("bid", "ask", "last_trade"):
            value = getattr(self, name)
            if value is not None and value > 1:
                raise ValueError(f"{name} {value} is not a price (0..1)")
        return self

    @property
    def mid(self) -> Decimal | None:
        """(bid + ask) / 2 when both sides are quoted; display only."""
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2

    def age(self, now: datetime) -> timedelta:
        return now - self.at

    def is_stale(self, now: datetime, max_age: timedelta) -> bool:
        """True when the mark is older than `max_age` or has no bid to sell into."""
        return self.bid is None or self.age(now) > max_age

    def sell_value(self, now: datetime, max_age: timedelta) -> tuple[Decimal | None, bool]:
        """(price per share we value a held share at, stale?): the bid when fresh, else the last trade (flagged
        stale), else the bid however old (flagged stale); None when nothing is known."""
        if not self.is_stale(now, max_age):
            return self.bid, False
        if self.last_trade is not None:
            return self.last_trade, True
        return self.bid, True


__all__ = ["Mark", "MarkSource"]
