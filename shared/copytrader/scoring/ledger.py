"""Per-wallet P&L you can audit: positions per token at average cost, realized and resolution P&L, daily series.

Cost method: **average cost** (the method Polymarket's own `/positions` reports as `avgPrice`). Per position
(wallet, token), in time order:
    BUY  s at p:   Q += s;  basis += p s                                  (A = basis / Q)
    SELL s at p:   m = min(s, Q) shares are matched;  realized += m (p - A);  basis -= m A;  Q -= m
                   the other s - m shares were bought before the data window: flagged (`pre_window_shares`,
                   `pre_window_usdc` at the sale price), never given an invented cost or P&L
    fee f (either side): realized -= f on the trade's day (fees are expensed, not capitalised)
    resolution (payout known, at the resolution time t_r <= as-of): realized += Q (payout - A); Q = 0
A position is flat when fewer than `DUST_SHARES` remain (float residue of selling everything).
Open positions in unresolved markets are not P&L: their remaining basis is reported (`open_basis_usdc`) and,
when Gamma gives a current price, their mark (`unrealized_usdc`) - separately, never inside `pnl_usdc`.

`pnl_usdc` (marked to resolution) = sells' realized + resolution P&L - fees. The identity the tests audit, per
wallet: cash = sells' matched proceeds - buys' cost - fees + payouts of resolved holdings = pnl_usdc - open basis.
The total over a position's life does not depend on the cost method; only its timing does.

Daily series: each realized amount is booked on its UTC day (sells and fees on the trade's day, resolutions on
the resolution day), on a calendar from the wallet's first trade day to its last booked day, zero-filled.
Holding time by Little's law: mean time a share is held = (time-integral of shares held) / (shares acquired),
with holdings carried to the resolution time or, while unresolved, to the as-of time.
The loop is plain Python over lists (0.3 us per trade; 10 million trades in about 3 s): clearer to audit than
a vectorised linear recurrence and fast enough.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape

DUST_SHARES = 1e-6
SECONDS_PER_DAY = 86_400

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Ledger:
    """Ledger results. Per-trade arrays follow the tape's order; per-wallet arrays index `tape.wallets`.

    Per trade: matched (shares of a SELL matched against holdings; a BUY's full size), realized (P&L booked by the
    trade: a SELL's m (p - A) minus its fee, a BUY's minus fee), avg_cost_before (A before the trade; NaN when
    flat).
    Per wallet: pnl (marked to resolution), realized_trading (sells, before fees), resolution, fees,
    open_basis, unrealized (open positions in unresolved markets marked to the current price, where known),
    pre_window_shares / pre_window_usdc, bought_shares, share_seconds (Little's law numerator), positions,
    open_positions.
    Daily: wallet w's calendar days are day_index[day_start[w] : day_start[w + 1]] (epoch day numbers) with
    booked P&L daily_pnl over the same slice.
    """

    matched: FloatArray
    realized: FloatArray
    avg_cost_before: FloatArray
    pnl: FloatArray
    realized_trading: FloatArray
    resolution: FloatArray
    fees: FloatArray
    open_basis: FloatArray
    unrealized: FloatArray
    pre_window_shares: FloatArray
    pre_window_usdc: FloatArray
    bought_shares: FloatArray
    share_seconds: FloatArray
    positions: IntArray
    open_positions: IntArray
    day_start: IntArray
    day_index: IntArray
    daily_pnl: FloatArray

    def days(self, w: int) -> tuple[IntArray, FloatArray]:
        lo, hi = int(self.day_start[w]), int(self.day_start[w + 1])
        return self.day_index[lo:hi], self.daily_pnl[lo:hi]

    @property
    def holding_hours(self) -> FloatArray:
        """Mean holding time of a share, hours (NaN for a wallet that acquired nothing)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.bought_shares > 0, self.share_seconds / self.bought_shares / 3600.0, np.nan)


def build_ledger(tape: TradeTape, facts: TokenFacts, as_of: int) -> Ledger:
    """Run the average-cost ledger over every position of the tape (see the module docstring)."""
    n = tape.n
    wallets = len(tape.wallets)
    order = np.lexsort((np.arange(n), tape.timestamp, tape.token, tape.wallet))
    wallet, token = tape.wallet[order], tape.token[order]
    buy, price, size, timestamp = tape.buy[order], tape.price[order], tape.size[order], tape.timestamp[order]
    start = np.r_[True, (token[1:] != token[:-1]) | (wallet[1:] != wallet[:-1])] if n else np.zeros(0, dtype=bool)

    # the only sequential part: holdings and basis per position, trade by trade
    start_l, buy_l, p_l, s_l = start.tolist(), buy.tolist(), price.tolist(), size.tolist()
    matched = [0.0] * n
    gain = [0.0] * n
    excess = [0.0] * n
    avg_before = [float("nan")] * n
    held = [0.0] * n
    basis_after = [0.0] * n
    q = basis = 0.0
    for j in range(n):
        if start_l[j]:
            q = basis = 0.0
        s = s_l[j]
        if q > DUST_SHARES:
            avg_before[j] = basis / q
        if buy_l[j]:
            q += s
            basis += p_l[j] * s
            matched[j] = s
        else:
            m = s
            if s > q:
                excess[j] = s - q
                m = q
            if m > 0:
                average = basis / q
                gain[j] = m * (p_l[j] - average)
                matched[j] = m
                basis -= m * average
                q -= m
            if q <= DUST_SHARES:
                q = basis = 0.0
        held[j] = q
        basis_after[j] = basis

    matched_s, gain_s, excess_s = np.array(matched), np.array(gain), np.array(excess)
    held_s, basis_s = np.array(held), np.array(basis_after)
    fee_s = tape.fee[order]
    realized_s = gain_s - fee_s

    # positions: the last trade of each carries its final holdings
    last = np.flatnonzero(np.r_[start[1:], True]) if n else np.zeros(0, dtype=np.int64)
    pos_wallet, pos_token = wallet[last], token[last]
    q_end, basis_end, t_end = held_s[last], basis_s[last], timestamp[last]
    payout, resolved_at, price_now = facts.payout[pos_token], facts.resolved_at[pos_token], facts.price_now[pos_token]
    holding = q_end > DUST_SHARES
    resolved = holding & ~np.isnan(payout)
    still_open = holding & ~resolved
    amount = np.where(resolved, q_end * np.nan_to_num(payout) - basis_end, 0.0)
    marked = still_open & ~np.isnan(price_now)
    tail_end = np.where(resolved, resolved_at, as_of)
    # Little's law: shares held between a position's trades, then to resolution (or the as-of time)
    gaps = np.diff(timestamp, append=timestamp[-1:] if n else timestamp).astype(np.float64)
    within = np.where(np.r_[start[1:], True], 0.0, held_s * gaps) if n else np.zeros(0)
    tail = np.where(holding, q_end * np.maximum(0, tail_end - t_end), 0.0)

    def per_wallet(index: IntArray, values: FloatArray) -> FloatArray:
        return np.bincount(index, weights=values, minlength=wallets).astype(np.float64)

    realized_trading = per_wallet(wallet, gain_s)
    fees = per_wallet(wallet, fee_s)
    resolution = per_wallet(pos_wallet, amount)
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    booked = np.flatnonzero(resolved)
    day_start, day_index, daily = _daily(
        tape,
        realized_s[inverse],
        pos_wallet[booked],
        np.maximum(resolved_at[booked], t_end[booked]),
        amount[booked],
    )
    return Ledger(
        matched=matched_s[inverse],
        realized=realized_s[inverse],
        avg_cost_before=np.array(avg_before)[inverse],
        pnl=realized_trading + resolution - fees,
        realized_trading=realized_trading,
        resolution=resolution,
        fees=fees,
        open_basis=per_wallet(pos_wallet, np.where(still_open, basis_end, 0.0)),
        unrealized=per_wallet(pos_wallet, np.where(marked, q_end * np.nan_to_num(price_now) - basis_end, 0.0)),
        pre_window_shares=per_wallet(wallet, excess_s),
        pre_window_usdc=per_wallet(wallet, excess_s * price),
        bought_shares=per_wallet(wallet, np.where(buy, size, 0.0)),
        share_seconds=per_wallet(wallet, within) + per_wallet(pos_wallet, tail),
        positions=np.bincount(pos_wallet, minlength=wallets).astype(np.int64),
        open_positions=np.bincount(pos_wallet, weights=still_open.astype(np.float64), minlength=wallets).astype(
            np.int64
        ),
        day_start=day_start,
        day_index=day_index,
        daily_pnl=daily,
    )


def _daily(
    tape: TradeTape, realized: FloatArray, booked_w: IntArray, booked_t: IntArray, booked_x: FloatArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Book trade-day and resolution-day amounts on each wallet's zero-filled calendar (see the module docstring)."""
    wallets = len(tape.wallets)
    all_w = np.concatenate([tape.wallet, booked_w])
    all_day = np.concatenate([tape.timestamp, booked_t]) // SECONDS_PER_DAY
    all_x = np.concatenate([realized, booked_x])
    first = np.full(wallets, np.iinfo(np.int64).max, dtype=np.int64)
    last = np.full(wallets, np.iinfo(np.int64).min, dtype=np.int64)
    np.minimum.at(first, all_w, all_day)
    np.maximum.at(last, all_w, all_day)
    active = first <= last
    length = np.where(active, last - first + 1, 0)
    day_start = np.concatenate(([0], np.cumsum(length))).astype(np.int64)
    slot = day_start[all_w] + (all_day - first[all_w])
    daily = np.bincount(slot, weights=all_x, minlength=int(day_start[-1]))
    wallet_of_slot = np.repeat(np.arange(wallets), length)
    day_index = first[wallet_of_slot] + (np.arange(int(day_start[-1])) - day_start[wallet_of_slot])
    return day_start, day_index.astype(np.int64), daily.astype(np.float64)
