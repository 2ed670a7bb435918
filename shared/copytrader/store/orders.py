"""The orders ledger: the exactly-once record of every copy, and the settlement of its outcome.

`begin` writes the entry (status PENDING, with the venue order id the order will carry, the signed order that
every attempt sends, and the sized order itself) with a conditional put *before* any venue call; a second `begin`
for the same idempotency key finds the first entry instead of creating one, which is what makes a redelivered
whale fill place no second order. `record` then settles the venue's answer in one transaction: the order's final status
together with the cash, reservation, exposure, position and ledger entry it implies, so a crash leaves
either all of it or none of it. An UNKNOWN entry (ambiguous send, order still working at the venue) is
settled the same way once reconciliation knows the outcome; `unresolved` lists them for the sweep.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from copytrader.execution.protocol import LedgerEntry
from copytrader.model import ExecutionResult, ExecutionStatus, Fill, Side, SizedOrder
from copytrader.money import ZERO
from copytrader.reasons import Reason
from copytrader.risk.changes import Changes
from copytrader.store.account import AccountStore
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.tables import OrderModel, RiskStateModel
from copytrader.store.transactions import CONDITION_FAILED, cancellation_codes, condition_failed, run_transaction

Orders = OrderModel
_MAX_POSITION_RETRIES = 5
_UNSETTLED = (ExecutionStatus.PENDING.value, ExecutionStatus.UNKNOWN.value)


class OrderLedger:
    """One account's orders ledger (implements `copytrader.execution.protocol.Ledger`)."""

    def __init__(self, account: AccountStore) -> None:
        self.settlements = account.settlements
        self.account = account.account

    def get(self, idempotency_key: str) -> OrderModel | None:
        try:
            return Orders.get(idempotency_key, consistent_read=True)
        except DoesNotExist:
            return None

    def begin(
        self,
        order: SizedOrder,
        reserved: Decimal,
        now: datetime,
        venue_order_id: str | None = None,
        signed_order: str | None = None,
    ) -> ExecutionResult | None:
        """Create the PENDING entry (with the signed order a later attempt sends again); None when created, else the
        result the existing entry stands for."""
        entry = Orders(
            venue_order_id=venue_order_id,
            signed_order=signed_order,
            order_json=order.model_dump_json(),
            idempotency_key=order.idempotency_key,
            account=self.account,
            trade_key=order.trade_key,
            wallet=order.wallet,
            condition_id=order.condition_id,
            token_id=order.token_id,
            side=order.side.value,
            order_type=order.order_type.value,
            shares=order.shares,
            limit_price=order.limit_price,
            reserved=reserved,
            status=ExecutionStatus.PENDING.value,
            attempts=1,
            created_at=now,
            updated_at=now,
        )
        if reserved > 0:
            begun = self._begin_on_reservation(entry, order, now)
            if isinstance(begun, ExecutionResult):
                return begun
            if begun == "created":
                return None
        elif put_if_absent(entry):
            return None
        existing = self.get(order.idempotency_key)
        if existing is None:  # deleted in between: nothing sane to do but refuse
            raise RuntimeError(f"ledger entry {order.idempotency_key} vanished after a conflicting put")
        return result_from_entry(existing, duplicate=True, now=now)

    def _begin_on_reservation(
        self, entry: OrderModel, order: SizedOrder, now: datetime
    ) -> ExecutionResult | Literal["created", "exists"]:
        """Put the entry only while its reservation is unsettled, in one transaction.

        "created"; "exists" when an entry exists already (a redelivery or a retry: the caller reads it); a
        REJECTED result (nothing placed, nothing to settle) when the reservation was released first (the sweep gives
        back a reservation no entry owns: `Settlements.release_orphan`)."""
        items = self.settlements.items

        def build(tx: TransactWrite) -> None:
            tx.save(entry, condition=Orders.idempotency_key.does_not_exist())
            tx.condition_check(
                RiskStateModel,
                items.reservation_key(order.idempotency_key),
                condition=RiskStateModel.settled == False,  # noqa: E712
            )

        try:
            run_transaction(items.connection, build)
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)  # pynamodb sends the condition check first, then the put
            if len(codes) != 2 or CONDITION_FAILED not in codes:
                raise
            if codes[1] == CONDITION_FAILED:  # the entry exists: a redelivery or a retry
                return "exists"
            return ExecutionResult(
                idempotency_key=order.idempotency_key,
                status=ExecutionStatus.REJECTED,
                reason=Reason.RESERVATION_RELEASED,
                detail="the reservation was released before the order was begun (no ledger entry owned it); not placed",
                side=order.side,
                executed_at=now,
            )
        return "created"

    def entry(self, idempotency_key: str) -> LedgerEntry | None:
        """The entry as reconciliation sees it (consistent read)."""
        found = self.get(idempotency_key)
        if found is None:
            return None
        return LedgerEntry(
            idempotency_key=found.idempotency_key,
            status=ExecutionStatus(found.status),
            venue_order_id=found.venue_order_id,
            created_at=found.created_at,
            result=result_from_entry(found, duplicate=False, now=found.updated_at),
            signed_order=found.signed_order,
        )

    def unresolved(self, limit: int = 100) -> Iterator[tuple[SizedOrder, Decimal]]:
        """This account's UNKNOWN and PENDING entries, oldest first, with the order and reservation to settle."""
        count = 0
        for status in (ExecutionStatus.UNKNOWN, ExecutionStatus.PENDING):
            for item in Orders.by_status.query(status.value, scan_index_forward=True):
                if item.account != self.account or not item.order_json:
                    continue
                yield SizedOrder.model_validate_json(item.order_json), item.reserved or ZERO
                count += 1
                if count >= limit:
                    return

    def mark_unknown(self, idempotency_key: str, detail: str, now: datetime) -> bool:
        """PENDING -> UNKNOWN: the venue may hold an order we cannot see; reconcile before anything else."""
        return update_if(
            Orders(idempotency_key=idempotency_key),
            actions=[
                Orders.status.set(ExecutionStatus.UNKNOWN.value),
                Orders.reason.set(Reason.VENUE_AMBIGUOUS.value),
                Orders.detail.set(detail[:500]),
                Orders.attempts.add(1),
                Orders.updated_at.set(now),
            ],
            condition=Orders.status == ExecutionStatus.PENDING.value,
        )

    def record(
        self,
        order: SizedOrder,
        result: ExecutionResult,
        reserved: Decimal,
        now: datetime,
        stop_at_entry: Decimal | None = None,
    ) -> None:
        """Settle the venue's definite answer (FILLED, PARTIAL, UNFILLED or REJECTED) in one transaction.

        Only an unsettled entry (PENDING, or UNKNOWN being reconciled) can be settled, and only once. A BUY fill
        books `stop_at_entry` on a new position when given (the risk decision carries it), else the stop its
        reservation records (one read)."""
        if result.status not in (
            ExecutionStatus.FILLED,
            ExecutionStatus.PARTIAL,
            ExecutionStatus.UNFILLED,
            ExecutionStatus.REJECTED,
        ):
            raise ValueError(f"record takes a definite outcome, not {result.status}")
        for _ in range(_MAX_POSITION_RETRIES):
            settled = self.settlements.fill(order, result, reserved, stop_at_entry)
            try:
                self._commit(order, result, settled, now)
                return
            except TransactWriteError as exc:
                # a concurrent change of the same position (SELL path): re-read and try again
                if order.side is Side.SELL and condition_failed(exc) and self._still_pending(order):
                    continue
                raise
        raise RuntimeError(f"could not settle {order.idempotency_key}: position kept changing")

    def _still_pending(self, order: SizedOrder) -> bool:
        entry = self.get(order.idempotency_key)
        return entry is not None and entry.status in _UNSETTLED

    def _commit(self, order: SizedOrder, result: ExecutionResult, settled: Changes, now: datetime) -> None:
        self.settlements.ready(settled, now)
        run_transaction(self.settlements.items.connection, lambda tx: self._settle(tx, order, result, settled, now))

    def _settle(
        self, tx: TransactWrite, order: SizedOrder, result: ExecutionResult, settled: Changes, now: datetime
    ) -> None:
        """The order's final status and its settlement (`copytrader.store.account.settle`) in one transaction."""
        actions: list[Action] = [
            Orders.status.set(result.status.value),
            Orders.filled_shares.set(result.filled_shares),
            Orders.fee.set(result.fee),
            Orders.cash_amount.set(result.cash_amount),
            Orders.updated_at.set(now),
        ]
        for attribute, value in (
            (Orders.venue_order_id, result.venue_order_id),
            (Orders.reason, result.reason.value if result.reason else None),
            (Orders.detail, result.detail[:500] or None),
        ):
            if value is not None:
                actions.append(attribute.set(value))
        if result.avg_price is not None:
            actions.append(Orders.avg_price.set(result.avg_price))
        tx.update(
            Orders(idempotency_key=order.idempotency_key),
            actions=actions,
            condition=Orders.status.is_in(*_UNSETTLED),
        )
        self.settlements.add(tx, settled, now)


def result_from_entry(entry: OrderModel, *, duplicate: bool, now: datetime) -> ExecutionResult:
    """The ExecutionResult a ledger entry stands for (what a duplicate delivery gets back)."""
    filled = entry.filled_shares or ZERO
    fills = (Fill(price=entry.avg_price, shares=filled),) if filled > 0 and entry.avg_price is not None else ()
    return ExecutionResult(
        idempotency_key=entry.idempotency_key,
        status=ExecutionStatus(entry.status),
        reason=Reason(entry.reason) if entry.reason else (Reason.DUPLICATE if duplicate else None),
        detail=entry.detail or "",
        venue_order_id=entry.venue_order_id,
        side=Side(entry.side),
        filled_shares=filled,
        avg_price=entry.avg_price,
        fee=entry.fee or ZERO,
        cash_amount=entry.cash_amount or ZERO,
        fills=fills,
        duplicate=duplicate,
        executed_at=entry.updated_at or now,
    )
