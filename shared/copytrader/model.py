"""Event contracts: the one definition of every message that crosses a process or function boundary.

All models are frozen pydantic models. Money and shares are `Decimal` (see `copytrader.money`);
timestamps are timezone-aware UTC `datetime`s. Validation happens here, at the edge, so the domain
functions can trust what they receive; a payload that fails validation raises `pydantic.ValidationError`
whose messages name the field.

Serialized form (Step Functions state, SQS bodies, EventBridge details) is `model_dump(mode="json")`:
Decimals become strings, so no amount ever passes through a float.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from copytrader.money import ONE, ZERO, canonical, to_decimal
from copytrader.reasons import Reason

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")


def _lower_hex(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        lowered = value.strip().lower()
        if not pattern.match(lowered):
            raise ValueError(f"not a valid {what}: {value!r}")
        return lowered

    return AfterValidator(check)


def _as_decimal(value: object) -> Decimal:
    return canonical(to_decimal(value))


def _as_utc(value: object) -> object:
    """Accept epoch seconds (or milliseconds when > 1e11), ISO strings and datetimes; return UTC."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str) and value.strip().isdigit():
        return _as_utc(int(value.strip()))
    return value


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


Address = Annotated[str, _lower_hex(_ADDRESS, "0x address")]
Hash32 = Annotated[str, _lower_hex(_HASH32, "0x 32-byte hash")]
TokenId = Annotated[str, AfterValidator(lambda v: _check_token(v))]
Dec = Annotated[Decimal, BeforeValidator(_as_decimal)]
UtcTime = Annotated[datetime, BeforeValidator(_as_utc), AfterValidator(_require_utc)]
Probability = Annotated[Decimal, BeforeValidator(_as_decimal), Field(gt=0, lt=1)]
NonNegative = Annotated[Decimal, BeforeValidator(_as_decimal), Field(ge=0)]
Positive = Annotated[Decimal, BeforeValidator(_as_decimal), Field(gt=0)]


def _check_token(value: str) -> str:
    value = value.strip()
    if not _TOKEN_ID.match(value):
        raise ValueError(f"not a valid token id (decimal uint256): {value!r}")
    return value


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Source(StrEnum):
    CHAIN = "chain"
    RTDS = "rtds"
    DATA_API = "data-api"
    SIM = "sim"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


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


class WhaleTrade(_Frozen):
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


class OutcomeToken(_Frozen):
    token_id: TokenId
    outcome: str


class Market(_Frozen):
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


class Level(_Frozen):
    price: Probability
    size: Positive


class Fill(_Frozen):
    price: Probability
    shares: Positive


class OrderBook(_Frozen):
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
        book = self.asks if side is Side.BUY else self.bids
        remaining = shares
        fills: list[Fill] = []
        for level in book:
            if remaining <= 0:
                break
            if limit_price is not None and (
                (side is Side.BUY and level.price > limit_price) or (side is Side.SELL and level.price < limit_price)
            ):
                break
            take = min(remaining, level.size)
            fills.append(Fill(price=level.price, shares=take))
            remaining -= take
        return tuple(fills)

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


class WhaleStatus(StrEnum):
    CANDIDATE = "candidate"
    PROBATION = "probation"
    ACTIVE = "active"
    PAUSED = "paused"
    CULLED = "culled"


COPYABLE_STATUSES = frozenset({WhaleStatus.ACTIVE, WhaleStatus.PROBATION})


class CategoryRecord(_Frozen):
    """A whale's resolved BUYs in one market category: the inputs of the category posterior (copytrader.sizing)."""

    resolved_trades: int = Field(default=0, ge=0)
    wins: int = Field(default=0, ge=0)
    mean_entry_price: Probability = Decimal("0.5")

    @model_validator(mode="after")
    def _wins_le_trades(self) -> CategoryRecord:
        if self.wins > self.resolved_trades:
            raise ValueError("wins cannot exceed resolved_trades")
        return self


class WhaleProfile(_Frozen):
    """What the copy pipeline knows about a wallet: its status and the evidence behind its edge.

    `resolved_trades`, `wins` and `mean_entry_price` summarise the wallet's resolved BUY history:
    a win is a bought outcome that paid 1. Under no skill, wins ~ Binomial(n, mean entry price).
    """

    wallet: Address
    status: WhaleStatus
    # the scorer's composite: shrunk net edge per share (its lower bound ranks the tracked set)
    score: Decimal = Decimal(0)
    score_ci_low: Decimal | None = None
    resolved_trades: int = Field(default=0, ge=0)
    wins: int = Field(default=0, ge=0)
    mean_entry_price: Probability = Decimal("0.5")
    # calibrated edge per trade (outcome - price) and its bootstrap lower bound; Benjamini-Hochberg q-value;
    # Deflated Sharpe ratio of the daily P&L; categories where the wallet's edge stands out
    edge: Decimal | None = None
    edge_ci_low: Decimal | None = None
    q_value: Decimal | None = None
    dsr: Decimal | None = None
    specialties: tuple[str, ...] = ()
    # per market category (Gamma's category, as the scorer saw it): the same resolved-BUY summary as above
    categories: dict[str, CategoryRecord] = Field(default_factory=dict)
    # the population prior of this run's scorer (copytrader.scoring.population): sizing shrinks the edge toward it
    prior_edge: Decimal | None = None
    prior_strength: Decimal | None = Field(default=None, gt=0)
    status_since: UtcTime | None = None
    scored_at: UtcTime | None = None
    reasons: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _wins_le_trades(self) -> WhaleProfile:
        if self.wins > self.resolved_trades:
            raise ValueError("wins cannot exceed resolved_trades")
        return self


class Decision(StrEnum):
    COPY = "COPY"
    SKIP = "SKIP"


class CopySignal(_Frozen):
    """The score step's verdict on one whale trade, with everything later steps need."""

    action: Decision
    reason: Reason | None = None
    detail: str = ""
    trade: WhaleTrade | None = None
    market: Market | None = None
    book: OrderBook | None = None
    whale: WhaleProfile | None = None
    # our own shares of this token when the whale sells (mirror exits), else 0
    held_shares: NonNegative = Decimal(0)
    # pUSD a BUY may still reserve under every exposure cap when the decision was made (None: not checked)
    room: NonNegative | None = None
    decided_at: UtcTime

    @model_validator(mode="after")
    def _complete(self) -> CopySignal:
        if self.action is Decision.COPY and None in (self.trade, self.market, self.book, self.whale):
            raise ValueError("a COPY signal carries the trade, market, book and whale")
        if self.action is Decision.SKIP and self.reason is None:
            raise ValueError("a SKIP signal carries a reason")
        return self


class OrderType(StrEnum):
    FOK = "FOK"  # fill completely now or cancel
    FAK = "FAK"  # fill what is available now, cancel the rest
    GTC = "GTC"
    GTD = "GTD"


def risk_group_of(market: Market) -> str:
    """The group whose exposure one cap limits: mutually exclusive outcomes (a neg-risk group) move together, so
    they count as one; otherwise the event (its markets usually hinge on one fact), else the market alone."""
    if market.neg_risk and market.neg_risk_market_id:
        return f"negrisk:{market.neg_risk_market_id}"
    if market.event_id:
        return f"event:{market.event_id}"
    return f"market:{market.condition_id}"


class SizedOrder(_Frozen):
    """The size step's output: one order to place (or a skip with its reason)."""

    action: Literal["PLACE", "SKIP"]
    reason: Reason | None = None
    detail: str = ""
    idempotency_key: str = ""
    trade_key: str = ""
    wallet: str = ""
    condition_id: str = ""
    event_id: str | None = None
    # the exposure group the risk caps count this market in: the neg-risk group (`neg_risk_market_id`) when the
    # market belongs to one, else its event, else the market itself (`risk_group_of`)
    risk_group: str = ""
    category: str = "other"
    neg_risk: bool = False
    token_id: str = ""
    side: Side = Side.BUY
    order_type: OrderType = OrderType.FAK
    shares: NonNegative = Decimal(0)
    limit_price: Decimal = Decimal(0)
    expected_avg_price: Decimal = Decimal(0)
    expected_fee: NonNegative = Decimal(0)
    # worst-case cash this order can consume: shares x limit price + fee at the limit (BUY), 0 for SELL
    max_cost: NonNegative = Decimal(0)
    win_probability: Decimal = Decimal(0)
    kelly_full: Decimal = Decimal(0)
    kelly_applied: Decimal = Decimal(0)
    bankroll: NonNegative = Decimal(0)
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal(5)
    taker_fee_rate: Decimal = Decimal(0)

    @model_validator(mode="after")
    def _consistent(self) -> SizedOrder:
        if self.action == "PLACE":
            if not self.idempotency_key or not self.token_id or self.shares <= 0:
                raise ValueError("a PLACE order needs an idempotency key, a token and shares > 0")
            if not (ZERO < self.limit_price < ONE):
                raise ValueError(f"limit price {self.limit_price} must lie in (0, 1)")
        elif self.reason is None:
            raise ValueError("a SKIP order carries a reason")
        return self


class RiskDecision(_Frozen):
    approved: bool
    reason: Reason | None = None
    detail: str = ""
    reserved: NonNegative = Decimal(0)
    day: str = ""


class ExecutionStatus(StrEnum):
    PENDING = "PENDING"  # ledger entry written, venue not yet answered
    FILLED = "FILLED"
    PARTIAL = "PARTIAL"
    UNFILLED = "UNFILLED"  # FOK killed / FAK found nothing within the limit
    REJECTED = "REJECTED"  # the venue said no
    UNKNOWN = "UNKNOWN"  # ambiguous: must be reconciled before anything else happens


TERMINAL_STATUSES = frozenset(
    {ExecutionStatus.FILLED, ExecutionStatus.PARTIAL, ExecutionStatus.UNFILLED, ExecutionStatus.REJECTED}
)


class ExecutionResult(_Frozen):
    idempotency_key: str
    status: ExecutionStatus
    reason: Reason | None = None
    detail: str = ""
    venue_order_id: str | None = None
    side: Side = Side.BUY
    filled_shares: NonNegative = Decimal(0)
    avg_price: Decimal | None = None
    fee: NonNegative = Decimal(0)
    # cash out (BUY: notional + fee) or cash in (SELL: notional - fee), always >= 0
    cash_amount: NonNegative = Decimal(0)
    fills: tuple[Fill, ...] = ()
    duplicate: bool = False
    executed_at: UtcTime


class Position(_Frozen):
    token_id: TokenId
    condition_id: Hash32
    shares: NonNegative
    cost_basis: NonNegative  # pUSD paid for the shares still held, fees included
    realized_pnl: Decimal = Decimal(0)
    fees_paid: NonNegative = Decimal(0)
    opened_at: UtcTime
    updated_at: UtcTime


class PortfolioState(_Frozen):
    """Account-level risk state: cash, reservations and the day's breaker."""

    cash: Decimal
    reserved: NonNegative = Decimal(0)
    open_cost: NonNegative = Decimal(0)
    day: str
    day_start_equity: Decimal
    day_realized_pnl: Decimal = Decimal(0)
    breaker_open: bool = False
    kill_switch: bool = False

    @property
    def available_cash(self) -> Decimal:
        return self.cash - self.reserved
