"""Conflicts between tracked whales: opposite stances on one market (pure).

Direction (the convention every rule below uses)
    A market's first outcome token (`Market.tokens[0]`, "Yes" on a Yes/No market) is its long side.
    BUY of the first token = long (+1); BUY of any other token (NO) = short (-1). A SELL is an exit, not a view:
    it makes the wallet flat (0) on that market, replacing its earlier stance there.

Which views oppose (the rule, and why)
    A BUY at price p is a bet that the outcome is more likely than p: YES on X at p says P(X) > p; NO on X at q
    says P(NOT X) > q, i.e. P(X) < 1 - q. Two views conflict when no probability can make both right.
    - Same market, YES at p and NO at q: both right needs p < P(X) < 1 - q, impossible once p + q >= 1. Bought
      on one book, p + q = YES ask + NO ask = YES ask + (1 - YES bid) = 1 + spread >= 1: they conflict. Bought
      hours apart at prices that moved, p + q < 1 is possible: then both can be right (YES at 0.30 and NO at
      0.60 agree that 0.30 < P(X) < 0.40, and holding both pays 1 - p - q for sure). Stances keep no price (the
      stances table has none), so every opposite pair on one market counts: the safe side.
    - Two members X != Y of a neg-risk group (exactly one member resolves YES, so P(X) + P(Y) <= 1; NO on X
      pays what YES on every other member pays together, which is the neg-risk conversion):
        YES X at p_X, YES Y at p_Y: both right needs P(X) > p_X and P(Y) > p_Y, possible whenever
            p_X + p_Y < 1. Members X 0.30, Y 0.25, Z 0.45: P = (0.35, 0.30, 0.35) makes both buyers right;
            they agree that Z is overpriced. p_X + p_Y >= 1 needs every other member priced at about zero
            (a group's YES asks sum to at least 1), i.e. a group that is in effect X-or-Y.
        YES X, NO Y: P(X) = 1 makes both right; NO on Y holds YES on X through the conversion: they agree.
        NO X, NO Y: a third member winning makes both right.
    So only opposite sides of the same market conflict. The one exception, a group whose other members are all
    priced at zero (where YES on Y is in effect NO on X), would also need the stances' prices; a hedged pair
    there costs the spread and fees twice, and the group exposure cap still bounds it.
    (An earlier rule read "long X implies short every other member": it blocked whales that agreed, 73 of
    225 fills of truly skilled wallets in the seed-20 demo.)

Groups
    Stances are stored and read by `conflict_group` (the stances table's partition): the neg-risk group
    (`negrisk:<neg_risk_market_id>`) for a member of one, else the market alone (`market:<condition_id>`). Of
    a group's stances only those on the trade's own market count.

Stances counted for a new trade: other wallets' (a whale's own earlier trades never conflict with it) on the
same market, not older than the window (`filters.conflict_window_s`), direction != 0, the latest per (wallet,
market) (the store keeps one item per pair).

Policies (`filters.conflict_policy`), applied only to BUYs and only when some counted stance opposes the trade:
    skip           skip (reason conflicting_whales).
    follow_higher  copy only if this whale's score is strictly above every opposing whale's score, else skip
                   (reason conflict_lower_score); ties skip.
    net            N = w_new x d_new + sum_s w_s x d_s over the counted stances (agreeing ones too), with
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


def counted(new: Stance, stances: Iterable[Stance], now: datetime, window_s: int) -> list[Stance]:
    """The stances a new trade is checked against: other wallets, same market, inside the window, not flat."""
    oldest = now - timedelta(seconds=window_s)
    return [
        s
        for s in stances
        if s.wallet != new.wallet and s.condition_id == new.condition_id and s.direction != FLAT and s.at >= oldest
    ]


def opposes(stance: Stance, new: Stance) -> bool:
    """True when `stance` contradicts `new`: opposite sides of the same market (the module docstring's rule)."""
    return stance.condition_id == new.condition_id and stance.direction * new.direction < 0


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
    opposing = [s for s in others if opposes(s, new)]
    if not opposing:
        return None
    if policy is ConflictPolicy.SKIP:
        return Conflict(Reason.CONFLICTING_WHALES, f"opposed by {_who(opposing)}")
    if policy is ConflictPolicy.FOLLOW_HIGHER:
        stronger = [s for s in opposing if s.score >= new.score]
        if stronger:
            return Conflict(Reason.CONFLICT_LOWER_SCORE, f"score {new.score} does not beat opposing {_who(stronger)}")
        return None
    net = _weight(new.score) * new.direction + sum((_weight(s.score) * s.direction for s in others), ZERO)
    if net * new.direction > 0:
        return None
    return Conflict(
        Reason.CONFLICTING_WHALES,
        f"score-weighted net {net} does not agree with this trade; opposed by {_who(opposing)}",
    )


__all__ = ["Conflict", "Stance", "assess", "conflict_group", "counted", "direction", "opposes", "stance_of"]
