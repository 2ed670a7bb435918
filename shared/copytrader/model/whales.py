"""What the copy pipeline knows about a wallet: its status and the evidence behind its edge."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field, model_validator

from copytrader.model.types import Address, Frozen, Probability, UtcTime


class WhaleStatus(StrEnum):
    CANDIDATE = "candidate"
    PROBATION = "probation"
    ACTIVE = "active"
    PAUSED = "paused"
    CULLED = "culled"


COPYABLE_STATUSES = frozenset({WhaleStatus.ACTIVE, WhaleStatus.PROBATION})


class CategoryRecord(Frozen):
    """A whale's resolved BUYs in one market category: the inputs of the category posterior
    (copytrader.copying.posterior)."""

    resolved_trades: int = Field(default=0, ge=0)
    wins: int = Field(default=0, ge=0)
    mean_entry_price: Probability = Decimal("0.5")

    @model_validator(mode="after")
    def _wins_le_trades(self) -> CategoryRecord:
        if self.wins > self.resolved_trades:
            raise ValueError("wins cannot exceed resolved_trades")
        return self


class WhaleProfile(Frozen):
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
    # calibrated edge per trade (outcome - price) and its bootstrap lower bound; Benjamini-Yekutieli q-value;
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
    # the selection split (copytrader.scoring.holdout): when discovery first named the wallet and where the look
    # of what named it began (None: all of its history before), and when the scorer first selected it (None: not
    # selected now); the scorer tests only what these could not have seen, and promotes on what came after selection
    named_at: UtcTime | None = None
    looked_from: UtcTime | None = None
    selected_at: UtcTime | None = None

    @model_validator(mode="after")
    def _wins_le_trades(self) -> WhaleProfile:
        if self.wins > self.resolved_trades:
            raise ValueError("wins cannot exceed resolved_trades")
        return self
