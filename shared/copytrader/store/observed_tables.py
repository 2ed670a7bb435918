"""The tables of what we observe (PynamoDB models, the one definition of each): tracked whales, the markets cache,
the whale trades we have seen (the listener's deduplication), the listener's high-water marks, whales' stances,
and price marks. Our money (orders, positions, cash ledger, risk state) is in `copytrader.store.tables`, which
lists every table in `MODELS`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from copytrader.store.attributes import DecimalAttribute
from copytrader.store.attributes import TableMeta as _Meta
from copytrader.store.attributes import zero as _zero
from copytrader.store.connection import table_name_for, table_region


def _half() -> Decimal:
    return Decimal("0.5")


# ---------------------------------------------------------------------------------------------- whales


class WhaleByStatus(GlobalSecondaryIndex["WhaleModel"]):
    """Tracked wallets by status, best score first (the listener's and the pipeline's watch list)."""

    class Meta:
        index_name = "by_status"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    score = DecimalAttribute(range_key=True)


class WhaleModel(Model):
    class Meta(_Meta):
        table_name = table_name_for("whales")
        region = table_region()

    wallet = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute()
    score = DecimalAttribute(default=_zero)
    resolved_trades = NumberAttribute(default=0)
    wins = NumberAttribute(default=0)
    mean_entry_price = DecimalAttribute(default=_half)
    score_ci_low = DecimalAttribute(null=True)
    edge = DecimalAttribute(null=True)
    edge_ci_low = DecimalAttribute(null=True)
    q_value = DecimalAttribute(null=True)
    dsr = DecimalAttribute(null=True)
    specialties = ListAttribute(of=UnicodeAttribute, default=list)
    status_since = UTCDateTimeAttribute(null=True)
    scored_at = UTCDateTimeAttribute(null=True)
    reasons = ListAttribute(of=UnicodeAttribute, default=list)
    # per market category: {"<category>": {"resolved_trades": n, "wins": k, "mean_entry_price": "0.42"}}
    categories = JSONAttribute(null=True)
    # the scorer's population prior for the sizing posterior (copytrader.scoring.population)
    prior_edge = DecimalAttribute(null=True)
    prior_strength = DecimalAttribute(null=True)
    # the selection split (copytrader.scoring.holdout): what first named the wallet looked at, and when the scorer
    # first selected it
    named_at = UTCDateTimeAttribute(null=True)
    looked_from = UTCDateTimeAttribute(null=True)
    selected_at = UTCDateTimeAttribute(null=True)
    updated_at = UTCDateTimeAttribute()
    by_status = WhaleByStatus()


# --------------------------------------------------------------------------------------------- markets


class MarketModel(Model):
    """A market's static facts and state; `body` holds the validated `copytrader.model.Market` JSON."""

    class Meta(_Meta):
        table_name = table_name_for("markets")
        region = table_region()

    condition_id = UnicodeAttribute(hash_key=True)
    body = JSONAttribute()
    updated_at = UTCDateTimeAttribute()


# ------------------------------------------------------------------------------ whale trades (dedup)


class UnpublishedClaims(GlobalSecondaryIndex["SeenTradeModel"]):
    """Claims not yet accepted by SQS, oldest first. Sparse: only items with `pending` set are in it."""

    class Meta:
        index_name = "unpublished"
        projection = AllProjection()

    pending = UnicodeAttribute(hash_key=True)
    claimed_at = UTCDateTimeAttribute(range_key=True)


class SeenTradeModel(Model):
    """First sighting of each canonical whale trade: the listener's conditional-put dedup record.

    The claim also keeps the trade (`body`) and stays `pending` until SQS has accepted it, so a claim
    whose process died before publishing can be found (`unpublished` index) and published by another.
    """

    class Meta(_Meta):
        table_name = table_name_for("trades")
        region = table_region()

    key = UnicodeAttribute(hash_key=True)
    wallet = UnicodeAttribute()
    source = UnicodeAttribute()
    first_seen_at = UTCDateTimeAttribute()
    claimed_at = UTCDateTimeAttribute()
    body = UnicodeAttribute()
    pending = UnicodeAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    sightings = MapAttribute[str, Any](default=dict)
    expires_at = TTLAttribute()
    unpublished = UnpublishedClaims()


# ------------------------------------------------------------------------ listener high-water marks


class WatermarkModel(Model):
    """The Data API poller's high-water mark per wallet (`copytrader.listener.high_water`).

    `floor` and `newest` are epoch seconds; `recent` maps the identities of rows seen at or after the
    floor to their timestamps, so rows sharing a second are neither lost nor re-emitted after a restart.
    """

    class Meta(_Meta):
        table_name = table_name_for("watermarks")
        region = table_region()

    wallet = UnicodeAttribute(hash_key=True)
    floor = NumberAttribute()
    newest = NumberAttribute()
    recent = MapAttribute[str, Any](default=dict)
    updated_at = UTCDateTimeAttribute()


# ------------------------------------------------------------------------------------ whale stances


class StanceModel(Model):
    """Each tracked wallet's latest view per market, grouped for the conflict check (`copytrader.copying.conflicts`).

    Partition `group` (`negrisk:<id>` or `market:<condition_id>`), sort `member` = `<condition_id>#<wallet>`: one
    query reads every stance of a group; a newer trade replaces the pair's item (an older one never does). Items
    expire with the conflict window (`expires_at`); readers filter by `at` too, TTL deletion being lazy.
    """

    class Meta(_Meta):
        table_name = table_name_for("stances")
        region = table_region()

    group = UnicodeAttribute(hash_key=True)
    member = UnicodeAttribute(range_key=True)
    condition_id = UnicodeAttribute()
    wallet = UnicodeAttribute()
    direction = NumberAttribute()
    score = DecimalAttribute(default=_zero)
    at = UTCDateTimeAttribute()
    trade_key = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()


# ------------------------------------------------------------------------------------- price marks


class MarkModel(Model):
    """The latest price mark of one token we hold (`copytrader.model.Mark`), written by the listener
    (`copytrader.listener.marks_writer`: at most once per token per `write_every_s`, sooner on a material move) and
    read by the Lambdas in one BatchGetItem (`copytrader.store.marks`). Expires a day after its last write."""

    class Meta(_Meta):
        table_name = table_name_for("marks")
        region = table_region()

    token_id = UnicodeAttribute(hash_key=True)
    bid = DecimalAttribute(null=True)
    ask = DecimalAttribute(null=True)
    last_trade = DecimalAttribute(null=True)
    at = UTCDateTimeAttribute()
    source = UnicodeAttribute()
    written_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
