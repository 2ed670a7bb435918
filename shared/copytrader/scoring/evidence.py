"""Stage 1 of scoring, per wallet: everything that needs only the wallet's own history.

`wallet_evidence` turns a tape and its markets into one `WalletEvidence` per wallet (the record and its JSON:
`copytrader.scoring.evidence_record`): the audited P&L (`copytrader.scoring.ledger`), the calibrated edge with its
null test and bootstrap interval (`copytrader.scoring.edge`, `copytrader.stats.bootstrap`), recency-weighted edges
and returns, daily risk-adjusted figures, diversity, specialties and the market-maker / bot screen. Nothing here
looks at other wallets, so batches of wallets can be scored independently (the workflow's Distributed Map) and
their evidence concatenated; stage 2 (`copytrader.scoring.universe`) then compares them.

Per-wallet statistics (formulas in the modules named):
- edge: mean over scored trades of e (equal weights); z and p_value: the event-clustered t test on G - 1 degrees
  of freedom (edge module), NaN with fewer than two events; independent_events = G, the events with scored trades.
  edge_ci_low / edge_ci_high: stationary-bootstrap percentile interval (two-sided level 2c - 1, so the low end is
  the one-sided c lower bound) of the ratio sum(e) / count over the wallet's calendar of trade days; resamples
  without a scored trade (an undefined ratio) are dropped and counted in edge_ci_dropped; with fewer than two
  events the interval is undefined (NaN, null in JSON), never a zero-width interval around one event; the seed mixes
  the configured seed with the wallet address, so a wallet's interval does not depend on which batch it was
  scored in. The edge and the daily-Sharpe intervals share one set of blocks (`_intervals`), expected block length
  the larger of the Politis-White (2009 correction) estimates on the daily edge sums and on the daily P&L.
- ewma_edge_{30,90}d, ewma_net_edge_90d and its sampling variance (max of cluster-robust and null), n_eff_90d.
- ewma_return_{30,90}d: recency-weighted mean return on cost of resolved BUYs, (payout - p) / p - fee / (p s).
- win_rate / breakeven_win_rate over resolved decisive BUYs: wins / n against mean entry price.
- daily P&L (ledger calendar): per-period Sharpe (ddof 1), population skew and non-excess kurtosis (the PSR
  convention), annualised Sharpe and Sortino (x sqrt(365), x 365), additive max drawdown in pUSD; the annualised
  Sharpe's stationary-bootstrap percentile interval (same level and blocks as the edge's; endpoints scaled by
  sqrt(365) after the interval, a monotone map).
- per-event returns (copytrader.scoring.event_returns): event_returns, sharpe_event, skew_event, kurtosis_event,
  the inputs of the universe's PSR / DSR.
- post_selection_events / post_selection_p: the edge test (same form) on the events entered after the wallet was
  selected only (copytrader.scoring.holdout), when the caller marks them; 0 / NaN otherwise.
- diversity: distinct markets and events, and effective events 1 / HHI of traded notional across events.
- categories: per category the scored trades, mean edge and its null z; specialties are categories with at least
  10 scored trades and z >= 2 (nominal, not multiplicity-controlled: a hint for category weighting, not a test).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import numpy.typing as npt

from copytrader.scoring.activity import ActivityReport
from copytrader.scoring.behaviour import detect
from copytrader.scoring.edge import recency_weights, summarise, trade_edges
from copytrader.scoring.event_returns import event_moments
from copytrader.scoring.evidence_record import CategoryEdge, WalletEvidence
from copytrader.scoring.ledger import SECONDS_PER_DAY, build_ledger
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape
from copytrader.scoring_settings import ScoringSettings
from copytrader.stats.block_length import optimal_block_length
from copytrader.stats.bootstrap import ci_from_replicates, sharpe_estimate_and_floor, sharpe_replicates
from copytrader.stats.moments import grouped_central_moments
from copytrader.stats.performance import max_drawdown_additive
from copytrader.stats.resampling import stationary_block_sums

FloatArray = npt.NDArray[np.float64]
SPECIALTY_MIN_TRADES = 10
SPECIALTY_MIN_Z = 2.0


def _group_mean(group: npt.NDArray[np.int64], x: FloatArray, w: FloatArray, size: int) -> FloatArray:
    total = np.bincount(group, weights=w, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(total > 0, np.bincount(group, weights=w * x, minlength=size) / total, np.nan))


def _intervals(
    edge_sum: FloatArray,
    edge_count: FloatArray,
    pnl: FloatArray,
    has_edge: bool,
    has_sharpe: bool,
    config: ScoringSettings,
    level: float,
    rng: np.random.Generator,
) -> tuple[float, float, int, float, float, float]:
    """Edge-per-trade and daily-Sharpe intervals from ONE set of stationary-bootstrap blocks over the wallet's
    calendar (both series live on it): the expected block length is the larger of the two Politis-White estimates
    (the more dependent series sets it), which halves the cost of two separate bootstraps.
    Returns (edge low, edge high, dropped edge resamples, block length, sharpe low, sharpe high), NaN where undefined.
    """
    nan = math.nan
    if not has_edge and not has_sharpe:
        return nan, nan, 0, nan, nan, nan
    b = max(optimal_block_length(edge_sum).stationary if has_edge else 1.0, optimal_block_length(pnl).stationary)
    estimate, centre, floor = sharpe_estimate_and_floor(pnl)
    y = pnl - centre
    sums = stationary_block_sums(np.stack([edge_sum, edge_count, y, y * y]), b, config.bootstrap_reps, rng)
    edge: tuple[float, float, int] = (nan, nan, 0)
    if has_edge:
        # the counts are integers: a resample without a scored trade has a zero count, which the centring in
        # stationary_block_sums leaves as ~1e-12 rather than 0; round it so the ratio is undefined and dropped
        count = np.rint(sums[:, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            replicates = np.where(count > 0, sums[:, 0] / count, np.nan)
        ratio = ci_from_replicates(
            float(edge_sum.sum() / edge_count.sum()), replicates, level, "percentile", block_size=b
        )
        edge = (ratio.low, ratio.high, ratio.dropped)
    sharpe: tuple[float, float] = (nan, nan)
    if has_sharpe:
        replicates = sharpe_replicates(sums[:, 2], sums[:, 3], pnl.size, centre, floor)
        daily = ci_from_replicates(estimate, replicates, level, "percentile", block_size=b)
        sharpe = (daily.low, daily.high)
    return edge[0], edge[1], edge[2], b, sharpe[0], sharpe[1]


def _seed(seed: int, wallet: str) -> np.random.Generator:
    digits = wallet[2:] if wallet.startswith("0x") else wallet
    try:
        entropy = [seed, int(digits[:16], 16), int(digits[16:32] or "0", 16)]
    except ValueError:
        entropy = [seed, sum(ord(c) for c in wallet)]
    return np.random.default_rng(np.random.SeedSequence(entropy))


CHUNK_TRADES = 250_000


def wallet_evidence(
    tape: TradeTape,
    facts: TokenFacts,
    as_of: int,
    config: ScoringSettings,
    progress: Callable[[int], None] | None = None,
    activity: ActivityReport | None = None,
    post_selection: npt.NDArray[np.bool_] | None = None,
) -> list[WalletEvidence]:
    """Stage-1 evidence for every wallet of `tape` (in `tape.wallets` order); `activity` adds the audit figures;
    `post_selection` (per trade) marks the evidence collected after each wallet was selected, tested on its own
    (post_selection_events, post_selection_p; copytrader.scoring.holdout).

    Wallets are processed in chunks of about CHUNK_TRADES trades: each wallet's evidence depends only on its own
    trades, and small chunks keep the working set in cache (10 million trades at once ran 2.5x slower).
    """
    if tape.n and int(tape.timestamp.max()) > as_of:
        raise ValueError("the tape holds trades after the as-of time: score as of a later time or drop them")
    bounds = tape.wallet_bounds()
    results: list[WalletEvidence] = []
    lo = 0
    wallets = len(tape.wallets)
    while lo < wallets:
        hi = int(np.searchsorted(bounds, bounds[lo] + CHUNK_TRADES, side="right")) - 1
        hi = min(max(hi, lo + 1), wallets)
        post = None if post_selection is None else post_selection[int(bounds[lo]) : int(bounds[hi])]
        results.extend(_chunk_evidence(tape.wallet_slice(lo, hi), facts, as_of, config, progress, post))
        lo = hi
    if activity is not None:
        results = [_with_activity(e, activity) for e in results]
    return results


def _with_activity(e: WalletEvidence, activity: ActivityReport) -> WalletEvidence:
    conversions = activity.conversions.get(e.wallet, 0)
    flags = e.flags
    if conversions:
        flags = (*flags, f"{conversions} neg-risk conversions not modelled: P&L may be incomplete")
    return replace(
        e,
        redeemed_usdc=activity.redeemed_usdc.get(e.wallet, 0.0),
        rewards_usdc=activity.rewards_usdc.get(e.wallet, 0.0),
        conversions=conversions,
        flags=flags,
    )


def _chunk_evidence(
    tape: TradeTape,
    facts: TokenFacts,
    as_of: int,
    config: ScoringSettings,
    progress: Callable[[int], None] | None,
    post_selection: npt.NDArray[np.bool_] | None = None,
) -> list[WalletEvidence]:
    wallets = len(tape.wallets)
    w = tape.wallet
    ledger = build_ledger(tape, facts, as_of)
    edges = trade_edges(tape, facts, slippage=config.slippage)
    ones = np.ones(tape.n)
    flat = summarise(tape, facts, edges, ones)
    short = summarise(tape, facts, edges, recency_weights(tape, as_of, config.halflife_short_days))
    w_long = recency_weights(tape, as_of, config.halflife_long_days)
    long = summarise(tape, facts, edges, w_long)
    behaviour = detect(tape, ledger, edges, config)
    per_event = event_moments(tape, facts, edges)
    confirm = None
    if post_selection is not None:
        confirm = summarise(tape, facts, replace(edges, scored=edges.scored & post_selection), ones)

    # returns on cost of resolved BUYs
    scored_buy = edges.scored & tape.buy
    roi = np.where(scored_buy, edges.edge / tape.price - tape.fee / (tape.price * tape.size), 0.0)
    w_short = recency_weights(tape, as_of, config.halflife_short_days)
    ret_30 = _group_mean(w, roi, np.where(scored_buy, w_short, 0.0), wallets)
    ret_90 = _group_mean(w, roi, np.where(scored_buy, w_long, 0.0), wallets)
    buys = np.bincount(w, weights=scored_buy.astype(np.float64), minlength=wallets)
    wins = np.bincount(w, weights=(scored_buy & edges.won).astype(np.float64), minlength=wallets)
    paid = np.bincount(w, weights=np.where(scored_buy, tape.price, 0.0), minlength=wallets)

    # diversity
    notional = tape.price * tape.size
    volume = np.bincount(w, weights=notional, minlength=wallets)
    decision = tape.decision.astype(np.float64)
    trades = np.bincount(w, weights=decision, minlength=wallets).astype(np.int64)
    legs = np.bincount(w, weights=tape.legs * decision, minlength=wallets).astype(np.int64)
    market_pairs = np.unique(w * len(tape.conditions) + tape.condition)
    markets = np.bincount(market_pairs // max(1, len(tape.conditions)), minlength=wallets)
    event = facts.event[tape.token]
    ev_key = w * len(facts.events) + event
    ev_unique, ev_index = np.unique(ev_key, return_inverse=True)
    ev_notional = np.bincount(ev_index, weights=notional, minlength=ev_unique.size)
    ev_wallet = ev_unique // max(1, len(facts.events))
    events = np.bincount(ev_wallet, minlength=wallets)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = ev_notional / volume[ev_wallet]
        hhi = np.bincount(ev_wallet, weights=share * share, minlength=wallets)
        effective_events = np.where(hhi > 0, 1.0 / hhi, 0.0)

    # per-category edge (scored trades)
    category = facts.category[tape.token]
    cat_key = w * len(facts.categories) + category
    s = edges.scored
    cat_unique, cat_index = np.unique(cat_key[s], return_inverse=True)
    cat_n = np.bincount(cat_index, minlength=cat_unique.size)
    cat_sum = np.bincount(cat_index, weights=edges.edge[s], minlength=cat_unique.size)
    cat_var = np.bincount(
        cat_index, weights=edges.yes_price[s] * (1 - edges.yes_price[s]), minlength=cat_unique.size
    )  # per-trade null variance (a quick screen; the wallet-level test uses the clustered one)
    buy_s = (edges.scored & tape.buy)[s]
    cat_buys = np.bincount(cat_index, weights=buy_s.astype(np.float64), minlength=cat_unique.size)
    cat_wins = np.bincount(cat_index, weights=(buy_s & edges.won[s]).astype(np.float64), minlength=cat_unique.size)
    cat_paid = np.bincount(cat_index, weights=np.where(buy_s, tape.price[s], 0.0), minlength=cat_unique.size)
    by_wallet_categories: list[dict[str, CategoryEdge]] = [{} for _ in range(wallets)]
    for key, n_c, total, var, b_c, w_c, p_c in zip(
        cat_unique.tolist(),
        cat_n.tolist(),
        cat_sum.tolist(),
        cat_var.tolist(),
        cat_buys.tolist(),
        cat_wins.tolist(),
        cat_paid.tolist(),
        strict=True,
    ):
        wallet_i, c = divmod(key, len(facts.categories))
        z = total / math.sqrt(var) if var > 0 else math.nan
        by_wallet_categories[wallet_i][facts.categories[c]] = CategoryEdge(
            n_c, total / n_c, z, int(b_c), int(w_c), float(p_c)
        )

    # daily series: P&L from the ledger; edge sums and counts on the same calendar by trade day
    day_of_trade = tape.timestamp // SECONDS_PER_DAY
    first_day = ledger.day_index[ledger.day_start[:-1].clip(max=max(0, ledger.day_index.size - 1))]
    slot = ledger.day_start[w] + (day_of_trade - first_day[w])
    calendar = int(ledger.day_start[-1])
    edge_sum = np.bincount(slot[s], weights=edges.edge[s], minlength=calendar).astype(np.float64)
    edge_count = np.bincount(slot[s], minlength=calendar).astype(np.float64)
    lengths = np.diff(ledger.day_start)
    owner = np.repeat(np.arange(wallets), lengths)
    x = ledger.daily_pnl
    c = grouped_central_moments(owner, x, lengths.astype(np.float64))
    mean, m2, m3, m4 = c.mean, c.m2, c.m3, c.m4
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(m2 * lengths / (lengths - 1))
        defined = (lengths >= config.min_days) & (m2 > 1e-18 * np.maximum(1.0, mean * mean))
        sharpe = np.where(defined, mean / sd, np.nan)
        skew = np.where(defined, m3 / m2**1.5, np.nan)
        kurt = np.where(defined, m4 / m2**2, np.nan)
        downside = np.sqrt(np.bincount(owner, weights=np.minimum(x, 0.0) ** 2, minlength=wallets) / lengths)
        sortino = np.where(
            defined & (downside > 0),
            mean * config.periods_per_year / (downside * math.sqrt(config.periods_per_year)),
            np.nan,
        )
    annual = math.sqrt(config.periods_per_year)
    level = 2 * config.confidence - 1

    bounds = tape.wallet_bounds()
    results: list[WalletEvidence] = []
    for i, address in enumerate(tape.wallets):
        lo, hi = int(ledger.day_start[i]), int(ledger.day_start[i + 1])
        ci_low, ci_high, dropped, block, sharpe_low, sharpe_high = _intervals(
            edge_sum[lo:hi],
            edge_count[lo:hi],
            x[lo:hi],
            bool(flat.clusters[i] >= 2),  # one event: the interval is undefined
            bool(math.isfinite(sharpe[i])),
            config,
            level,
            _seed(config.seed, address),
        )
        sharpe_low, sharpe_high = sharpe_low * annual, sharpe_high * annual
        flags: list[str] = list(behaviour.reasons[i])
        if ledger.pre_window_shares[i] > 0:
            flags.append(
                f"sold {ledger.pre_window_shares[i]:.2f} shares bought before the data window "
                f"({ledger.pre_window_usdc[i]:.2f} pUSD of proceeds with unknown cost, left out of P&L)"
            )
        categories = by_wallet_categories[i]
        specialties = tuple(
            sorted(
                (c for c, e in categories.items() if e.trades >= SPECIALTY_MIN_TRADES and e.z >= SPECIALTY_MIN_Z),
                key=lambda c: -categories[c].z,
            )
        )
        t_lo, t_hi = int(bounds[i]), int(bounds[i + 1])
        results.append(
            WalletEvidence(
                wallet=address,
                trades=int(trades[i]),
                legs=int(legs[i]),
                scored_trades=int(flat.n[i]),
                markets=int(markets[i]),
                scored_markets=int(flat.markets[i]),
                events=int(events[i]),
                effective_events=float(effective_events[i]),
                first_trade=int(tape.timestamp[t_lo]) if t_hi > t_lo else 0,
                last_trade=int(tape.timestamp[t_hi - 1]) if t_hi > t_lo else 0,
                volume_usdc=float(volume[i]),
                pnl_usdc=float(ledger.pnl[i]),
                realized_trading_usdc=float(ledger.realized_trading[i]),
                resolution_usdc=float(ledger.resolution[i]),
                fees_usdc=float(ledger.fees[i]),
                open_basis_usdc=float(ledger.open_basis[i]),
                unrealized_usdc=float(ledger.unrealized[i]),
                pre_window_sell_shares=float(ledger.pre_window_shares[i]),
                pre_window_sell_usdc=float(ledger.pre_window_usdc[i]),
                edge=float(flat.mean[i]),
                edge_net=float(flat.mean_net[i]),
                z=float(flat.z[i]),
                p_value=float(flat.p_value[i]),
                edge_ci_low=float(ci_low),
                edge_ci_high=float(ci_high),
                edge_ci_dropped=int(dropped),
                block_length_days=float(block),
                ewma_edge_30d=float(short.mean[i]),
                ewma_edge_90d=float(long.mean[i]),
                ewma_net_edge_90d=float(long.mean_net[i]),
                ewma_net_edge_90d_var=float(long.var[i]),
                n_eff_90d=float(long.n_eff[i]),
                ewma_return_30d=float(ret_30[i]),
                ewma_return_90d=float(ret_90[i]),
                scored_buys=int(buys[i]),
                wins=int(wins[i]),
                win_rate=float(wins[i] / buys[i]) if buys[i] else math.nan,
                breakeven_win_rate=float(paid[i] / buys[i]) if buys[i] else math.nan,
                days=int(lengths[i]),
                sharpe_daily=float(sharpe[i]),
                sharpe_annual=float(sharpe[i] * annual),
                sharpe_annual_ci_low=float(sharpe_low),
                sharpe_annual_ci_high=float(sharpe_high),
                sortino_annual=float(sortino[i]),
                skew=float(skew[i]),
                kurtosis=float(kurt[i]),
                max_drawdown_usdc=max_drawdown_additive(x[lo:hi]),
                holding_hours=float(ledger.holding_hours[i]),
                round_trip=float(behaviour.round_trip[i]),
                two_sided=float(behaviour.two_sided[i]),
                trades_per_day=float(behaviour.trades_per_day[i]),
                interval_cv=float(behaviour.interval_cv[i]),
                hour_entropy=float(behaviour.hour_entropy[i]),
                market_maker=bool(behaviour.market_maker[i]),
                bot=bool(behaviour.bot[i]),
                categories=categories,
                specialties=specialties,
                flags=tuple(flags),
                independent_events=int(flat.clusters[i]),
                event_returns=int(per_event.n[i]),
                sharpe_event=float(per_event.sharpe[i]),
                skew_event=float(per_event.skew[i]),
                kurtosis_event=float(per_event.kurtosis[i]),
                post_selection_events=int(confirm.clusters[i]) if confirm is not None else 0,
                post_selection_p=float(confirm.p_value[i]) if confirm is not None else math.nan,
            )
        )
        if progress is not None:
            progress(1)
    return results
