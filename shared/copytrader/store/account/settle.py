"""Writing settlements: what `copytrader.risk.changes` computes, as one transaction of conditional writes.

A settlement reads what it needs first (the position and each copied whale's cost in it, the reservation's stop),
computes its `Changes` with the pure functions every account book shares, and writes them:

    reservation   settled = true, only if it was not (a reservation is released exactly once)
    account       cash, reserved, open cost, open orders, and the derived committed / available / equity
    exposures     one ADD per scope item (market, group, category, whale, and each one's part of the position)
    day           realized P&L added to today's item, which must exist
    position      shares and basis added, or removed on the condition that the shares are still those read
    ledger        one entry per settlement, put only if its id (`<KIND>#<reference>`) is new

The orders ledger (`copytrader.store.orders`) adds its own status update to the same transaction when it settles
an order, so a crash leaves all of it or none of it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from copytrader.model import ExecutionResult, ExecutionStatus, Market, Side, SizedOrder
from copytrader.money import ZERO
from copytrader.risk import changes
from copytrader.risk.changes import Changes, Holding, Redemption
from copytrader.risk.rules import Scope, utc_day
from copytrader.store.account.items import RESERVATION_TTL, AccountItems
from copytrader.store.positions import Positions, holding_of
from copytrader.store.tables import LedgerEntryModel, OrderModel, PositionModel, RiskStateModel, encode_share_moves
from copytrader.store.transactions import condition_failed, run_transaction

R = RiskStateModel
P = PositionModel
L = LedgerEntryModel


class Settlements:
    def __init__(self, items: AccountItems, positions: Positions) -> None:
        self.items = items
        self.positions = positions

    # ----------------------------------------------------------------------------------------- reads
    def holding(self, token_id: str) -> tuple[Holding | None, changes.PartCosts]:
        """The position as a settlement reads it, and each scope's part of its cost (`#PART#` items, one batch read)."""
        position = self.positions.get(token_id)
        if position is None:
            return None, {}
        holding = holding_of(position)
        scoped = holding.part_scopes()
        if not scoped or holding.shares <= 0:
            return holding, {}
        keys = {
            self.items.exposure_key(Scope.POSITION_PART, changes.part_name(token_id, kind, name)): (kind, name)
            for kind, name in scoped
        }
        found = {item.pk: item.exposure or ZERO for item in R.batch_get(list(keys), consistent_read=True)}
        return holding, {part: found.get(key, ZERO) for key, part in keys.items()}

    def fill(
        self, order: SizedOrder, result: ExecutionResult, reserved: Decimal, stop_at_entry: Decimal | None = None
    ) -> Changes:
        """What settling `result` of `order` changes, computed from what the tables hold now.

        Only a fill reads anything: a SELL its position and the scopes' parts, a reserved BUY its stop at entry
        unless the caller knows it (`stop_at_entry`: the stop the reservation records, written once when it was
        made and never changed, which the risk decision carries to execute).
        """
        filled = result.filled_shares > 0
        sold, bought = filled and order.side is Side.SELL, filled and order.side is Side.BUY
        holding, parts = self.holding(order.token_id) if sold else (None, {})
        if bought and reserved > 0 and stop_at_entry is None:
            reservation = self.items.reservation(order.idempotency_key)
            stop_at_entry = reservation.stop_loss if reservation is not None else None
        return changes.fill(
            order,
            result,
            reserved,
            holding=holding,
            parts=parts,
            stop_at_entry=stop_at_entry if bought and reserved > 0 else None,
        )

    # ---------------------------------------------------------------------------------------- writes
    def add(self, tx: TransactWrite, settled: Changes, now: datetime) -> None:
        """Add every write of `settled` to the transaction `tx`."""
        items = self.items
        if settled.settles_reservation is not None:
            tx.update(
                R(pk=items.reservation_key(settled.settles_reservation)),
                actions=[
                    R.settled.set(True),
                    R.unsettled.remove(),
                    R.expires_at.set(now + RESERVATION_TTL),
                    R.updated_at.set(now),
                ],
                condition=R.settled == False,  # noqa: E712
            )
        self._account(tx, settled.account, now)
        for (scope, name), delta in settled.exposure:
            named = R.condition_id.set(name) if scope is Scope.MARKET else R.scope.set(name)
            tx.update(
                R(pk=items.exposure_key(scope, name)), actions=[R.exposure.add(delta), named, R.updated_at.set(now)]
            )
        if settled.realized is not None:
            tx.update(
                R(pk=items.day_key(utc_day(now))),
                actions=[R.day_realized_pnl.add(settled.realized), R.updated_at.set(now)],
                condition=R.pk.exists(),
            )
        if settled.position is not None:
            self._position(tx, settled.position, now)
        for more in settled.more_positions:
            self._position(tx, more, now)
        line = settled.ledger
        if line is not None:
            tx.save(
                L(
                    account=items.account,
                    entry_id=line.entry_id,
                    kind=line.kind,
                    token_id=line.token_id,
                    condition_id=line.condition_id,
                    shares_delta=line.shares_delta,
                    cash_delta=line.cash_delta,
                    fee=line.fee,
                    realized_pnl=line.realized_pnl,
                    at=now,
                    reference=line.reference,
                    more_shares=encode_share_moves(line.more_shares),
                ),
                condition=L.entry_id.does_not_exist(),
            )

    def ready(self, settled: Changes, now: datetime) -> None:
        """Create what `settled`'s conditional writes need before its transaction: today's day item for a realized
        P&L (the first settlement of a UTC day may be a SELL or a redemption)."""
        if settled.realized is not None:
            self.items.ensure_day(now)

    def commit(self, settled: Changes, now: datetime) -> None:
        """Write `settled` as a transaction of its own (retried on conflicts; a failed condition raises)."""
        self.ready(settled, now)
        run_transaction(self.items.connection, lambda tx: self.add(tx, settled, now))

    def _account(self, tx: TransactWrite, delta: changes.AccountDelta, now: datetime) -> None:
        """Apply deltas to the account and keep its derived fields (committed, available, equity) consistent."""
        actions: list[Action] = []
        for attribute, value in (
            (R.cash, delta.cash),
            (R.reserved, delta.reserved),
            (R.open_cost, delta.open_cost),
            (R.committed, delta.committed),
            (R.available, delta.available),
            (R.equity, delta.equity),
        ):
            if value:
                actions.append(attribute.add(value))
        if delta.open_orders:
            actions.append(R.open_orders.add(delta.open_orders))
        if actions:
            actions.append(R.updated_at.set(now))
            tx.update(R(pk=self.items.account_key()), actions=actions, condition=R.pk.exists())

    def _position(self, tx: TransactWrite, change: changes.PositionChange, now: datetime) -> None:
        key = P(self.items.account, change.token_id)
        if change.expected_shares is not None:  # a reduction, conditional on the shares it was computed from
            reduction: list[Action] = [
                P.shares.add(change.shares),
                P.cost_basis.add(change.cost),
                P.realized_pnl.add(change.realized_pnl),
                P.fees_paid.add(change.fee),
                P.updated_at.set(now),
                P.closed.set(change.closes),
            ]
            if change.closes:  # the lot ends: the next BUY opens a new one with its own date, stop and scopes
                reduction += [P.opened_at.remove(), P.stop_loss.remove(), P.whales.remove(), P.groups.remove()]
                reduction += [P.categories.remove(), P.bid_high.remove()]
            tx.update(key, actions=reduction, condition=P.shares == change.expected_shares)
            return
        actions: list[Action] = [
            P.shares.add(change.shares),
            P.cost_basis.add(change.cost),
            P.fees_paid.add(change.fee),
            P.condition_id.set(change.condition_id),
            P.opened_at.set(P.opened_at | now),
            P.updated_at.set(now),
            P.closed.set(False),
        ]
        if change.event_id:
            actions.append(P.event_id.set(change.event_id))
        if change.scope is not None:
            scope = change.scope
            actions += [P.risk_group.set(scope.group), P.category.set(scope.category), P.whales.add({scope.wallet})]
            actions += [P.groups.add({scope.group}), P.categories.add({scope.category})]
        if change.stop_loss is not None:
            actions.append(P.stop_loss.set(P.stop_loss | change.stop_loss))
        tx.update(key, actions=actions)

    # ---------------------------------------------------------------------------- settlements of their own
    def release(self, idempotency_key: str, condition_id: str, amount: Decimal, now: datetime) -> bool:
        """Give back an unused reservation (order not filled). False when it was already released."""
        reservation = self.items.reservation(idempotency_key)
        if reservation is None or reservation.settled:
            return False
        settled = changes.release(idempotency_key, condition_id, amount, reservation)
        try:
            self.commit(settled, now)
        except TransactWriteError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def unsettled_reservations(self, made_before: datetime, limit: int) -> list[RiskStateModel]:
        """Reservations not yet settled that were made before `made_before`, oldest first (the sparse index)."""
        query = R.unsettled_reservations.query(
            self.items.account, R.reserved_at < made_before, limit=limit, scan_index_forward=True
        )
        return list(query)

    def release_orphan(self, reservation: RiskStateModel, now: datetime) -> str | None:
        """Give back a reservation that no orders-ledger entry owns: its idempotency key, or None when an entry owns
        it (or it was settled).

        The transaction checks that the orders table has no entry for its idempotency key, and the ledger's first
        write (`OrderLedger.begin`) checks that the reservation is not settled: whichever commits first wins, so a
        reservation is never released under an order, and no order is begun on a released reservation.
        """
        key = reservation.pk.removeprefix(self.items.reservation_key(""))
        amount = reservation.amount or ZERO
        settled = changes.release(key, reservation.condition_id or "", amount, reservation)

        def build(tx: TransactWrite) -> None:
            tx.condition_check(OrderModel, key, condition=OrderModel.idempotency_key.does_not_exist())
            self.add(tx, settled, now)

        try:
            run_transaction(self.items.connection, build)
        except TransactWriteError as exc:
            if condition_failed(exc):
                return None
            raise
        return key

    def unsettled_sells(self, token_ids: set[str]) -> set[str]:
        """The tokens among `token_ids` with a SELL of this account not yet settled (PENDING or UNKNOWN)."""
        found: set[str] = set()
        for status in (ExecutionStatus.PENDING, ExecutionStatus.UNKNOWN):
            for entry in OrderModel.by_status.query(status.value):
                if (
                    entry.account == self.items.account
                    and entry.side == Side.SELL.value
                    and entry.token_id in token_ids
                ):
                    found.add(entry.token_id)
        return found

    def redeem(self, market: Market, now: datetime) -> list[Redemption]:
        """Settle every open position in a resolved market: cash in the payout, release the basis.

        Each position is one transaction (position, account, exposures, day P&L, ledger entry); the ledger entry
        `REDEEM#<token>#<lot>` and the position's share condition make a second run a no-op. A position with a SELL
        not yet settled (PENDING or UNKNOWN in the orders ledger) waits for the next run: the venue may have sold some
        of its shares already, and redeeming them would pay for shares we no longer hold and leave the SELL with
        nothing to settle against.
        """
        if market.payouts is None:
            raise ValueError(f"market {market.condition_id} is not resolved")
        selling = self.unsettled_sells({token.token_id for token in market.tokens})
        done: list[Redemption] = []
        for token in market.tokens:
            if token.token_id in selling:
                continue
            holding, parts = self.holding(token.token_id)
            if holding is None or holding.shares <= 0:
                continue
            redeemed, settled = changes.redemption(market, holding, parts)
            try:
                self.commit(settled, now)
            except TransactWriteError as exc:
                if condition_failed(exc):
                    continue  # redeemed concurrently or already: the ledger entry exists
                raise
            done.append(redeemed)
        return done
