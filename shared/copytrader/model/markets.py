"""Markets, their outcome tokens and order books (levels, fills, the book walk), and the exposure group a
market counts in."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator, model_validator

from copytrader.model.types import Frozen, Hash32, NonNegative, Positive, Probability, Side, TokenId, UtcTime
from copytrader.money import ONE, ZERO, to_decimal


class OutcomeToken(Frozen):
    token_id: TokenId
    outcome: str


class Market(Frozen):
    """A binary (or neg-risk member) market with the constraints an order must respect."""

    condition_id: Hash32
    question: str = ""
    slug: str = ""
    event_id: str | None = None
    category: str = "other"
    neg_risk: bool = False
    neg_risk_market_id: str | None = None
    tokens: tuple[OutcomeToken, ...] = Field(min_length=2)
    tick_size: Positive
    min_order_size: Positive
    taker_fee_rate: NonNegative = Decimal(0)
    end_time: UtcTime | None = None
    closed: bool = False
    accepting_orders: bool = True
    # token id -> payout per share once resolved (1/0, or 0.5/0.5 for a 50/50 resolution)
    payouts: dict[str, NonNegative] | None = None
    # Gamma's UMA resolution status (`umaResolutionStatus`, e.g. "proposed", "disputed", "resolved") and its history
    # (`umaResolutionStatuses`), None / () when Gamma gives none: the exit rules leave on a proposal or dispute
    uma_status: str | None = None
    uma_statuses: tuple[str, ...] = ()

    @field_validator("tick_size")
    @classmethod
    def _tick(cls, value: Decimal) -> Decimal:
        if value > Decimal("0.1"):
            raise ValueError(f"tick size {value} is larger than 0.1")
        return value

    @field_validator("taker_fee_rate")
    @classmethod
    def _rate(cls, value: Decimal) -> Decimal:
        if value >= ONE:
            raise ValueError(f"taker fee rate {value} must be < 1")
        return value

    def token(self, token_id: str) -> OutcomeToken | None:
        return next((t for t in self.tokens if t.token_id == token_id), None)

    @property
    def resolved(self) -> bool:
        return self.payouts is not None


class Level(Frozen):
    price: Probability
    size: Positive


class Fill(Frozen):
    price: Probability
    shares: Positive


class OrderBook(Frozen):
    """One token's book. Bids best (highest) first, asks best (lowest) first.

    The CLOB sends levels worst-first (REFERENCE.md section c); `from_clob` sorts them.
    """

    token_id: TokenId
    bids: tuple[Level, ...] = ()
    asks: tuple[Level, ...] = ()
    timestamp: UtcTime
    tick_size: Positive | None = None
    min_order_size: Positive | None = None

    @model_validator(mode="after")
    def _sorted(self) -> OrderBook:
        if any(a.price < b.price for a, b in zip(self.bids, self.bids[1:], strict=False)):
            raise ValueError("bids must be sorted best (highest) first")
        if any(a.price > b.price for a, b in zip(self.asks, self.asks[1:], strict=False)):
            raise ValueError("asks must be sorted best (lowest) first")
        return self

    @classmethod
    def from_clob(cls, payload: dict[str, object]) -> OrderBook:
        """Parse a CLOB `GET /book` response or a market-channel `book` message."""

        def levels(raw: object, best_first_descending: bool) -> tuple[Level, ...]:
            items = [Level(price=x["price"], size=x["size"]) for x in (raw or []) if to_decimal(x["size"]) > 0]  # type: ignore[attr-defined]
            return tuple(sorted(items, key=lambda lv: lv.price, reverse=best_first_descending))

        return cls(
            token_id=str(payload.get("asset_id") or payload.get("token_id")),
            bids=levels(payload.get("bids"), True),
            asks=levels(payload.get("asks"), False),
            timestamp=payload.get("timestamp") or 0,
            tick_size=payload.get("tick_size"),
            min_order_size=payload.get("min_order_size"),
        )

    def to_clob(self, condition_id: str = "") -> dict[str, object]:
        """Serialize in the CLOB `GET /book` shape (strings, worst-first) for loopback servers."""
        return {
            "market": condition_id,
            "asset_id": self.token_id,
            "timestamp": str(int(self.timestamp.timestamp() * 1000)),
            "hash": "",
            "bids": [{"price": str(lv.price), "size": str(lv.size)} for lv in reversed(self.bids)],
            "asks": [{"price": str(lv.price), "size": str(lv.size)} for lv in reversed(self.asks)],
            "min_order_size": str(self.min_order_size) if self.min_order_size else None,
            "tick_size": str(self.tick_size) if self.tick_size else None,
        }

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0].price if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0].price if self.asks else None

    @property
    def spread(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return self.best_ask - self.best_bid

    @property
    def mid(self) -> Decimal | None:
        if self.best_bid is None or self.best_ask is None:
            return None
        return (self.best_ask + self.best_bid) / 2

    def walk(self, side: Side, shares: Decimal, limit_price: Decimal | None = None) -> tuple[Fill, ...]:
        """Fills a taker order of `shares` would get, best level first, never past `limit_price`."""
        return tuple(Fill(price=price, shares=take) for price, take in self.takes(side, shares, limit_price))

    def takes(self, side: Side, shares: Decimal, limit_price: Decimal | None = None) -> list[tuple[Decimal, Decimal]]:
        """`walk` as (price, shares) pairs, without building a `Fill` each (the sizing search walks ~20 times)."""
        book = self.asks if side is Side.BUY else self.bids
        remaining = shares
        taken: list[tuple[Decimal, Decimal]] = []
        for level in book:
            if remaining <= 0:
                break
            if limit_price is not None and (
                (side is Side.BUY and level.price > limit_price) or (side is Side.SELL and level.price < limit_price)
            ):
                break
            take = min(remaining, level.size)
            taken.append((level.price, take))
            remaining -= take
        return taken

    def depth(self, side: Side, limit_price: Decimal) -> Decimal:
        """Shares available to a taker on `side` at prices no worse than `limit_price`."""
        if side is Side.BUY:
            return sum((lv.size for lv in self.asks if lv.price <= limit_price), ZERO)
        return sum((lv.size for lv in self.bids if lv.price >= limit_price), ZERO)

    def truncated(self, levels: int) -> OrderBook:
        """The top `levels` of each side (keeps Step Functions payloads small)."""
        return self.model_copy(update={"bids": self.bids[:levels], "asks": self.asks[:levels]})


def average_price(fills: tuple[Fill, ...]) -> Decimal | None:
    shares = sum((f.shares for f in fills), ZERO)
    if shares == 0:
        return None
    return sum((f.price * f.shares for f in fills), ZERO) / shares


def risk_group_of(market: Market) -> str:
    """The group whose exposure one cap limits: mutually exclusive outcomes (a neg-risk group) move together, so
    they count as one; otherwise the event (its markets usually hinge on one fact), else the market alone."""
    if market.neg_risk and market.neg_risk_market_id:
        return f"negrisk:{market.neg_risk_market_id}"
    if market.event_id:
        return f"event:{market.event_id}"
    return f"market:{market.condition_id}"
