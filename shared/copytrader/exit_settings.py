"""The exit rules' settings (`Settings.exits`, read by `copytrader.copying.exits`), in a module of their own so the
settings model stays readable; loaded and validated with every other setting (`copytrader.settings`)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from copytrader.settings_base import Dec
from copytrader.settings_base import Section as _Section


class CullPolicy(StrEnum):
    HOLD = "hold"  # keep what a culled whale's copies built (its other exits still apply)
    EXIT = "exit"  # sell its part of every position
    EXIT_IF_LOSING = "exit_if_losing"  # sell its part where the bid is below our average cost


class ExitSettings(_Section):
    """The exit rules (copytrader.copying.exits); the stop at entry is `risk.stop_loss`."""

    take_profit: Dec | None = Field(
        None,
        gt=0,
        description="sell when the bid >= average cost x (1 + this); off by default (holding to resolution "
        "keeps the whale's edge; a target only cuts winners)",
    )
    trailing_stop: Dec | None = Field(
        Decimal("0.25"),
        gt=0,
        lt=1,
        description="sell when the bid <= its high-water mark x (1 - this), once that mark "
        "is above our average cost (below it the stop-loss is the rule); None: off",
    )
    exit_before_end_s: int = Field(3 * 3600, ge=0, le=7 * 86400, description="leave this long before the end date")
    uma_exit_statuses: tuple[str, ...] = Field(
        ("proposed", "disputed"), description="Gamma umaResolutionStatus values on which we leave the market"
    )
    cull_policy: CullPolicy = CullPolicy.EXIT_IF_LOSING
    max_mark_age_s: int = Field(120, gt=0, le=3600, description="a price rule acts only on a bid younger than this")
    whale_positions_url: str | None = Field(
        None,
        description="the Data API asked for a whale's position when we observed none of its trades in a token "
        "(e.g. https://data-api.polymarket.com); None: not asked, such a SELL is a full exit of its part",
    )
    max_slippage: Dec = Field(
        Decimal("0.05"), ge=0, lt=1, description="an exit's limit price: the bid that fired it less this (floored)"
    )


__all__ = ["CullPolicy", "ExitSettings"]
