"""Calibrated edge per trade, its null and cluster-robust variances, and recency (EWMA) weighting.

Edge. Win rate is not edge in a prediction market (quant/REFERENCE.md section 4): a wallet that buys at 0.90 and
wins 90% of the time has none. Per trade (a decision, not a split or merge of full sets) in a market that resolved
1/0 before the as-of time:
    e = payout - p   for a BUY,      e = p - payout   for a SELL       (shares of the traded token)
so a wallet's mean e is its calibration gap: positive when its trades beat the prices it paid. 50/50 resolutions
say nothing about skill and are left out (their P&L still counts in the ledger); so are unresolved markets.
Net edge, what a follower could keep: e - c with c = r p (1 - p) + slippage per share, the taker fee a copy pays
at the market's fee rate r (REFERENCE.md section h) plus a configurable slippage.

Null variance (no skill = prices are calibrated probabilities, i.e. a martingale that ends at the outcome Y).
Write each trade in YES terms: direction d = +1 for buying YES or selling NO, -1 otherwise, YES price p_Y.
Then e = d (Y - p_Y), and for two trades of one market at times i <= j,
    Cov(Y - p_i, Y - p_j) = E[p_j (1 - p_j)]       (the later price's conditional variance),
so, with weights w and D_k = sum_{i <= k} w_i d_i in time order within the market,
    Var_0(sum w e) = sum_k v_k w_k d_k (2 D_k - w_k d_k),   v_k = p_k (1 - p_k)
clamped at 0 per market (the plug-in can dip below 0 for round trips). Unlike a per-trade binomial test this does
not count thirty fills of one position as thirty independent bets. Markets are taken as independent; the
cluster-robust variance below catches dependence across the markets of one event.
Cluster-robust variance of a weighted mean m = sum w e / sum w, clustered by event g (Liang & Zeger 1986), with
the CR1 small-sample factor G / (G - 1) (Stata's, which for a mean alone is exactly G / (G - 1); Cameron & Miller
2015, "A Practitioner's Guide to Cluster-Robust Inference", J. Human Resources 50(2):317-372, section VI):
    V_rob = G / (G - 1) * sum_g (sum_{i in g} w_i (e_i - m))^2 / (sum w)^2,     G = events with scored trades
Events are keyed by `copytrader.scoring.event_keys` (one key per event, never one per market).

Test of "no calibrated edge" (the unit of evidence is the event):
    V = max(V_rob, Var_0 / (sum w)^2),   t = m / sqrt(V),   one-sided p = P(T_{G-1} > t)
with a Student t reference on G - 1 degrees of freedom (Cameron & Miller 2015 section VI.C; Bester, Conley &
Hansen 2011, J. Econometrics 165(2):137-151: with few clusters the CR1 t statistic is close to t(G-1), not
N(0, 1)). Why the max: V_rob alone catches dependence inside an event (two correlated legs of one event are one
bet), but with few events the residuals can all be alike by luck (ten favourites that all won have no residual
spread at all, V_rob = 0); the martingale null Var_0 cannot shrink that way. Taking the larger keeps the test
valid under either failure. With G < 2 events the test is undefined (t and p NaN), never a number: the universe
gives such a wallet the named reason `insufficient_events` ("not enough independent evidence").
The same V is the sampling variance used for shrinkage: a wallet with few events cannot look precise by luck.

Recency: weights 0.5^(age / h) with age in days from the as-of time (half-lives 30 and 90 days); Kish
n_eff = (sum w)^2 / sum w^2 says how many equally weighted trades the weighting is worth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import stdtr

from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape
from copytrader.stats.moments import halflife_weights

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
SECONDS_PER_DAY = 86_400.0
# The test's name as written in each wallet's JSON (`copytrader.scoring.universe.ScoredWallet.as_record`)
EDGE_TEST_NAME = "one-sided event-clustered t (CR1 or martingale null variance, the larger), t(G - 1) reference"


@dataclass(frozen=True)
class TradeEdges:
    """Per trade (tape order): `scored` marks trades in markets decided 1/0 before the as-of time."""

    scored: npt.NDArray[np.bool_]
    edge: FloatArray  # e (0 where not scored)
    net: FloatArray  # e - copy cost (0 where not scored)
    cost: FloatArray  # copy cost per share
    direction: FloatArray  # d in YES terms
    yes_price: FloatArray
    won: npt.NDArray[np.bool_]  # the traded token paid 1


def trade_edges(tape: TradeTape, facts: TokenFacts, *, slippage: float) -> TradeEdges:
    payout = facts.payout[tape.token]
    resolved_at = facts.resolved_at[tape.token]
    decisive = (payout == 0.0) | (payout == 1.0)
    scored = decisive & (resolved_at >= 0) & (tape.timestamp <= resolved_at) & tape.decision
    sign = np.where(tape.buy, 1.0, -1.0)
    edge = np.where(scored, sign * (np.nan_to_num(payout) - tape.price), 0.0)
    rate = facts.fee_rate[tape.token]
    cost = rate * tape.price * (1.0 - tape.price) + slippage
    yes_side = facts.outcome[tape.token] == 0
    direction = np.where(yes_side, sign, -sign)
    yes_price = np.where(yes_side, tape.price, 1.0 - tape.price)
    return TradeEdges(
        scored=scored,
        edge=edge,
        net=np.where(scored, edge - cost, 0.0),
        cost=cost,
        direction=direction,
        yes_price=yes_price,
        won=np.asarray(scored & (payout == 1.0), dtype=np.bool_),
    )


def recency_weights(tape: TradeTape, as_of: int, halflife_days: float) -> FloatArray:
    """0.5^(age / h), age in days from `as_of` (trades after `as_of` are an error: look-ahead)."""
    return halflife_weights((as_of - tape.timestamp) / SECONDS_PER_DAY, halflife_days)


@dataclass(frozen=True)
class EdgeSummary:
    """Per wallet (indexing `tape.wallets`) for one weighting: sums and variances of the (net) edge."""

    n: IntArray  # scored trades
    weight: FloatArray  # sum w over scored trades
    weight_sq: FloatArray  # sum w^2
    mean: FloatArray  # weighted mean edge (NaN without scored trades)
    mean_net: FloatArray
    var_null: FloatArray  # Var_0 of the weighted mean under calibrated prices
    var_robust: FloatArray  # cluster-robust variance of the weighted mean (NaN with < 2 clusters)
    clusters: IntArray  # events with scored trades
    markets: IntArray  # markets with scored trades

    @property
    def var(self) -> FloatArray:
        """max(V_rob, Var_0): the sampling variance used for shrinkage (see the module docstring)."""
        return np.asarray(np.fmax(self.var_robust, self.var_null), dtype=np.float64)

    @property
    def z(self) -> FloatArray:
        """t = m / sqrt(max(V_rob, Var_0)) (module docstring); NaN with fewer than two events or zero variance."""
        v = self.var
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where((self.clusters >= 2) & (v > 0), self.mean / np.sqrt(v), np.nan)
        return np.asarray(t, dtype=np.float64)

    @property
    def df(self) -> FloatArray:
        """Degrees of freedom of the t reference: G - 1 (NaN with fewer than two events)."""
        return np.asarray(np.where(self.clusters >= 2, self.clusters - 1.0, np.nan), dtype=np.float64)

    @property
    def p_value(self) -> FloatArray:
        """One-sided p = P(T_{G-1} > t) of no edge; NaN where untestable (fewer than two events)."""
        with np.errstate(invalid="ignore"):
            return np.asarray(stdtr(self.df, -self.z), dtype=np.float64)

    @property
    def n_eff(self) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.where(self.weight_sq > 0, self.weight**2 / self.weight_sq, 0.0))


def summarise(tape: TradeTape, facts: TokenFacts, edges: TradeEdges, weights: FloatArray) -> EdgeSummary:
    """Per-wallet weighted edge, null variance (per market, in time order) and robust variance (per event)."""
    wallets = len(tape.wallets)
    s = edges.scored
    w = np.where(s, weights, 0.0)
    wallet = tape.wallet
    n = np.bincount(wallet, weights=s.astype(np.float64), minlength=wallets).astype(np.int64)
    sw = np.bincount(wallet, weights=w, minlength=wallets).astype(np.float64)
    sww = np.bincount(wallet, weights=w * w, minlength=wallets).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(sw > 0, np.bincount(wallet, weights=w * edges.edge, minlength=wallets) / sw, np.nan)
        mean_net = np.where(sw > 0, np.bincount(wallet, weights=w * edges.net, minlength=wallets) / sw, np.nan)

    # null variance per (wallet, market) in time order; the tape is in time order within a wallet
    idx = np.flatnonzero(s)
    market_key = tape.wallet[idx] * len(tape.conditions) + tape.condition[idx]
    order = idx[np.lexsort((np.arange(idx.size), market_key))]
    key = tape.wallet[order] * len(tape.conditions) + tape.condition[order]
    wd = w[order] * edges.direction[order]
    running = _grouped_cumsum(wd, key)
    v = edges.yes_price[order] * (1.0 - edges.yes_price[order])
    contribution = v * wd * (2.0 * running - wd)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
    per_market = np.maximum(np.add.reduceat(contribution, starts), 0.0) if key.size else np.zeros(0)
    market_wallet = tape.wallet[order][starts] if key.size else np.zeros(0, dtype=np.int64)
    var_sum = np.bincount(market_wallet, weights=per_market, minlength=wallets)
    markets = np.bincount(market_wallet, minlength=wallets).astype(np.int64)

    # cluster-robust variance by (wallet, event)
    event = facts.event[tape.token[idx]]
    cluster_key = tape.wallet[idx] * len(facts.events) + event
    unique, cluster = np.unique(cluster_key, return_inverse=True)
    resid = w[idx] * (edges.edge[idx] - mean[tape.wallet[idx]])
    cluster_sum = np.bincount(cluster, weights=resid, minlength=unique.size)
    cluster_wallet = unique // max(1, len(facts.events))
    clusters = np.bincount(cluster_wallet, minlength=wallets).astype(np.int64)
    squares = np.bincount(cluster_wallet, weights=cluster_sum**2, minlength=wallets)
    with np.errstate(invalid="ignore", divide="ignore"):
        var_null = np.where(sw > 0, var_sum / sw**2, np.nan)
        correction = np.where(clusters > 1, clusters / (clusters - 1.0), np.nan)
        var_robust = np.where(sw > 0, correction * squares / sw**2, np.nan)
    return EdgeSummary(
        n=n,
        weight=sw,
        weight_sq=sww,
        mean=mean,
        mean_net=mean_net,
        var_null=var_null,
        var_robust=var_robust,
        clusters=clusters,
        markets=markets,
    )


def _grouped_cumsum(x: FloatArray, key: IntArray) -> FloatArray:
    """Cumulative sum of x restarting wherever `key` changes (x sorted by key)."""
    if x.size == 0:
        return x.copy()
    total = np.cumsum(x)
    start = np.r_[True, key[1:] != key[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(x.size), 0))
    return np.asarray(total - (total[first] - x[first]), dtype=np.float64)
