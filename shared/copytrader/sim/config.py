"""Parameters of the simulated Polymarket: one frozen value fixes a world (same config -> same bytes).

Units: prices and probabilities in (0, 1); logit quantities in natural-log odds; money in pUSD; sizes in
shares; durations in the unit their name says (`_min`, `_s`, `_h`, `_days`).

Calibration of the defaults (measured over seeds 0-23 with tests/unit/sim's method):
- skilled wallets' calibrated edge (won - price) on historical BUYs: mean 0.050 per share (0.034-0.068 by seed);
  noise -0.012, makers about -0.01 (they pay the half-spread), lucky about 0 (see `lucky_survivorship`);
- live day: ~2,900 fills, ~320 of them by the 12 skilled wallets; a copier buying what a skilled wallet bought
  at the ask 1.5-3 s later pays ~0.0055 more per share (the whale's own impact) and, after the taker fee,
  earns +0.035 per share on average (median +0.044), but one day holds only ~40 resolved markets, so the
  day-to-day sd is 0.07 and over a third of days lose; copying everyone else earns -0.018.
The default seed (20) gives a typical day: +0.042 per share copying the skilled wallets, -0.010 the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(frozen=True)
class Category:
    """A market category: its taker fee rate (REFERENCE.md section h) and its share of listed markets."""

    name: str
    fee_rate: float
    weight: float


DEFAULT_CATEGORIES: tuple[Category, ...] = (
    Category("crypto", 0.07, 0.22),
    Category("sports", 0.03, 0.26),
    Category("politics", 0.04, 0.12),
    Category("finance", 0.04, 0.07),
    Category("economics", 0.05, 0.06),
    Category("culture", 0.05, 0.08),
    Category("weather", 0.05, 0.05),
    Category("tech", 0.04, 0.07),
    Category("geopolitics", 0.0, 0.07),
)


@dataclass(frozen=True)
class PriceParams:
    """The price and book model (see `copytrader.sim.prices`).

    True probability: logit(pi) ~ N(0, prior_logit_sd^2), clipped to [pi_min, 1 - pi_min].
    YES mid: m_t = sigmoid(logit(pi) + x_t + I_t), blended toward the outcome in the last `info_window_min`.
    Mispricing x: Ornstein-Uhlenbeck on a 1-minute grid, stationary sd `ou_sd`, half-life `ou_half_life_min`.
    Impact I: each taker fill adds +-`impact_coef` x sqrt(notional in pUSD) to the YES logit, decaying with
    half-life `impact_half_life_s` (makers refilling the book).
    Book: spread uniform in `spread_ticks` ticks; `levels` per side; resting notional per level lognormal with
    median `touch_depth_usd_median` x `size_growth`^k at level k and log-sd `size_sigma`, shown in shares as
    notional / min(p, 1 - p) (deep in shares near 0 and 1); gaps between levels are
    1 + Poisson(`gap_mean_ticks_01` for a 0.01 tick, `gap_mean_ticks_001` for a 0.001 tick) ticks.
    """

    prior_logit_sd: float = 1.3
    pi_min: float = 0.03
    ou_sd: float = 0.3
    ou_half_life_min: float = 180.0
    info_window_min: float = 60.0
    final_mid: float = 0.985
    spread_ticks: tuple[int, int] = (1, 4)
    levels: int = 10
    touch_depth_usd_median: float = 600.0
    size_growth: float = 1.3
    size_sigma: float = 0.7
    gap_mean_ticks_01: float = 0.3
    gap_mean_ticks_001: float = 3.0
    impact_coef: float = 0.002
    impact_half_life_s: float = 900.0


@dataclass(frozen=True)
class KindParams:
    """How one kind of wallet trades (see `copytrader.sim.behaviour`).

    Activity: each wallet draws a daily rate lognormal(log `actions_per_day`, `activity_sigma`); its number of
    actions in a window of d days is Poisson(rate x d). For skilled wallets an action is a *look* at a market
    that becomes a trade only when the wallet sees an edge.
    Size: desired notional per BUY lognormal(log `notional_median`, `notional_sigma`) pUSD, capped at the touch.
    Exits: a BUY is followed by a SELL of a fraction U(`sell_fraction`) of it with probability `sell_prob`,
    after an exponential holding time of mean `hold_mean_min`.
    """

    actions_per_day: float
    activity_sigma: float
    notional_median: float
    notional_sigma: float
    sell_prob: float
    hold_mean_min: float
    sell_fraction: tuple[float, float] = (0.3, 1.0)


@dataclass(frozen=True)
class SkillParams:
    """The skilled wallets' information and decision rule.

    Belief: logit(b) = logit(m) + s (logit(pi) - logit(m)) + belief_noise_logit x eps, skill s ~ U(skill_range).
    Trade: buy YES if b - ask_yes > edge_threshold, else buy NO if (1 - b) - ask_no > edge_threshold.
    Exit: sell a held token only when its best bid exceeds the wallet's valuation of it.
    They stop trading a market `stop_before_end_min` before its end (they know news arrives in the last hour).
    """

    skill_range: tuple[float, float] = (0.6, 1.0)
    belief_noise_logit: float = 0.15
    edge_threshold: float = 0.02
    stop_before_end_min: float = 75.0


@dataclass(frozen=True)
class AdversaryParams:
    """How the adversary kinds trade (`copytrader.sim.adversaries`; their counts are `SimConfig.n_hedged`,
    `n_insiders`, `n_selected_lucky`, 0 by default)."""

    hedged_events_per_day: float = 2.0
    hedged_notional_median: float = 100.0
    insider_fills: tuple[int, int] = (10, 30)
    insider_notional_median: float = 2000.0
    selected_draws: int = 20
    selected_bets_per_day: float = 5.0
    selected_notional_median: float = 200.0
    notional_sigma: float = 0.8


@dataclass(frozen=True)
class SimConfig:
    """Everything that defines a simulated world; `build_world(SimConfig(seed=s))` is a pure function of it.

    Population: `n_skilled` informed wallets, `n_lucky` heavy noise traders (large, frequent bets with a tilt
    toward longshots: no skill but the largest volume and the widest P&L spread; each one's history is the
    best of `lucky_survivorship` independent draws, the survivorship that puts lucky gamblers on leaderboards,
    so a raw-P&L ranking is easily fooled), `n_makers` two-sided round-trippers, and the rest small noise
    traders.
    Markets: `n_markets_live` open at `day_start` (a share `share_after_day` ends after the day and stays
    unresolved), `n_markets_per_history_day` ending on each of the `history_days` before it. A share
    `neg_risk_share` of markets belongs to neg-risk events of `neg_risk_group_sizes` members whose true
    probabilities sum to 1 (Dirichlet(`neg_risk_alpha`)) with exactly one winner.
    A market stops accepting orders at its end and resolves U(`resolution_delay_min`) minutes later.
    Feed: each live trade is seen by the listener U(`feed_latency_s`) seconds after its block time.
    Adversaries (history only, none by default): `n_hedged` two-leg hedgers, `n_insiders` one-event lucky wallets
    and `n_selected_lucky` leaderboard survivors, beyond the `n_wallets` above (copytrader.sim.adversaries).
    """

    seed: int = 20
    n_wallets: int = 400
    n_skilled: int = 12
    n_makers: int = 4
    n_lucky: int = 4
    n_markets_live: int = 48
    n_markets_per_history_day: int = 48
    history_days: int = 30
    day_start: datetime = datetime(2026, 11, 2, tzinfo=UTC)
    categories: tuple[Category, ...] = DEFAULT_CATEGORIES
    # (tick as a decimal string, share of events)
    tick_sizes: tuple[tuple[str, float], ...] = (("0.01", 0.85), ("0.001", 0.15))
    min_order_size: int = 5
    neg_risk_share: float = 0.3
    neg_risk_group_sizes: tuple[int, int] = (3, 5)
    neg_risk_alpha: float = 1.5
    share_after_day: float = 0.2
    resolution_delay_min: tuple[float, float] = (5.0, 30.0)
    feed_latency_s: tuple[float, float] = (1.5, 3.0)
    prices: PriceParams = field(default_factory=PriceParams)
    skill: SkillParams = field(default_factory=SkillParams)
    skilled: KindParams = field(
        default_factory=lambda: KindParams(
            actions_per_day=50.0,
            activity_sigma=0.3,
            notional_median=150.0,
            notional_sigma=0.6,
            sell_prob=0.3,
            hold_mean_min=120.0,
        )
    )
    noise: KindParams = field(
        default_factory=lambda: KindParams(
            actions_per_day=3.0,
            activity_sigma=1.0,
            notional_median=15.0,
            notional_sigma=1.0,
            sell_prob=0.15,
            hold_mean_min=240.0,
        )
    )
    lucky: KindParams = field(
        default_factory=lambda: KindParams(
            actions_per_day=20.0,
            activity_sigma=0.2,
            notional_median=1500.0,
            notional_sigma=0.8,
            sell_prob=0.25,
            hold_mean_min=240.0,
        )
    )
    maker: KindParams = field(
        default_factory=lambda: KindParams(
            actions_per_day=60.0,
            activity_sigma=0.2,
            notional_median=25.0,
            notional_sigma=0.5,
            sell_prob=0.8,
            hold_mean_min=5.0,
            sell_fraction=(1.0, 1.0),
        )
    )
    lucky_longshot_prob: float = 0.8
    lucky_survivorship: int = 2
    # adversaries of the selection (copytrader.sim.adversaries), in addition to the n_wallets above; none by
    # default, and a world without them is byte for byte the world it was before they existed
    n_hedged: int = 0
    n_insiders: int = 0
    n_selected_lucky: int = 0
    adversaries: AdversaryParams = field(default_factory=AdversaryParams)
    # when the simulated discovery names every wallet, in days into the history (None: a third of it): the
    # leaderboard survivors are the best by P&L resolved before it, and the scorer's selection split
    # (copytrader.scoring.holdout) tests only what the wallets did after it
    named_after_days: float | None = None

    @property
    def named_at(self) -> datetime:
        """When the simulated discovery named the wallets (`named_after_days` into the history)."""
        days = self.history_days / 3 if self.named_after_days is None else self.named_after_days
        return self.day_start - timedelta(days=self.history_days - days)

    def __post_init__(self) -> None:
        special = self.n_skilled + self.n_makers + self.n_lucky
        if min(self.n_skilled, self.n_makers, self.n_lucky) < 0 or special >= self.n_wallets:
            raise ValueError(f"need 0 <= skilled + makers + lucky ({special}) < n_wallets ({self.n_wallets})")
        if min(self.n_markets_live, self.n_markets_per_history_day, self.history_days, self.lucky_survivorship) < 1:
            raise ValueError("need live markets, history days with markets, and lucky_survivorship >= 1")
        if min(self.n_hedged, self.n_insiders, self.n_selected_lucky) < 0 or self.adversaries.selected_draws < 1:
            raise ValueError("adversary counts are >= 0 and a leaderboard survivor is the best of >= 1 draws")
        if self.named_after_days is not None and not 0 <= self.named_after_days <= self.history_days:
            raise ValueError("the wallets are named within the history: 0 <= named_after_days <= history_days")
        if self.day_start.tzinfo is None:
            raise ValueError("day_start must carry a timezone")
        if not self.categories or any(c.fee_rate < 0 or c.weight <= 0 for c in self.categories):
            raise ValueError("categories need positive weights and non-negative fee rates")
        low, high = self.neg_risk_group_sizes
        if not 2 <= low <= high:
            raise ValueError("neg-risk groups have at least two members")
        if not 0 <= self.neg_risk_share <= 1 or not 0 <= self.share_after_day <= 1:
            raise ValueError("shares lie in [0, 1]")
