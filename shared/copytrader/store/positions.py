"""Our positions and the cash ledger, read (settlements write them: copytrader.store.account.settle).

A position holds shares and their cost basis (fees included), the scopes its cost counts in, the whales whose
copies built it and the stop at entry. Every change of cash or shares is one ledger entry whose id
(`<KIND>#<reference>`) makes it idempotent.
"""

from __future__ import annotations

from decimal import Decimal

from pynamodb.exceptions import DoesNotExist

from copytrader.money import ZERO
from copytrader.risk.changes import Holding
from copytrader.store.conditional import update_if
from copytrader.store.tables import LedgerEntryModel, PositionModel

P = PositionModel
L = LedgerEntryModel


def holding_of(position: PositionModel) -> Holding:
    """The position as a settlement and the audit read it (`copytrader.risk.changes.Holding`)."""
    return Holding(
        token_id=position.token_id,
        condition_id=position.condition_id,
        shares=position.shares,
        cost_basis=position.cost_basis,
        risk_group=position.risk_group,
        category=position.category,
        whales=tuple(sorted(position.whales or ())),
        stop_loss=position.stop_loss,
        groups=tuple(sorted(position.groups or ())),
        categories=tuple(sorted(position.categories or ())),
        opened_at=position.opened_at,
    )


class Positions:
    """One account's positions and ledger."""

    def __init__(self, account: str) -> None:
        self.account = account

    def get(self, token_id: str) -> PositionModel | None:
        try:
            return P.get(self.account, token_id, consistent_read=True)
        except DoesNotExist:
            return None

    def held_shares(self, token_id: str) -> Decimal:
        position = self.get(token_id)
        return position.shares if position is not None else ZERO

    def raise_bid_high(self, position: PositionModel, bid: Decimal) -> bool:
        """Record `bid` as the lot's bid high-water mark if it is higher than the one recorded, and the lot is still
        the one read (same open date, shares held); True when written."""
        higher = P.bid_high.does_not_exist() | (P.bid_high < bid)
        lot = P.opened_at.does_not_exist() if position.opened_at is None else P.opened_at == position.opened_at
        same_lot = lot & (P.shares > ZERO)
        return update_if(P(self.account, position.token_id), [P.bid_high.set(bid)], higher & same_lot)

    def all(self) -> list[PositionModel]:
        return list(P.query(self.account, consistent_read=True))

    def ledger(self) -> list[LedgerEntryModel]:
        return sorted(L.query(self.account, consistent_read=True), key=lambda e: (e.at, e.entry_id))


__all__ = ["Positions", "holding_of"]
