"""Stage 2 of scoring: compare wallets, correct for multiple testing, shrink, select and assign statuses.

Given every candidate's stage-1 evidence (`copytrader.scoring.evidence`):
1. Eligibility: enough resolved trades, markets and independent events to test (`min_scored_trades`,
   `min_markets`, `min_independent_events`: the unit of evidence is the event, copytrader.scoring.event_keys), and
   not screened out as a market maker or bot. Ineligible wallets stay candidates, with the reason; a wallet short
   of events carries the named reason `insufficient_events` ("not enough independent evidence").
2. False discoveries: the eligible wallets' one-sided p-values of "no calibrated edge" (the event-clustered t test,
   copytrader.scoring.edge) go through Benjamini-Yekutieli at `fdr_q` (copytrader.stats.multiple_testing), valid
   under any dependence between wallets (they trade the same outcomes, buyers and sellers of one token are
   negatively dependent: outside Benjamini-Hochberg's guarantee). m = `trials`, every wallet screened (default:
   every wallet given; the untested count as p = 1), written in the summary; `q_value` is the BY-adjusted p-value.
3. Shrinkage: each wallet's recency-weighted (90-day half-life) *net* edge - what a follower keeps after the taker
   fee and slippage - is shrunk toward the eligible population by nonparametric empirical Bayes: the prior is
   the NPMLE fitted to all eligible wallets' estimates and sampling variances (max of cluster-robust and null;
   copytrader.stats.shrinkage). A normal prior (DerSimonian-Laird, reported in the summary for comparison) is the
   wrong shape when skill is sparse: it pulls the few real edges into the crowd. The composite score is the
   posterior mean: recency, costs, the wallet's own evidence and the population's are combined by the model, not
   by hand-picked weights. `score_ci_low` is the posterior (1 - confidence) quantile, so score_ci_low > 0 means
   P(net edge <= 0 | data) < 1 - confidence (a local false sign rate; Stephens 2017, Biostatistics 18(2):275-294);
   it is capped by the posterior mean and by the wallet's own bound y - Phi^-1(confidence) sqrt(v): the population
   may pull a wallet's bound down but never make it surer than its own data (the NPMLE puts an atom on an isolated
   leader, whose posterior is then too narrow).
   Plug-in: the fitted prior is treated as known.
4. Deflated Sharpe on per-event returns (one return per resolved event, copytrader.scoring.event_returns; not the
   zero-filled daily P&L, where one winning day looks like a lottery the skew term rewards): T = the wallet's
   events, N = `trials` (every wallet screened); DSR = PSR(SR0) (copytrader.stats.sharpe_inference). Wallets
   have different numbers of events T, so the trials are compared on the standardised scale s = SR sqrt(T - 1)
   (under no skill about N(0, 1) whatever T): V_s = the cross-sectional variance (ddof 1) of the eligible
   wallets' s, SR0_s = expected_max_sharpe(N, V_s), and wallet i's benchmark SR0_i = SR0_s / sqrt(T_i - 1).
   With equal T this is exactly Bailey & Lopez de Prado's SR0 = sqrt(V) E[max] (V = V_s / (T - 1)); with
   unequal T the raw cross-sectional variance of SR would be dominated by the short records' sampling noise and
   set one benchmark far above any long record's reach. The skew / kurtosis
   adjustment is used only with at least MIN_EVENTS_FOR_MOMENTS events (sample skew and kurtosis of fewer binary
   outcomes are noise); below it the normal-returns form (skew 0, kurtosis 3). Fewer than two events: undefined,
   so a one-winning-event wallet never reaches ACTIVE. PSR against 0 is reported too.
5. Selection: eligible, discovered by BY, and score_ci_low > 0; ranked by score_ci_low; at most `top_n`.
   Status ACTIVE when DSR >= `dsr_active` AND the evidence collected after the wallet was selected confirms it:
   at least `min_independent_events` events entered after `selected_at` (copytrader.scoring.holdout), whose
   event-clustered edge test passes Benjamini-Yekutieli at `fdr_q` among the selected wallets (m = the number
   selected: the confirmatory family). Else PROBATION (copied at the probation stake, with the reason). A wallet
   selected for the first time is always PROBATION: the history that selected it cannot also promote it. Everyone
   else is a CANDIDATE. "Nobody qualifies" is a normal answer.

All of the above is computed on each wallet's test sample when its evidence carries a selection window
(copytrader.scoring.holdout: the events that whatever named the wallet could not have seen); the summary says
whether the run had windows (`split`), how many events they kept out (`in_sample_events`) and how many named
wallets had no test sample left (`without_test_sample`, counted in `trials` and reported `insufficient_events`).
6. Statuses set by the decay monitor are respected: PAUSED stays paused; CULLED stays culled for
   `cull_cooldown_days`, after which the wallet is judged afresh.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import ndtri

from copytrader.model import WhaleStatus
from copytrader.scoring.edge import EDGE_TEST_NAME
from copytrader.scoring.evidence_record import WalletEvidence
from copytrader.scoring_settings import ScoringSettings
from copytrader.stats.multiple_testing import by_adjusted
from copytrader.stats.sharpe_inference import expected_max_sharpe, probabilistic_sharpe_ratio
from copytrader.stats.shrinkage import dersimonian_laird, npmle_prior

SECONDS_PER_DAY = 86_400
MIN_EVENTS_FOR_MOMENTS = 30  # per-event returns needed before the PSR's skew / kurtosis terms are used
INSUFFICIENT_EVENTS = "insufficient_events"  # the named reason: not enough independent evidence


@dataclass(frozen=True)
class PriorStatus:
    """A wallet's status before this run and since when (epoch seconds)."""

    status: WhaleStatus
    since: int


@dataclass(frozen=True)
class ScoredWallet:
    evidence: WalletEvidence
    eligible: bool
    q_value: float
    discovered: bool
    shrinkage: float  # B = v / (v + tau^2): the weight on the population
    score: float
    score_ci_low: float
    psr: float
    dsr: float
    selected: bool
    rank: int | None  # 1-based among the selected
    status: WhaleStatus
    reasons: tuple[str, ...]
    lacks_evidence: str | None = None  # INSUFFICIENT_EVENTS when short of independent events, else None
    trials: int = 0  # every wallet screened: the m of the false-discovery control and the N of the DSR
    post_selection_q: float = math.nan  # BY over the selected wallets' post-selection p-values
    confirmed: bool = False  # the evidence collected after selection confirms the edge (needed for ACTIVE)

    def as_record(self) -> dict[str, Any]:
        """The evidence plus the stage-2 figures, JSON-ready (NaN -> None)."""
        record = self.evidence.as_record()
        extra: dict[str, Any] = {
            "eligible": self.eligible,
            "q_value": self.q_value,
            "discovered": self.discovered,
            "shrinkage": self.shrinkage,
            "score": self.score,
            "score_ci_low": self.score_ci_low,
            "psr": self.psr,
            "dsr": self.dsr,
            "selected": self.selected,
            "rank": self.rank,
            "status": self.status.value,
            "reasons": list(self.reasons),
            "evidence_reason": self.lacks_evidence,
            "trials": self.trials,
            "test": self.test(),
            "post_selection_q": self.post_selection_q,
            "confirmed": self.confirmed,
        }
        record.update({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in extra.items()})
        return record

    def test(self) -> dict[str, Any]:
        """The edge test as run: its name, statistic and degrees of freedom (G - 1), and its one-sided p-value;
        statistic, df and p are None when the wallet has fewer than two events (the test is undefined)."""
        e = self.evidence
        defined = e.independent_events >= 2 and math.isfinite(e.z) and math.isfinite(e.p_value)
        return {
            "name": EDGE_TEST_NAME,
            "statistic": e.z if defined else None,
            "df": e.independent_events - 1 if defined else None,
            "p_value": e.p_value if defined else None,
        }


@dataclass(frozen=True)
class Universe:
    wallets: list[ScoredWallet]
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def selected(self) -> list[ScoredWallet]:
        return sorted((w for w in self.wallets if w.selected), key=lambda w: w.rank or 0)

    def ranking(self) -> list[ScoredWallet]:
        """Every wallet: the selected in rank order, then the rest by best lower bound (undefined bounds last; a
        wallet with a positive bound that false-discovery control did not pass ranks below every selected one),
        ties by address."""
        return sorted(
            self.wallets,
            key=lambda w: (
                not w.selected,
                w.rank or 0,
                not math.isfinite(w.score_ci_low),
                -w.score_ci_low if math.isfinite(w.score_ci_low) else 0.0,
                w.evidence.wallet,
            ),
        )


def _f(values: Sequence[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def score_universe(
    evidence: Sequence[WalletEvidence],
    config: ScoringSettings,
    *,
    as_of: int,
    prior: Mapping[str, PriorStatus] | None = None,
    trials: int | None = None,
) -> Universe:
    """Stage 2 (module docstring). `trials`: every wallet screened to build `evidence` (at least len(evidence);
    default len(evidence)), the m of the false-discovery control and the N of the Deflated Sharpe."""
    prior = prior or {}
    k = len(evidence)
    m = k if trials is None else int(trials)
    if m < k:
        raise ValueError(f"trials = {m} is fewer than the {k} wallets scored")
    c = config
    scored = np.array([e.scored_trades for e in evidence], dtype=np.int64)
    scored_markets = np.array([e.scored_markets for e in evidence], dtype=np.int64)
    screened = np.array([e.market_maker or e.bot for e in evidence], dtype=bool)
    p = _f([e.p_value for e in evidence])
    events = np.array([e.independent_events for e in evidence], dtype=np.int64)
    enough = (scored >= c.min_scored_trades) & (scored_markets >= c.min_markets) & (events >= c.min_independent_events)
    eligible = enough & ~screened & np.isfinite(p)

    q_values = by_adjusted(np.where(eligible, p, np.nan), m=max(m, 1))
    discovered = eligible & (np.nan_to_num(q_values, nan=2.0) <= c.fdr_q)

    y = _f([e.ewma_net_edge_90d for e in evidence])
    v = _f([e.ewma_net_edge_90d_var for e in evidence])
    usable = np.isfinite(y) & np.isfinite(v) & (v > 0)
    fit_on = eligible & usable
    normal = dersimonian_laird(np.where(fit_on, y, np.nan), np.where(fit_on, v, np.nan))
    post_mean = np.full(k, np.nan)
    score_low = np.full(k, np.nan)
    shrink = np.full(k, np.nan)
    prior_mean = math.nan
    if fit_on.any():
        prior_fit = npmle_prior(y[fit_on], v[fit_on])
        prior_mean = float(prior_fit.grid @ prior_fit.weights)
        mean, _, low = prior_fit.posterior(y[usable], v[usable], 1.0 - c.confidence)
        # the population may pull a bound down, never make it surer than the wallet's own data: the NPMLE puts
        # an atom on an isolated leader, whose posterior is then far too narrow (and a far-away sliver of mass can
        # even put the quantile above the mean)
        own = y[usable] - float(ndtri(c.confidence)) * np.sqrt(v[usable])
        post_mean[usable], score_low[usable] = mean, np.minimum(np.minimum(low, mean), own)
        with np.errstate(invalid="ignore", divide="ignore"):
            moved = (y[usable] - mean) / (y[usable] - prior_mean)
        shrink[usable] = np.clip(moved, 0.0, 1.0)
    sharpe = _f([e.sharpe_event for e in evidence])
    periods = _f([e.event_returns for e in evidence])
    supported = periods >= MIN_EVENTS_FOR_MOMENTS
    skew = np.where(supported, _f([e.skew_event for e in evidence]), 0.0)
    kurt = np.where(supported, _f([e.kurtosis_event for e in evidence]), 3.0)
    defined = np.isfinite(sharpe) & np.isfinite(skew) & np.isfinite(kurt) & (periods >= 2)
    with_sharpe = eligible & defined
    with np.errstate(invalid="ignore"):
        root = np.sqrt(np.maximum(periods - 1.0, 1.0))
    standard = sharpe * root
    trial_var = float(np.var(standard[with_sharpe], ddof=1)) if with_sharpe.sum() >= 2 else 0.0
    sr0 = expected_max_sharpe(m, trial_var)
    psr = np.where(defined, probabilistic_sharpe_ratio(sharpe, 0.0, periods, skew, kurt), np.nan)
    dsr = np.where(defined, probabilistic_sharpe_ratio(sharpe, sr0 / root, periods, skew, kurt), np.nan)

    held: dict[int, str] = {}
    for i, e in enumerate(evidence):
        before = prior.get(e.wallet)
        if before is None:
            continue
        if before.status is WhaleStatus.PAUSED:
            held[i] = "paused by the decay monitor: scoring does not resume it"
        elif before.status is WhaleStatus.CULLED and as_of - before.since < c.cull_cooldown_days * SECONDS_PER_DAY:
            days_left = (before.since + c.cull_cooldown_days * SECONDS_PER_DAY - as_of) / SECONDS_PER_DAY
            held[i] = f"culled by the decay monitor: cooldown has {days_left:.1f} more days"

    candidates = [i for i in range(k) if discovered[i] and score_low[i] > 0 and i not in held]
    candidates.sort(key=lambda i: (-score_low[i], evidence[i].wallet))
    chosen = candidates[: c.top_n]
    rank = {i: r + 1 for r, i in enumerate(chosen)}

    # promotion needs evidence collected after selection: the chosen wallets' post-selection tests, through BY
    post_events = np.array([e.post_selection_events for e in evidence], dtype=np.int64)
    post_p = _f([e.post_selection_p for e in evidence])
    in_rank = np.zeros(k, dtype=bool)
    in_rank[chosen] = True
    confirmable = in_rank & (post_events >= c.min_independent_events) & np.isfinite(post_p)
    post_q = by_adjusted(np.where(confirmable, post_p, np.nan), m=max(len(chosen), 1))
    confirmed = confirmable & (np.nan_to_num(post_q, nan=2.0) <= c.fdr_q)

    wallets: list[ScoredWallet] = []
    for i, e in enumerate(evidence):
        reasons = _reasons(i, e, c, eligible, q_values, discovered, score_low, dsr, rank, candidates, held)
        if i in rank:
            reasons.extend(_promotion(e, c, bool(confirmed[i]), float(post_q[i])))
        if i in held:
            status = prior[e.wallet].status
        elif i in rank:
            status = WhaleStatus.ACTIVE if dsr[i] >= c.dsr_active and confirmed[i] else WhaleStatus.PROBATION
        else:
            status = WhaleStatus.CANDIDATE
        wallets.append(
            ScoredWallet(
                evidence=e,
                eligible=bool(eligible[i]),
                q_value=float(q_values[i]),
                discovered=bool(discovered[i]),
                shrinkage=float(shrink[i]),
                score=float(post_mean[i]),
                score_ci_low=float(score_low[i]),
                psr=float(psr[i]),
                dsr=float(dsr[i]),
                selected=i in rank,
                rank=rank.get(i),
                status=status,
                reasons=tuple(reasons),
                lacks_evidence=INSUFFICIENT_EVENTS if events[i] < c.min_independent_events else None,
                trials=m,
                post_selection_q=float(post_q[i]),
                confirmed=bool(confirmed[i]),
            )
        )
    windows = [e for e in evidence if e.named_at is not None]
    summary = {
        "wallets": k,
        "eligible": int(eligible.sum()),
        "screened_out": int(screened.sum()),
        "discovered": int(discovered.sum()),
        "selected": len(chosen),
        "fdr_q": c.fdr_q,
        "fdr_method": "benjamini-yekutieli",
        "trials": m,
        "min_independent_events": c.min_independent_events,
        "insufficient_events": int((events < c.min_independent_events).sum()),
        "prior_mean_net_edge": prior_mean,
        "normal_prior_mu": normal.mu,
        "normal_prior_tau2": normal.tau2,
        "dsr_trials": m,
        "dsr_sharpe_unit": "per event, standardised SR sqrt(T - 1)",
        "dsr_trial_sharpe_var": trial_var,
        "dsr_expected_max_sharpe": sr0,
        "split": "selection windows" if windows else "none: where the wallets came from is unknown",
        "split_wallets": len(windows),
        "in_sample_events": int(sum(e.in_sample_events for e in evidence)),
        "without_test_sample": sum(1 for e in windows if e.independent_events == 0),
        "confirmed_after_selection": int(confirmed.sum()),
        "as_of": as_of,
    }
    return Universe(wallets=wallets, summary=summary)


def _promotion(e: WalletEvidence, c: ScoringSettings, confirmed: bool, q: float) -> list[str]:
    """Why a selected wallet is or is not confirmed by the evidence collected after it was selected."""
    if confirmed:
        return [f"confirmed after selection: {e.post_selection_events} events, q {q:.3g} <= {c.fdr_q}"]
    if e.selected_at is None:
        return ["probation: no evidence after selection yet (selected by this run)"]
    if e.post_selection_events < c.min_independent_events:
        return [
            f"probation: {e.post_selection_events} events since selection < {c.min_independent_events} "
            "(promotion needs evidence collected after the wallet was selected)"
        ]
    return [f"probation: the edge since selection is not confirmed (p {e.post_selection_p:.2g}, q {q:.3g})"]


def _reasons(
    i: int,
    e: WalletEvidence,
    c: ScoringSettings,
    eligible: np.ndarray,
    q_values: np.ndarray,
    discovered: np.ndarray,
    score_low: np.ndarray,
    dsr: np.ndarray,
    rank: Mapping[int, int],
    candidates: Sequence[int],
    held: Mapping[int, str],
) -> list[str]:
    reasons: list[str] = []
    if i in held:
        reasons.append(held[i])
    if e.market_maker or e.bot:
        reasons.extend(f"excluded: {f}" for f in e.flags if f.startswith(("market maker", "bot")))
    if e.scored_trades < c.min_scored_trades:
        reasons.append(f"too little evidence: {e.scored_trades} resolved trades < {c.min_scored_trades}")
    if e.scored_markets < c.min_markets:
        reasons.append(f"too little evidence: {e.scored_markets} resolved markets < {c.min_markets}")
    if e.independent_events < c.min_independent_events:
        untestable = " (the edge test needs two)" if e.independent_events < 2 else ""
        reasons.append(
            f"{INSUFFICIENT_EVENTS}: not enough independent evidence: {e.independent_events} resolved events "
            f"< {c.min_independent_events}{untestable}"
        )
    if eligible[i]:
        verdict = "survives" if discovered[i] else "does not survive"
        reasons.append(
            f"calibrated edge {e.edge:+.4f}/trade (t {e.z:.2f} on {e.independent_events - 1} df, "
            f"p {e.p_value:.2g}): {verdict} "
            f"false-discovery control (q {q_values[i]:.3g} vs {c.fdr_q})"
        )
    if math.isfinite(score_low[i]) and eligible[i]:
        bound = "> 0" if score_low[i] > 0 else "<= 0"
        reasons.append(f"shrunk net edge lower bound {score_low[i]:+.4f} {bound} after fees and slippage")
    if i in rank:
        reasons.append(f"selected: rank {rank[i]} of {len(rank)}")
        if not dsr[i] >= c.dsr_active:
            shown = "undefined" if not math.isfinite(dsr[i]) else f"{dsr[i]:.2f}"
            reasons.append(f"probation: deflated Sharpe {shown} < {c.dsr_active}")
    elif i in candidates:
        reasons.append(f"qualifies but ranks {candidates.index(i) + 1} > top {c.top_n}")
    for flag in e.flags:
        if not flag.startswith(("market maker", "bot")):
            reasons.append(flag)
    return reasons
