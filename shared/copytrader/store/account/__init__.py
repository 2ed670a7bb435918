"""One account's risk state in DynamoDB, by what each part does.

- `items`: the keys of the account's items in the risk table; the account and day items, created on first use;
- `reads`: the account and today's item as `PortfolioState`, the exposures a BUY counts against, limit counters;
- `reserve`: a BUY's reservation under every limit, one conditional transaction of eight items;
- `settle`: settlements (fills, redemptions, reservations given back) written from `copytrader.risk.changes`;
- `breakers`: the daily-loss breaker, the drawdown halt, the kill switch, and what follows a settlement;
- `marked`: marked equity (`copytrader.risk.marking`) recorded on the account and the day, tripping the same halts.

The rules are `copytrader.risk.rules` and the arithmetic `copytrader.risk.changes`; the in-memory twin of this
store is `copytrader.risk.book.AccountBook`.
"""

from __future__ import annotations

from pynamodb.connection import Connection

from copytrader.store.account.breakers import Breakers
from copytrader.store.account.items import AccountItems
from copytrader.store.account.marked import MarkedHalts
from copytrader.store.account.reads import AccountReads
from copytrader.store.account.reserve import Reservations
from copytrader.store.account.settle import Settlements
from copytrader.store.positions import Positions


class AccountStore:
    """One account's items, reads, reservations, settlements and breakers (each a small object of its own)."""

    def __init__(self, account: str, connection: Connection | None = None) -> None:
        self.items = AccountItems(account, connection)
        self.positions = Positions(account)
        self.reads = AccountReads(self.items)
        self.reservations = Reservations(self.items)
        self.settlements = Settlements(self.items, self.positions)
        self.breakers = Breakers(self.items, self.reads)
        self.marked = MarkedHalts(self.items)

    @property
    def account(self) -> str:
        return self.items.account


__all__ = ["AccountStore"]
