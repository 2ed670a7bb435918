"""The one configuration model: risk limits, sizing, filters, mode, endpoints.

Sources, later ones overriding earlier ones:
  1. the defaults below;
  2. a JSON file named by `COPYTRADER_SETTINGS_FILE` (or passed to `load_settings(path=...)`);
  3. an SSM parameter (a JSON string) named by `COPYTRADER_SETTINGS_SSM`;
  4. environment variables `COPYTRADER_<FIELD>`, nested with a double underscore:
     `COPYTRADER_RISK__MAX_MARKET_EXPOSURE=250`, `COPYTRADER_SIZING__KELLY_FRACTION=0.2`.

An invalid value raises `SettingsError` whose message names the field, the value and the allowed
range, e.g. `sizing.kelly_fraction = 1.5: must be <= 1 (allowed: 0 < x <= 1)`.
Paper trading is the default; live trading needs `mode=live` *and* `live_confirmed=true`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from copytrader.errors import SettingsError
from copytrader.exit_settings import ExitSettings
from copytrader.model import OrderType
from copytrader.scoring_settings import ScoringSettings
from copytrader.settings_base import Dec
from copytrader.settings_base import Section as _Section

ENV_PREFIX = "COPYTRADER_"
CONNECT_TIMEOUT_CAP_S = 3.0  # the CLOB client's connect timeout: min(read timeout, this) (execution.clob_session)
RECONCILE_MARGIN_S = 60  # venue.reconcile_after_s >= the longest order send + this (see VenueSettings)


PAPER_ACCOUNT = "paper"  # the default account; live mode must use another (its cash is the wallet's)


class Mode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class SizingMode(StrEnum):
    KELLY = "kelly"  # fractional Kelly on the whale's Beta-posterior win probability
    FIXED = "fixed"  # a fixed pUSD notional per copy
    PROPORTIONAL = "proportional"  # a fixed ratio of the whale's notional


class ConflictPolicy(StrEnum):
    """What to do when tracked whales hold opposite sides of one market (copytrader.copying.conflicts)."""

    SKIP = "skip"  # any opposing stance: skip (reason conflicting_whales)
    FOLLOW_HIGHER = "follow_higher"  # copy only if this whale's score beats every opposing whale's
    NET = "net"  # copy only if the score-weighted net direction agrees with this trade


EXPRESS_MAX_S = 300  # an Express Step Functions execution (score -> execute) ends within 5 minutes


class RiskLimits(_Section):
    max_market_exposure: Dec = Field(Decimal(500), gt=0, description="pUSD at cost per market (condition id)")
    max_total_exposure: Dec = Field(Decimal(5000), gt=0, description="pUSD at cost across all open positions")
    daily_loss_limit: Dec = Field(Decimal("0.05"), gt=0, le=1, description="fraction of start-of-day equity")
    stop_loss: Dec = Field(Decimal("0.15"), gt=0, le=1, description="per-position loss fraction (exits)")
    kill_switch: bool = Field(False, description="halt all new orders at once")
    max_group_exposure: Dec = Field(
        Decimal(1000), gt=0, description="pUSD at cost per event or neg-risk group (model.risk_group_of)"
    )
    max_category_exposure: Dec = Field(Decimal(2500), gt=0, description="pUSD at cost per market category")
    max_whale_exposure: Dec = Field(Decimal(1500), gt=0, description="pUSD at cost opened by copying one wallet")
    max_open_orders: int = Field(20, ge=1, le=10000, description="BUY reservations not yet settled")
    max_orders_per_minute: int = Field(30, ge=1, le=100000, description="approved orders per UTC minute")
    max_drawdown: Dec = Field(
        Decimal("0.20"), gt=0, lt=1, description="halt BUYs when equity < (1 - x) x equity high-water mark"
    )
    orphan_reservation_after_s: int = Field(
        900,
        ge=EXPRESS_MAX_S + 60,
        le=86400,
        description="the sweep gives back a reservation no ledger entry owns once it is this old (see Settings)",
    )
    mark_max_age_s: int = Field(
        120, ge=5, le=86400, description="a price mark older than this is stale: valued at its last trade, flagged"
    )

    @model_validator(mode="after")
    def _nested_caps(self) -> RiskLimits:
        """A market lies in one group and one category, and every cap is part of the total."""
        for small, large in (
            ("max_market_exposure", "max_group_exposure"),
            ("max_market_exposure", "max_category_exposure"),
            ("max_group_exposure", "max_total_exposure"),
            ("max_category_exposure", "max_total_exposure"),
            ("max_whale_exposure", "max_total_exposure"),
        ):
            if getattr(self, small) > getattr(self, large):
                raise ValueError(f"{small} ({getattr(self, small)}) must not exceed {large} ({getattr(self, large)})")
        return self


class SizingSettings(_Section):
    mode: SizingMode = SizingMode.KELLY
    kelly_fraction: Dec = Field(Decimal("0.25"), gt=0, le=1)
    max_trade_notional: Dec = Field(Decimal(100), gt=0, description="pUSD cap per copy (1% of the paper bankroll)")
    fixed_notional: Dec = Field(Decimal(50), gt=0, description="pUSD per copy in fixed mode")
    proportional_ratio: Dec = Field(Decimal("0.1"), gt=0, le=10, description="copy/whale notional ratio")
    prior_strength: Dec = Field(
        Decimal(30), gt=0, le=10000, description="Beta prior pseudo-trades centred on no skill (shrinkage)"
    )
    min_edge: Dec = Field(Decimal("0.01"), ge=0, lt=1, description="min q - cost per share to trade")
    max_win_probability: Dec = Field(Decimal("0.97"), gt=0, lt=1)
    population_edge: Dec = Field(
        Decimal(0), ge=Decimal("-0.2"), le=Decimal("0.2"), description="prior mean edge per trade of tracked whales"
    )
    category_prior_strength: Dec = Field(
        Decimal(20), gt=0, le=10000, description="pseudo-trades shrinking a category toward the whale's other trades"
    )
    probation_multiplier: Dec = Field(
        Decimal("0.5"), gt=0, le=1, description="stake multiplier for PROBATION whales (DSR not yet passed)"
    )


class FilterSettings(_Section):
    min_price: Dec = Field(Decimal("0.05"), gt=0, lt=1)
    max_price: Dec = Field(Decimal("0.95"), gt=0, lt=1)
    max_spread: Dec = Field(Decimal("0.05"), gt=0, lt=1)
    min_book_depth: Dec = Field(Decimal(25), ge=0, description="pUSD available within the limit price")
    max_drift_abs: Dec = Field(Decimal("0.03"), ge=0, lt=1, description="our price - whale price, absolute")
    max_drift_rel: Dec = Field(Decimal("0.10"), ge=0, lt=10, description="(our - whale) / whale")
    min_time_to_resolution_s: int = Field(900, ge=0, le=30 * 86400)
    max_trade_age_s: int = Field(300, gt=0, le=86400)
    min_whale_notional: Dec = Field(Decimal(10), ge=0, description="pUSD; smaller whale fills are noise")
    min_score_ci_low: Dec = Field(
        Decimal(0), ge=-1, le=1, description="skip whales whose score lower bound is not above this (when scored)"
    )
    conflict_policy: ConflictPolicy = ConflictPolicy.SKIP
    conflict_window_s: int = Field(6 * 3600, gt=0, le=30 * 86400, description="how long a whale's stance counts")

    @model_validator(mode="after")
    def _band(self) -> FilterSettings:
        if self.min_price >= self.max_price:
            raise ValueError(f"min_price ({self.min_price}) must be below max_price ({self.max_price})")
        return self


def _longest_send_s(order_timeout_s: float, paper_latency_ms: int) -> float:
    """The longest one order send can take: the CLOB's connect + read timeouts, or the paper venue's latency."""
    return max(min(order_timeout_s, CONNECT_TIMEOUT_CAP_S) + order_timeout_s, paper_latency_ms / 1000)


class VenueSettings(_Section):
    """The order venue: the live CLOB (copytrader.execution.clob_venue) and the paper venue."""

    chain_id: int = Field(137, description="Polygon mainnet 137 (Amoy 80002)")
    geoblock_url: str = Field("https://polymarket.com", description="host of GET /api/geoblock (preflight)")
    expected_clob_version: int = Field(2, ge=1, le=9, description="GET /version must report this (CLOB V2)")
    order_timeout_s: float = Field(5.0, gt=0, le=30, description="read timeout of POST /order; then UNKNOWN")
    gtd_lifetime_s: int = Field(
        240, ge=200, le=86400, description="GTD expiry = signing time + this (the SDK refuses less than 180 s ahead)"
    )
    paper_latency_ms: int = Field(0, ge=0, le=10000, description="paper venue: the book is read after this delay")
    # Reconciliation books an order the venue does not know as not filled (`never_placed`, reservation released)
    # once its ledger entry is this old. That is safe only when no request for it can still be in flight, so it
    # must exceed the longest send (`longest_send_s`: connect, at most CONNECT_TIMEOUT_CAP_S, plus the read
    # timeout of POST /order; the paper venue's latency) by RECONCILE_MARGIN_S, which covers the time between the
    # entry's timestamp and the request leaving (the ledger write; the execute function's 30 s timeout bounds the
    # whole invocation) and a request the venue is still matching when we stopped waiting. Below that, an order
    # in flight would be booked never_placed, its reservation freed, and the fill that then arrives discarded.
    reconcile_after_s: int = Field(
        120,
        le=3600,
        description="an order the venue does not know is 'never placed' only after this (>= longest send + margin)",
    )
    min_live_balance: Dec = Field(
        Decimal(0), ge=0, description="live: pUSD kept in the wallet outside the account; each BUY must leave it"
    )
    balance_cache_s: float = Field(
        5.0, ge=0, le=60, description="live: a container reuses the wallet balance it read for this long"
    )

    @property
    def longest_send_s(self) -> float:
        return _longest_send_s(self.order_timeout_s, self.paper_latency_ms)

    @field_validator("reconcile_after_s")
    @classmethod
    def _reconcile_after_the_send(cls, value: int, info: ValidationInfo) -> int:
        timeout, latency_ms = info.data.get("order_timeout_s"), info.data.get("paper_latency_ms")
        if timeout is None or latency_ms is None:
            return value  # an earlier field was refused: its error is reported
        send = _longest_send_s(timeout, latency_ms)
        floor = send + RECONCILE_MARGIN_S
        if value < floor:
            raise ValueError(
                f"must be at least the longest order send ({send:g} s) plus a {RECONCILE_MARGIN_S} s margin = "
                f"{floor:g} s, or an order still in flight is booked never_placed and its fill discarded"
            )
        return value


class Settings(_Section):
    mode: Mode = Mode.PAPER
    live_confirmed: bool = Field(False, description="second switch required for live trading")
    paper_bankroll: Dec = Field(Decimal(10000), gt=0, description="starting pUSD for the paper account")
    account: str = Field(PAPER_ACCOUNT, min_length=1, max_length=64)
    order_type: OrderType = OrderType.FAK
    book_levels_kept: int = Field(20, ge=1, le=500)
    clob_url: str = "https://clob.polymarket.com"
    gamma_url: str = "https://gamma-api.polymarket.com"
    http_timeout_s: float = Field(2.0, gt=0, le=30)
    risk: RiskLimits = RiskLimits()
    sizing: SizingSettings = SizingSettings()
    filters: FilterSettings = FilterSettings()
    scoring: ScoringSettings = ScoringSettings()
    venue: VenueSettings = VenueSettings()
    exits: ExitSettings = ExitSettings()

    @model_validator(mode="after")
    def _live_needs_confirmation(self) -> Settings:
        if self.mode is Mode.LIVE and not self.live_confirmed:
            raise ValueError("mode=live also needs live_confirmed=true (paper trading is the default)")
        if self.mode is Mode.LIVE and self.account == PAPER_ACCOUNT:
            raise ValueError(
                f"mode=live needs an account of its own (e.g. account=live): the '{PAPER_ACCOUNT}' account holds paper "
                "cash and positions, and a live account opens from the wallet's balance"
            )
        # FOK/FAK: immediate, the limit price is the slippage guard. GTC/GTD rest at the limit; a GTD order
        # expires venue.gtd_lifetime_s after signing; the reservation stays until the reconciler settles it.
        # A GTC/GTD order still resting when its copy is venue.reconcile_after_s old is cancelled by the sweep. No
        # order heartbeats are sent (the first would arm a cancel-all of the API key's open orders that cannot be
        # disarmed): a resting order relies on its expiry and the sweep, not on a live process (clob_venue).
        if self.order_type not in (OrderType.FOK, OrderType.FAK, OrderType.GTC, OrderType.GTD):
            raise ValueError("order_type must be FOK, FAK, GTC or GTD")
        return self

    @model_validator(mode="after")
    def _orphans_outlive_their_copies(self) -> Settings:
        """A reservation is made by risk_check after the whale's fill; execute begins its ledger entry in the same
        Express execution (at most EXPRESS_MAX_S later), or in a redelivery's, which score lets through only while
        the fill is younger than filters.max_trade_age_s. So no ledger entry can be begun for a reservation older
        than max_trade_age_s + EXPRESS_MAX_S: past that the sweep may give it back. (Safety does not rest on the
        bound: the release and the entry's first write are mutually exclusive in DynamoDB; the bound only keeps
        the sweep from refusing a copy that was about to be placed.)"""
        needed = self.filters.max_trade_age_s + EXPRESS_MAX_S
        if self.risk.orphan_reservation_after_s < needed:
            raise ValueError(
                f"risk.orphan_reservation_after_s ({self.risk.orphan_reservation_after_s}) must be at least "
                f"filters.max_trade_age_s + {EXPRESS_MAX_S} = {needed}"
            )
        return self


def _bounds(field_path: tuple[str, ...]) -> str:
    """Human text for the allowed range of a field, read from its pydantic constraints."""
    model: type[BaseModel] = Settings
    info = None
    for part in field_path:
        info = model.model_fields.get(part)
        if info is None:
            return ""
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    if info is None:
        return ""
    low = high = ""
    for meta in info.metadata:
        for name, symbol in (("gt", "<"), ("ge", "<=")):
            if getattr(meta, name, None) is not None:
                low = f"{getattr(meta, name)} {symbol} "
        for name, symbol in (("lt", "<"), ("le", "<=")):
            if getattr(meta, name, None) is not None:
                high = f" {symbol} {getattr(meta, name)}"
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "one of " + ", ".join(m.value for m in annotation)
    if low or high:
        return f"{low}x{high}"
    return ""


def _format(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = tuple(str(p) for p in item["loc"])
        name = ".".join(loc) or "settings"
        value = item.get("input")
        bounds = _bounds(loc) if loc else ""
        shown = (
            "" if isinstance(value, dict) else f" = {value}" if isinstance(value, Decimal | int) else f" = {value!r}"
        )
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{name}{shown}: {message}" + (f" (allowed: {bounds})" if bounds else ""))
    return "invalid settings:\n  " + "\n  ".join(lines)


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in (f"{ENV_PREFIX}SETTINGS_FILE", f"{ENV_PREFIX}SETTINGS_SSM"):
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if path[0] not in Settings.model_fields:
            continue  # other COPYTRADER_* variables (table names, ...) are not settings
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return out


def _from_ssm(name: str) -> dict[str, Any]:
    import boto3  # only when an SSM parameter is configured

    response = boto3.client("ssm").get_parameter(Name=name, WithDecryption=True)
    loaded = json.loads(response["Parameter"]["Value"])
    if not isinstance(loaded, dict):
        raise SettingsError(f"SSM parameter {name} must hold a JSON object")
    return loaded


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load and validate the settings from defaults, file, SSM and environment (in that order)."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    file_name = path or env.get(f"{ENV_PREFIX}SETTINGS_FILE")
    if file_name:
        try:
            loaded = json.loads(Path(file_name).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SettingsError(f"cannot read settings file {file_name}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise SettingsError(f"settings file {file_name} must hold a JSON object")
        data = _deep_merge(data, loaded)
    if ssm_name := env.get(f"{ENV_PREFIX}SETTINGS_SSM"):
        data = _deep_merge(data, _from_ssm(ssm_name))
    data = _deep_merge(data, _from_env(env))
    if overrides:
        data = _deep_merge(data, overrides)
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_format(exc)) from None
