"""A copied whale's net shares of a token, from the trades of it we observed: what the mirror exit sizes on.

Item `<account>#WHALEPOS#<wallet>#<token>` in the risk table: `shares` (its BUYs less its SELLs, as the copy queue
delivered them) and `trade_keys` (each trade counted once: the update is conditional on the key not being in the
set, so a redelivered trade changes nothing). The score step reads the item with its other reads (a SELL's
fraction is sold / the shares before it: `copytrader.copying.exits.mirror_fraction`) and then adds the trade. The
copy queue's FIFO group is the market, so one token's trades arrive in order.

What this cannot know: a whale's shares bought before we tracked it, or trades no source reported. Then its SELL
can be larger than what we counted, and the mirror is a full exit of its part (the conservative side, see
`copying/exits.py`). A whale with no item is asked of the Data API v2 `/v2/positions` when `exits.whale_positions_url`
is set (`store.decision_reads`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from copytrader.model import Side, WhaleTrade
from copytrader.store.conditional import update_if
from copytrader.store.tables import RiskStateModel

R = RiskStateModel


class WhaleHoldings:
    """One account's record of its copied whales' net shares per token."""

    def __init__(self, account: str) -> None:
        self.account = account

    def key(self, wallet: str, token_id: str) -> str:
        return f"{self.account}#WHALEPOS#{wallet.lower()}#{token_id}"

    @staticmethod
    def shares_of(item: RiskStateModel | None) -> Decimal | None:
        """The net shares an item records (None: no trade of that whale in that token observed)."""
        return None if item is None or item.shares is None else item.shares

    @staticmethod
    def before(item: RiskStateModel | None, trade: WhaleTrade) -> Decimal | None:
        """The whale's shares before `trade`: the item's, with the trade taken back out when a redelivery finds it
        already counted (so a retried SELL is sized on the same fraction)."""
        shares = WhaleHoldings.shares_of(item)
        if shares is None or item is None or trade.key not in (item.trade_keys or set()):
            return shares
        return shares - trade.size if trade.side is Side.BUY else shares + trade.size

    def observe(self, trade: WhaleTrade, now: datetime) -> bool:
        """Add the trade (BUY +size, SELL -size) once; False when its key was already counted."""
        delta = trade.size if trade.side is Side.BUY else -trade.size
        item = R(pk=self.key(trade.wallet, trade.token_id))
        return update_if(
            item,
            [R.shares.add(delta), R.trade_keys.add({trade.key}), R.scope.set(trade.wallet), R.updated_at.set(now)],
            ~R.trade_keys.contains(trade.key),
        )


__all__ = ["WhaleHoldings"]
