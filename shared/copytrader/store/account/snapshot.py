"""One account's books read from the tables, as `copytrader.risk.audit.Books` (for `copytrader audit`).

Reads: the account's risk items (a Scan filtered on the account's key prefix: the risk table is keyed by item, and
the audit is hourly), its positions and ledger (queries), and the unsettled orders-ledger entries (the status
index). Consistent reads where DynamoDB offers them; the snapshot is not one point in time, so an audit run while
copies settle may see a settlement half read (the account before it, the ledger after): the alarm fires on any
violation, and its text says to run `copytrader audit` again for the figures before acting.
"""

from __future__ import annotations

from decimal import Decimal

from copytrader.model import ExecutionStatus
from copytrader.money import ZERO
from copytrader.risk.audit import Books, OpenReservation
from copytrader.risk.changes import LedgerLine
from copytrader.risk.rules import Scope
from copytrader.store.account.items import AccountItems
from copytrader.store.positions import holding_of
from copytrader.store.tables import LedgerEntryModel, OrderModel, PositionModel, RiskStateModel, decode_share_moves

R = RiskStateModel
_SCOPES = {s.value: s for s in Scope}


def read_books(items: AccountItems) -> Books:
    account = items.account
    prefix = f"{account}#"
    exposure: dict[tuple[Scope, str], Decimal] = {}
    reservations: list[OpenReservation] = []
    days: dict[str, Decimal] = {}
    head = None
    for item in R.scan(R.pk.startswith(prefix), consistent_read=True):
        kind, _, name = item.pk[len(prefix) :].partition("#")
        if kind == "ACCOUNT":
            head = item
        elif kind == "DAY":
            days[name] = item.day_realized_pnl or ZERO
        elif kind == "RESV" and not item.settled:
            reservations.append(
                OpenReservation(
                    key=name,
                    amount=item.amount or ZERO,
                    condition_id=item.condition_id or "",
                    group=item.risk_group or "",
                    category=item.category or "",
                    wallet=item.wallet or "",
                    reserved_at=item.reserved_at,
                )
            )
        elif kind in _SCOPES:
            exposure[(_SCOPES[kind], name)] = item.exposure or ZERO
    if head is None:
        raise LookupError(f"account {account} has no risk state")
    positions = tuple(holding_of(p) for p in PositionModel.query(account, consistent_read=True))
    ledger = tuple(
        (
            e.at,
            LedgerLine(
                kind=e.kind,
                reference=e.reference or "",
                token_id=e.token_id,
                condition_id=e.condition_id,
                shares_delta=e.shares_delta or ZERO,
                cash_delta=e.cash_delta or ZERO,
                fee=e.fee or ZERO,
                realized_pnl=e.realized_pnl or ZERO,
                more_shares=decode_share_moves(e.more_shares),
            ),
        )
        for e in LedgerEntryModel.query(account, consistent_read=True)
    )
    unsettled = {
        o.idempotency_key: o.reserved or ZERO
        for status in (ExecutionStatus.PENDING, ExecutionStatus.UNKNOWN)
        for o in OrderModel.by_status.query(status.value)
        if o.account == account
    }
    return Books(
        cash=head.cash or ZERO,
        reserved=head.reserved or ZERO,
        open_cost=head.open_cost or ZERO,
        committed=head.committed or ZERO,
        available=head.available or ZERO,
        equity=head.equity or ZERO,
        open_orders=int(head.open_orders or 0),
        reservations=tuple(reservations),
        exposure=exposure,
        positions=positions,
        ledger=ledger,
        days=days,
        unsettled_entries=unsettled,
    )
