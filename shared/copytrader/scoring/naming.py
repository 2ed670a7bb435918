"""What named a wallet and what it looked at: the selection window of the scorer's split. No numpy: the Discover
step (which ships without the quant layer) computes the windows of newly named wallets.

`SelectionWindow` (named_at, looked_from, selected_at) and how it is used: copytrader.scoring.holdout. Each discovery
source looks back a known span: a leaderboard ranking its period (DAY 1 d, WEEK 7 d, MONTH 30 d; ALL: everything),
a large trade of the global feed at most LARGE_TRADE_LOOKBACK; anything else (an operator's list, a source this code
does not know) is taken to have looked at everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

PERIOD_LOOKBACK = {"DAY": timedelta(days=1), "WEEK": timedelta(days=7), "MONTH": timedelta(days=30)}
LARGE_TRADE_LOOKBACK = timedelta(days=7)  # the feed's newest large fills span hours to days: a week bounds them


@dataclass(frozen=True)
class SelectionWindow:
    """What named a wallet looked at, [looked_from, named_at] (epoch seconds; looked_from None: from the start),
    and when the wallet was first selected (None: never)."""

    named_at: int
    looked_from: int | None = None
    selected_at: int | None = None

    def __post_init__(self) -> None:
        if self.looked_from is not None and self.looked_from > self.named_at:
            raise ValueError("a naming cannot look at history after it")


def lookback(provenance: Iterable[str]) -> timedelta | None:
    """How far back the sources that named a wallet looked: the widest of them; None when any looked at all of its
    history (an ALL-time ranking, an operator's list, a source this code does not know) or there is none."""
    widest = timedelta(0)
    seen = False
    for source in provenance:
        seen = True
        if source.startswith("leaderboard:"):
            period = source.removeprefix("leaderboard:").split("/")[1] if source.count("/") >= 2 else ""
            span = PERIOD_LOOKBACK.get(period)
        elif source.startswith("large_trade:"):
            span = LARGE_TRADE_LOOKBACK
        else:
            span = None
        if span is None:
            return None
        widest = max(widest, span)
    return widest if seen else None


def first_naming(provenance: Iterable[str], named_at: int) -> SelectionWindow:
    """The window of a wallet named now (at `named_at`) by these sources."""
    span = lookback(provenance)
    return SelectionWindow(named_at, None if span is None else named_at - int(span.total_seconds()))
