"""Conflicts between tracked whales: opposite stances on one market or on one neg-risk event (pure).

Direction (the convention every rule below uses)
    A market's first outcome token (`Market.tokens[0]`, "Yes" on a Yes/No market) is its long side.
    BUY of the first token = long (+1); BUY of any other token (NO) = short (-1). A SELL is an exit, not a view:
    it makes the wallet flat (0) on that market, replacing its earlier stance there.

Groups
    Stances are grouped by `conflict_group`: the neg-risk group (`negrisk:<neg_risk_market_id>`) for a member of
    one, else the market alone (`market:<condition_id>`). Only markets whose outcomes exclude each other can hold
    opposite views, so plain events are not grouped (two markets of one event can both resolve YES).

Implied view
    In a neg-risk group exactly one member resolves YES, so long member X implies short every other member Y;
    short X implies nothing about Y. A stance s (market m, direction d) therefore implies on market t:
        v(s, t) = d                      if m = t
                = -1 if d = +1 else 0    if m != t (same neg-risk group)
    Two stances conflict on t when v(s, t) x d_new < 0: same market, opposite sides; or, in a neg-risk group,
    both long on different members (each implies the other is short).

Stances counted for a new trade: other wallets' (a whale's own earlier trades never conflict with it), not older
than the window (`filters.conflict_window_s`), direction != 0, the latest per (wallet, market) (the store keeps
one item per pair).

Policies (`filters.conflict_policy`), applied only to BUYs and only when some stance opposes the trade:
    skip           skip (reason conflicting_whales).
    follow_higher  copy only if this whale's score is strictly above every opposing whale's score, else skip
                   (reason conflict_lower_score); ties skip.
    net            N = w_new x d_new + sum_s w_s x v(s, t) over the counted stances (agreeing ones too), with
                   w = max(score, 0); copy only if N x d_new > 0, else skip (reason conflicting_whales). A tie
                   (N = 0) skips.
The default is `skip`: the opposing whale's position is often already copied, so following the other side
(follow_higher, or net) can leave us holding both sides of one market, paying the spread and the taker fee twice
for a hedged book; and the scores that would break the tie are estimates whose intervals usually overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from copytrader.model import Market, Side, WhaleProfile, WhaleTrade
from copytrader.money import ZERO
from copytrader.reasons import Reason
from copytrader.settings import ConflictPolicy

LONG = 1
SHORT = -1
FLAT = 0


@dataclass(frozen=True)
class Stance:
    """One wallet's latest view on one market, as the score step recorded it."""

    group: str
    condition_id: str
    wallet: str
    direction: int  # +1 long, -1 short, 0 flat (after a SELL)
    score: Decimal  # the whale's score when the trade was seen
    at: datetime  # the trade's time (block time)
    trade_key: str = ""


@dataclass(frozen=True)
class Conflict:
    """Why a trade is not copied: the reason and a detail naming the opposing wallets."""

    reason: Reason
    detail: str


def conflict_group(market: Market) -> str:
    """The key stances are grouped under: the neg-risk group, else the market itself."""
    if market.neg_risk and market.neg_risk_market_id:
        return f"negrisk:{market.neg_risk_market_id}"
    return f"market:{market.condition_id}"


def direction(trade: WhaleTrade, market: Market) -> int:
    """+1 for a BUY of the market's first outcome, -1 for a BUY of another, 0 for a SELL (see module docstring)."""
    if trade.side is Side.SELL:
        return FLAT
    return LONG if market.tokens[0].token_id == trade.token_id else SHORT


def stance_of(trade: WhaleTrade, market: Market, whale: WhaleProfile) -> Stance:
    return Stance(
        group=conflict_group(market),
        condition_id=market.condition_id,
        wallet=trade.wallet,
        direction=direction(trade, market),
        score=whale.score,
        at=trade.timestamp,
        trade_key=trade.key,
    )


def implied(stance: Stance, condition_id: str) -> int:
    """The view `stance` implies on market `condition_id` of the same group, v(s, t) of the module docstring."""
    if stance.condition_id == condition_id:
        return stance.direction
    return SHORT if stance.direction == LONG else FLAT


def counted(new: Stance, stances: Iterable[Stance], now: datetime, window_s: int) -> list[Stance]:
    """The stances a new trade is checked against: other wallets, same group, inside the window, not flat."""
    oldest = now - timedelta(seconds=window_s)
    return [
        s for s in stances if s.wallet != new.wallet and s.group == new.group and s.direction != FLAT and s.at >= oldest
    ]


def _weight(score: Decimal) -> Decimal:
    return max(score, ZERO)


def _who(stances: Iterable[Stance]) -> str:
    return ", ".join(f"{s.wallet[:10]} ({'long' if s.direction == LONG else 'short'} {s.score})" for s in stances)


def assess(
    new: Stance, stances: Iterable[Stance], policy: ConflictPolicy, now: datetime, window_s: int
) -> Conflict | None:
    """None when the trade may be copied, else the conflict that stops it (rules in the module docstring)."""
    if new.direction == FLAT:
        return None
    others = counted(new, stances, now, window_s)
    opposing = [s for s in others if implied(s, new.condition_id) * new.direction < 0]
    if not opposing:
        return None
    if policy is ConflictPolicy.SKIP:
        return Conflict(Reason.CONFLICTING_WHALES, f"opposed by {_who(opposing)}")
    if policy is ConflictPolicy.FOLLOW_HIGHER:
        stronger = [s for s in opposing if s.score >= new.score]
        if stronger:
            return Conflict(Reason.CONFLICT_LOWER_SCORE, f"score {new.score} does not beat opposing {_who(stronger)}")
        return None
    net = _weight(new.score) * new.direction + sum(
        (_weight(s.score) * implied(s, new.condition_id) for s in others), ZERO
    )
    if net * new.direction > 0:
        return None
    return Conflict(
        Reason.CONFLICTING_WHALES,
        f"score-weighted net {net} does not agree with this trade; opposed by {_who(opposing)}",
    )


__all__ = ["Conflict", "Stance", "assess", "conflict_group", "counted", "direction", "implied", "stance_of"]
