"""Limits shared by the copy decision and the sizing: the worst price we accept and the largest stake a mode allows.

Both steps must agree on them (the decision skips a trade whose market minimum cannot fit; the sizing never
exceeds them), so they live in one place that imports neither step.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from copytrader.model import Side, WhaleStatus
from copytrader.money import ONE
from copytrader.settings import FilterSettings, SizingMode, SizingSettings

HALF = Decimal("0.5")


def drift_limit_price(side: Side, whale_price: Decimal, tick: Decimal, filters: FilterSettings) -> Decimal:
    """Worst price we accept: the whale's price moved against us by the tighter of the two drift caps.

    BUY: whale + min(abs, rel x whale), floored to the tick; SELL: whale - min(...), ceiled to the tick.
    Clamped to [tick, 1 - tick], the CLOB's valid price range.
    """
    allowance = min(filters.max_drift_abs, filters.max_drift_rel * whale_price)
    if side is Side.BUY:
        raw = whale_price + allowance
        limit = (raw / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
    else:
        raw = whale_price - allowance
        limit = (raw / tick).to_integral_value(rounding=ROUND_CEILING) * tick
    return min(max(limit, tick), ONE - tick)


def status_multiplier(status: WhaleStatus, sizing: SizingSettings) -> Decimal:
    """Stake multiplier by whale status: `probation_multiplier` for PROBATION (the Deflated Sharpe test is not yet
    passed, so the selection is less certain), 1 otherwise."""
    return sizing.probation_multiplier if status is WhaleStatus.PROBATION else ONE


def mode_stake(whale_notional: Decimal, sizing: SizingSettings) -> Decimal | None:
    """The stake a non-Kelly mode asks for before caps: `fixed_notional`, or `proportional_ratio` x the whale's
    notional; None in Kelly mode (the stake depends on the executable price, see copytrader.copying.sizing)."""
    if sizing.mode is SizingMode.FIXED:
        return sizing.fixed_notional
    if sizing.mode is SizingMode.PROPORTIONAL:
        return sizing.proportional_ratio * whale_notional
    return None


def stake_ceiling(whale_notional: Decimal, status: WhaleStatus, sizing: SizingSettings) -> Decimal:
    """Most pUSD any mode spends on one copy: min(m x stake, max_trade_notional), m the status multiplier and stake
    the mode's (Kelly: unbounded, so the cap alone)."""
    stake = mode_stake(whale_notional, sizing)
    if stake is None:
        return sizing.max_trade_notional
    return min(status_multiplier(status, sizing) * stake, sizing.max_trade_notional)


__all__ = ["drift_limit_price", "mode_stake", "stake_ceiling", "status_multiplier"]
