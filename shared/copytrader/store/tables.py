"""The one definition of every DynamoDB table (PynamoDB models): our money's tables here (orders ledger, positions,
cash ledger, risk state), what we observe in `copytrader.store.observed_tables`, and every table by name in `MODELS`.

The CDK app builds its `TableV2`s from these models (`copytrader.store.provisioning`: key schema, indexes, TTL),
local mode creates the same tables in moto server from the same models, and the handlers read and write through
them. Table names and region come from the environment (`copytrader.store.connection`). Money and share amounts
are `DecimalAttribute`s (`copytrader.store.attributes`): DynamoDB numbers are exact decimals (38 digits), so
amounts round-trip without a float.
"""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from copytrader.store.attributes import DecimalAttribute
from copytrader.store.attributes import TableMeta as _Meta
from copytrader.store.attributes import zero as _zero
from copytrader.store.connection import table_name_for, table_region
from copytrader.store.observed_tables import (
    MarketModel,
    MarkModel,
    SeenTradeModel,
    StanceModel,
    WatermarkModel,
    WhaleModel,
)

# -------------------------------------------------------------------------------------- orders ledger


class OrderByStatus(GlobalSecondaryIndex["OrderModel"]):
    """Orders by status and age: reconciliation reads UNKNOWN and PENDING entries from here."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    created_at = UTCDateTimeAttribute(range_key=True)


class OrderModel(Model):
    """The orders ledger: one entry per copy, keyed by the copy's idempotency key, written before the venue call."""

    class Meta(_Meta):
        table_name = table_name_for("orders")
        region = table_region()

    idempotency_key = UnicodeAttribute(hash_key=True)
    account = UnicodeAttribute()
    trade_key = UnicodeAttribute()
    wallet = UnicodeAttribute()
    condition_id = UnicodeAttribute()
    token_id = UnicodeAttribute()
    side = UnicodeAttribute()
    order_type = UnicodeAttribute()
    shares = DecimalAttribute()
    limit_price = DecimalAttribute()
    reserved = DecimalAttribute(default=_zero)
    status = UnicodeAttribute()
    venue_order_id = UnicodeAttribute(null=True)  # written with the PENDING entry, before the order is sent
    order_json = UnicodeAttribute(null=True)  # the SizedOrder, so the reconcile sweep can settle the entry
    signed_order = UnicodeAttribute(null=True)  # the venue's signed order (PreparedOrder.payload): re-sent as is
    filled_shares = DecimalAttribute(default=_zero)
    avg_price = DecimalAttribute(null=True)
    fee = DecimalAttribute(default=_zero)
    cash_amount = DecimalAttribute(default=_zero)
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    by_status = OrderByStatus()


# ------------------------------------------------------------------------------------------ positions


class PositionModel(Model):
    """Our holding of one token (shares and cost basis at cost, fees included)."""

    class Meta(_Meta):
        table_name = table_name_for("positions")
        region = table_region()

    account = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute(range_key=True)
    condition_id = UnicodeAttribute()
    event_id = UnicodeAttribute(null=True)
    shares = DecimalAttribute(default=_zero)
    cost_basis = DecimalAttribute(default=_zero)
    fees_paid = DecimalAttribute(default=_zero)
    realized_pnl = DecimalAttribute(default=_zero)
    opened_at = UTCDateTimeAttribute(null=True)  # the lot: removed when the position closes, set by the next BUY
    updated_at = UTCDateTimeAttribute()
    closed = BooleanAttribute(default=False)
    # risk attribution (copytrader.risk.rules): the latest BUY's group and category; every group, category and wallet
    # a BUY of this lot counted against (each one's cost in it: risk item `#PART#<token>#<scope>#<name>`); the
    # stop-loss fraction at entry
    risk_group = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    whales = UnicodeSetAttribute(null=True)
    groups = UnicodeSetAttribute(null=True)
    categories = UnicodeSetAttribute(null=True)
    stop_loss = DecimalAttribute(null=True)
    # the lot's highest fresh bid seen by the exits job (the trailing stop's high-water mark; raised only upward,
    # removed when the lot ends: copytrader.workflows.exits)
    bid_high = DecimalAttribute(null=True)


# --------------------------------------------------------------------------------------- cash ledger


class LedgerEntryModel(Model):
    """Every movement of cash or shares: fills, fees, redemptions, deposits. P&L is derived from here."""

    class Meta(_Meta):
        table_name = table_name_for("ledger")
        region = table_region()

    account = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)  # "<kind>#<reference>": idempotent by construction
    kind = UnicodeAttribute()
    token_id = UnicodeAttribute(null=True)
    condition_id = UnicodeAttribute(null=True)
    shares_delta = DecimalAttribute(default=_zero)
    cash_delta = DecimalAttribute(default=_zero)
    fee = DecimalAttribute(default=_zero)
    realized_pnl = DecimalAttribute(default=_zero)  # FILL_SELL, REDEEM: added to that UTC day's realized P&L
    at = UTCDateTimeAttribute()
    reference = UnicodeAttribute(null=True)
    # REDEEM of a live transaction that burned several tokens: "<token>=<shares delta>;..." (token_id then empty)
    more_shares = UnicodeAttribute(null=True)


def encode_share_moves(moves: tuple[tuple[str, Decimal], ...]) -> str | None:
    """`LedgerEntryModel.more_shares` of (token, shares delta) pairs; None for none."""
    return ";".join(f"{token}={delta}" for token, delta in moves) or None


def decode_share_moves(text: str | None) -> tuple[tuple[str, Decimal], ...]:
    """The (token, shares delta) pairs `encode_share_moves` wrote."""
    pairs = [part.partition("=") for part in (text or "").split(";") if part]
    return tuple((token, Decimal(delta)) for token, _, delta in pairs)


# ------------------------------------------------------------------------------- portfolio risk state


class UnsettledReservations(GlobalSecondaryIndex["RiskStateModel"]):
    """Sparse: only a reservation not yet settled carries `unsettled` (its account); oldest first by `reserved_at`.

    The sweep reads it to release a reservation no ledger entry owns; the audit sums it."""

    class Meta:
        index_name = "unsettled_reservations"
        projection = AllProjection()

    unsettled = UnicodeAttribute(hash_key=True)
    reserved_at = UTCDateTimeAttribute(range_key=True)


class RiskStateModel(Model):
    """Portfolio risk state, one item per key, updated only by conditional writes.

    Keys (all prefixed with the account): `<acct>#ACCOUNT` (cash, reserved, open cost, kill switch),
    `<acct>#DAY#YYYY-MM-DD` (start-of-day equity, realized P&L, breaker), `<acct>#MARKET#<condition_id>`
    (exposure at cost) and `<acct>#RESV#<idempotency_key>` (one reservation per copy, makes it idempotent);
    the exposure items `#GROUP#<group>`, `#CATEGORY#<name>`, `#WHALE#<wallet>`, `#PART#<token>#<scope>#<name>` (a
    group's, category's or whale's cost in one position) and the order-rate counters `#RATE#<YYYY-MM-DDTHH:MM>`
    (TTL) (`copytrader.store.account`).
    """

    class Meta(_Meta):
        table_name = table_name_for("risk")
        region = table_region()

    pk = UnicodeAttribute(hash_key=True)
    cash = DecimalAttribute(null=True)
    reserved = DecimalAttribute(null=True)
    open_cost = DecimalAttribute(null=True)
    committed = DecimalAttribute(null=True)  # open_cost + reserved (conditions cannot add attributes)
    available = DecimalAttribute(null=True)  # cash - reserved
    exposure = DecimalAttribute(null=True)
    amount = DecimalAttribute(null=True)
    day_start_equity = DecimalAttribute(null=True)
    day_realized_pnl = DecimalAttribute(null=True)
    breaker = UnicodeAttribute(null=True)
    breaker_tripped_at = UTCDateTimeAttribute(null=True)
    kill_switch = BooleanAttribute(null=True)
    condition_id = UnicodeAttribute(null=True)
    settled = BooleanAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    # exposure items other than markets (`#GROUP#`, `#CATEGORY#`, `#WHALE#`, `#PART#...`): what they count
    scope = UnicodeAttribute(null=True)
    # account: BUY reservations not yet settled; book equity (cash + open cost, kept like committed/available);
    # its high-water mark and the drawdown halt
    open_orders = NumberAttribute(null=True)
    equity = DecimalAttribute(null=True)
    equity_hwm = DecimalAttribute(null=True)
    drawdown_halt = BooleanAttribute(null=True)
    drawdown_halted_at = UTCDateTimeAttribute(null=True)
    # `#RATE#<minute>`: orders approved in that UTC minute
    order_count = NumberAttribute(null=True)
    # reservation: what the copy is counted against, and the stop-loss fraction at entry
    risk_group = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    wallet = UnicodeAttribute(null=True)
    stop_loss = DecimalAttribute(null=True)
    # reservation: its account while not yet settled (removed by the settlement), and when it was made
    unsettled = UnicodeAttribute(null=True)
    reserved_at = UTCDateTimeAttribute(null=True)
    # account: marked equity (copytrader.risk.marking), its high-water mark, when it was marked and how many marks were
    # stale; day: the day's first marked equity (the daily-loss breaker on marks)
    equity_marked = DecimalAttribute(null=True)
    equity_marked_hwm = DecimalAttribute(null=True)
    equity_marked_at = UTCDateTimeAttribute(null=True)
    stale_marks = NumberAttribute(null=True)
    day_start_equity_marked = DecimalAttribute(null=True)
    unsettled_reservations = UnsettledReservations()
    # `#REDEEMTX#<condition_id>`: a live redemption's intent and transaction (copytrader.store.redemptions)
    redemption_state = UnicodeAttribute(null=True)
    redemption = UnicodeAttribute(null=True)  # JSON: the plan, balances before, the transaction's ids
    # `#WHALEPOS#<wallet>#<token>`: a copied whale's net shares of one token from the trades of it we observed, and
    # the keys of those trades (each counted once) (`copytrader.store.whale_holdings`)
    shares = DecimalAttribute(null=True)
    trade_keys = UnicodeSetAttribute(null=True)


MODELS: dict[str, type[Model]] = {
    "whales": WhaleModel,
    "markets": MarketModel,
    "trades": SeenTradeModel,
    "watermarks": WatermarkModel,
    "orders": OrderModel,
    "positions": PositionModel,
    "ledger": LedgerEntryModel,
    "risk": RiskStateModel,
    "stances": StanceModel,
    "marks": MarkModel,
}
