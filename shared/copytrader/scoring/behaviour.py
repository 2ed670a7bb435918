"""Market-maker and bot detection: wallets whose P&L a follower cannot copy are excluded, with the reason.

A market maker earns the spread by quoting both sides and turning inventory over quickly; a follower who takes
liquidity a few seconds later pays that spread instead. A bot trades faster or more regularly than a copy can
follow. Features per wallet (all from the de-duplicated tape and the ledger):
- round_trip = shares sold against holdings / shares bought (how much of what it buys it sells again);
- holding_hours = mean time a share is held (Little's law, see `copytrader.scoring.ledger`);
- two_sided = share of its markets where it traded both directions in YES terms (long and short the outcome);
- trades_per_day = trades / active days;
- interval_cv = coefficient of variation of the gaps between its trades (a Poisson trader has about 1, bursty
  humans more; a timer-driven bot far less);
- hour_entropy = Shannon entropy of its trades' UTC hour-of-day histogram over log 24 (1 = every hour alike).
Rules (thresholds in `copytrader.scoring_settings.ScoringSettings`, each documented there):
    market maker: round_trip >= mm_round_trip and holding_hours <= mm_holding_hours and two_sided >= mm_two_sided
    bot:          trades_per_day >= bot_trades_per_day,
                  or (trades >= bot_min_trades and interval_cv <= bot_interval_cv),
                  or (trades >= bot_min_trades and hour_entropy >= bot_hour_entropy
                      and trades_per_day >= 0.5 x bot_trades_per_day)
These are screening heuristics, not proofs; every exclusion names the features that triggered it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copytrader.scoring.edge import TradeEdges
from copytrader.scoring.ledger import SECONDS_PER_DAY, Ledger
from copytrader.scoring.tape import TradeTape
from copytrader.scoring_settings import ScoringSettings

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Behaviour:
    round_trip: FloatArray
    two_sided: FloatArray
    trades_per_day: FloatArray
    interval_cv: FloatArray
    hour_entropy: FloatArray
    market_maker: npt.NDArray[np.bool_]
    bot: npt.NDArray[np.bool_]
    reasons: list[list[str]]


def detect(tape: TradeTape, ledger: Ledger, edges: TradeEdges, config: ScoringSettings) -> Behaviour:
    wallets = len(tape.wallets)
    trades = np.bincount(tape.wallet, weights=tape.decision.astype(np.float64), minlength=wallets)
    sold = np.bincount(tape.wallet, weights=np.where(tape.buy, 0.0, ledger.matched), minlength=wallets)
    # the remaining features describe trading decisions only (not splits or merges of full sets)
    keep = np.flatnonzero(tape.decision)
    w = tape.wallet[keep]
    condition, timestamp, direction = tape.condition[keep], tape.timestamp[keep], edges.direction[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        round_trip = np.where(ledger.bought_shares > 0, sold / ledger.bought_shares, 0.0)

    # both directions in one market (YES terms)
    key = w * max(1, len(tape.conditions)) + condition
    unique, market = np.unique(key, return_inverse=True)
    longs = np.bincount(market, weights=(direction > 0).astype(np.float64), minlength=unique.size)
    shorts = np.bincount(market, weights=(direction < 0).astype(np.float64), minlength=unique.size)
    market_wallet = unique // max(1, len(tape.conditions))
    markets = np.bincount(market_wallet, minlength=wallets).astype(np.float64)
    both = np.bincount(market_wallet, weights=((longs > 0) & (shorts > 0)).astype(np.float64), minlength=wallets)

    day_key = w * 1_000_000 + timestamp // SECONDS_PER_DAY
    active_days = np.bincount(np.unique(day_key) // 1_000_000, minlength=wallets).astype(np.float64)

    # gaps between consecutive trades of a wallet (the tape is in time order within a wallet)
    same = np.r_[False, w[1:] == w[:-1]]
    gaps = np.diff(timestamp, prepend=timestamp[:1]).astype(np.float64)
    g_n = np.bincount(w, weights=same.astype(np.float64), minlength=wallets)
    g_sum = np.bincount(w, weights=np.where(same, gaps, 0.0), minlength=wallets)
    g_sq = np.bincount(w, weights=np.where(same, gaps * gaps, 0.0), minlength=wallets)

    hours = (timestamp // 3600) % 24
    histogram = np.bincount(w * 24 + hours, minlength=wallets * 24).reshape(wallets, 24).astype(np.float64)

    with np.errstate(invalid="ignore", divide="ignore"):
        two_sided = np.where(markets > 0, both / markets, 0.0)
        per_day = np.where(active_days > 0, trades / active_days, 0.0)
        gap_mean = g_sum / g_n
        gap_var = g_sq / g_n - gap_mean**2
        interval_cv = np.where((g_n >= 2) & (gap_mean > 0), np.sqrt(np.maximum(gap_var, 0.0)) / gap_mean, np.nan)
        share = histogram / histogram.sum(axis=1, keepdims=True)
        entropy = -np.nansum(np.where(share > 0, share * np.log(share), 0.0), axis=1) / np.log(24.0)

    holding = ledger.holding_hours
    c = config
    market_maker = (
        (round_trip >= c.mm_round_trip)
        & (np.nan_to_num(holding, nan=np.inf) <= c.mm_holding_hours)
        & (two_sided >= c.mm_two_sided)
    )
    enough = trades >= c.bot_min_trades
    fast = per_day >= c.bot_trades_per_day
    regular = enough & (np.nan_to_num(interval_cv, nan=np.inf) <= c.bot_interval_cv)
    round_clock = enough & (entropy >= c.bot_hour_entropy) & (per_day >= 0.5 * c.bot_trades_per_day)
    bot = fast | regular | round_clock

    reasons: list[list[str]] = [[] for _ in range(wallets)]
    for i in np.flatnonzero(market_maker).tolist():
        reasons[i].append(
            f"market maker: sells {round_trip[i]:.0%} of what it buys, holds {holding[i]:.1f} h on average, "
            f"trades both directions in {two_sided[i]:.0%} of its markets"
        )
    for i in np.flatnonzero(fast).tolist():
        reasons[i].append(f"bot: {per_day[i]:.0f} trades per active day")
    for i in np.flatnonzero(regular & ~fast).tolist():
        reasons[i].append(f"bot: trade intervals too regular (cv {interval_cv[i]:.2f} over {int(trades[i])} trades)")
    for i in np.flatnonzero(round_clock & ~fast & ~regular).tolist():
        reasons[i].append(f"bot: trades around the clock (hour entropy {entropy[i]:.3f}, {per_day[i]:.0f}/day)")
    return Behaviour(
        round_trip=round_trip,
        two_sided=two_sided,
        trades_per_day=per_day,
        interval_cv=interval_cv,
        hour_entropy=entropy,
        market_maker=market_maker,
        bot=bot,
        reasons=reasons,
    )
