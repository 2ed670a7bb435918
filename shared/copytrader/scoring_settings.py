"""The scoring workflow's settings (`Settings.scoring`, read by `copytrader.scoring`), in a module of their own so
the settings model stays readable; loaded and validated with every other setting (`copytrader.settings`)."""

from __future__ import annotations

from pydantic import Field, model_validator

from copytrader.settings_base import Section as _Section


class ScoringSettings(_Section):
    """Whale scoring and selection (copytrader.scoring); statistics are floats, not money."""

    top_n: int = Field(50, ge=1, le=1000, description="largest tracked set")
    fdr_q: float = Field(0.10, gt=0, lt=0.5, description="Benjamini-Yekutieli false-discovery rate (any dependence)")
    confidence: float = Field(0.95, ge=0.5, lt=1, description="level of one-sided lower bounds and CIs")
    dsr_active: float = Field(0.95, ge=0, le=1, description="Deflated Sharpe needed for ACTIVE (else PROBATION)")
    min_scored_trades: int = Field(20, ge=2, le=100000, description="resolved trades before a wallet is tested")
    min_markets: int = Field(8, ge=1, le=100000, description="distinct resolved markets before a wallet is tested")
    min_days: int = Field(5, ge=2, le=3650, description="calendar days of P&L before a Sharpe ratio counts")
    halflife_short_days: float = Field(30.0, gt=0, le=3650)
    halflife_long_days: float = Field(90.0, gt=0, le=3650, description="the recency weighting of the score")
    slippage: float = Field(0.005, ge=0, lt=0.5, description="pUSD per share a copy pays beyond the whale's price")
    bootstrap_reps: int = Field(1000, ge=100, le=100000)
    seed: int = Field(0, ge=0, description="bootstrap random seed (results are reproducible)")
    periods_per_year: int = Field(365, ge=1, le=366, description="calendar days: Polymarket trades every day")
    mm_round_trip: float = Field(0.5, ge=0, le=10, description="market maker: sold / bought shares at least")
    mm_holding_hours: float = Field(6.0, gt=0, description="market maker: mean holding time at most")
    mm_two_sided: float = Field(0.25, ge=0, le=1, description="market maker: share of markets traded both ways")
    bot_trades_per_day: float = Field(200.0, gt=0, description="bot: trades per active day at least")
    bot_min_trades: int = Field(100, ge=10, description="bot tests need this many trades")
    bot_interval_cv: float = Field(0.2, ge=0, description="bot: coefficient of variation of gaps at most")
    bot_hour_entropy: float = Field(0.985, ge=0, le=1, description="bot: normalised hour-of-day entropy at least")
    cull_cooldown_days: int = Field(30, ge=0, le=3650, description="a culled wallet stays culled this long")
    min_independent_events: int = Field(
        10, ge=2, le=100000, description="distinct resolved events (copytrader.scoring.event_keys) before a test"
    )

    @model_validator(mode="after")
    def _halflives(self) -> ScoringSettings:
        if self.halflife_short_days > self.halflife_long_days:
            raise ValueError("halflife_short_days must not exceed halflife_long_days")
        return self
