"""One wallet's stage-1 evidence as a record: `WalletEvidence` and its per-category `CategoryEdge`.

The figures are computed by `copytrader.scoring.evidence` (its docstring gives each statistic's formula) and read
by stage 2 (`copytrader.scoring.universe`). NaN marks an undefined statistic. `as_record` makes the JSON each
evidence batch writes and stage 2 reads back (`copytrader.scoring.engine.universe_from_records`): non-finite
floats become null, tuples become lists, the categories plain dicts; `from_record` reverses it (a null float field
becomes NaN again).
"""

from __future__ import annotations

import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class CategoryEdge:
    trades: int
    edge: float
    z: float
    # resolved decisive BUYs in the category, their wins and summed entry prices (the sizing's category posterior)
    buys: int = 0
    wins: int = 0
    paid: float = 0.0


@dataclass(frozen=True)
class WalletEvidence:
    """One wallet's stage-1 figures (JSON-ready through `as_record`); NaN marks an undefined statistic."""

    wallet: str
    trades: int
    legs: int
    scored_trades: int
    markets: int
    scored_markets: int
    events: int
    effective_events: float
    first_trade: int
    last_trade: int
    volume_usdc: float
    pnl_usdc: float
    realized_trading_usdc: float
    resolution_usdc: float
    fees_usdc: float
    open_basis_usdc: float
    unrealized_usdc: float
    pre_window_sell_shares: float
    pre_window_sell_usdc: float
    edge: float
    edge_net: float
    z: float
    p_value: float
    edge_ci_low: float
    edge_ci_high: float
    edge_ci_dropped: int
    block_length_days: float
    ewma_edge_30d: float
    ewma_edge_90d: float
    ewma_net_edge_90d: float
    ewma_net_edge_90d_var: float
    n_eff_90d: float
    ewma_return_30d: float
    ewma_return_90d: float
    scored_buys: int
    wins: int
    win_rate: float
    breakeven_win_rate: float
    days: int
    sharpe_daily: float
    sharpe_annual: float
    sharpe_annual_ci_low: float
    sharpe_annual_ci_high: float
    sortino_annual: float
    skew: float
    kurtosis: float
    max_drawdown_usdc: float
    holding_hours: float
    round_trip: float
    two_sided: float
    trades_per_day: float
    interval_cv: float
    hour_entropy: float
    market_maker: bool
    bot: bool
    categories: dict[str, CategoryEdge] = field(default_factory=dict)
    specialties: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    redeemed_usdc: float = 0.0  # REDEEM cash seen in /activity (audit against resolution_usdc)
    rewards_usdc: float = 0.0  # rewards and maker rebates: income that is not trading P&L
    conversions: int = 0  # neg-risk conversions (not modelled)
    # the unit of evidence is the event (copytrader.scoring.event_keys): G of the edge test, and the per-event
    # returns the Sharpe inference uses (copytrader.scoring.event_returns; NaN with fewer than two events)
    independent_events: int = 0
    event_returns: int = 0
    sharpe_event: float = math.nan
    skew_event: float = math.nan
    kurtosis_event: float = math.nan
    # the selection split (copytrader.scoring.holdout): what named the wallet looked at, [looked_from, named_at],
    # the events it saw (left out of every figure above), and the evidence collected after the wallet was selected
    named_at: int | None = None
    looked_from: int | None = None
    selected_at: int | None = None
    in_sample_events: int = 0
    post_selection_events: int = 0
    post_selection_p: float = math.nan

    @classmethod
    def empty(cls, wallet: str) -> WalletEvidence:
        """A wallet with no trade to test: counts 0, figures undefined (NaN), money 0."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.default is not MISSING or f.default_factory is not MISSING or f.name == "wallet":
                continue
            kind = f.type
            values[f.name] = 0 if kind == "int" else False if kind == "bool" else math.nan
        money = {n: 0.0 for n in values if n.endswith("_usdc") or n.endswith("_shares")}
        return cls(wallet=wallet, **(values | money))

    def as_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["categories"] = {k: asdict(v) for k, v in self.categories.items()}
        record["specialties"] = list(self.specialties)
        record["flags"] = list(self.flags)
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> WalletEvidence:
        values = dict(record)
        values["categories"] = {k: CategoryEdge(**v) for k, v in (values.get("categories") or {}).items()}
        values["specialties"] = tuple(values.get("specialties") or ())
        values["flags"] = tuple(values.get("flags") or ())
        floats = {f for f, t in cls.__annotations__.items() if t == "float"}
        for name in floats:
            if values.get(name) is None:
                values[name] = math.nan
        return cls(**values)
