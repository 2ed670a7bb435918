"""The orders ledger: the exactly-once record of every copy, and the settlement of its outcome.

`begin` writes the entry (status PENDING, with the venue order id the order will carry and the sized
order itself) with a conditional put *before* any venue call; a second `begin` for the same idempotency
key finds the first entry instead of creating one, which is what makes a redelivered whale fill place no
second order. `record` then settles the venue's answer in one transaction: the order's final status
together with the cash, reservation, exposure, position and ledger entry it implies, so a crash leaves
either all of it or none of it. An UNKNOWN entry (ambiguous send, order still working at the venue) is
settled the same way once reconciliation knows the outcome; `unresolved` lists them for the sweep.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from copytrader.execution.protocol import LedgerEntry
from copytrader.model import ExecutionResult, ExecutionStatus, Fill, Side, SizedOrder
from copytrader.money import MICRO, ZERO
from copytrader.reasons import Reason
from copytrader.risk import scopes_of
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.portfolio import PortfolioStore, run_transaction
from copytrader.store.positions import Positions
from copytrader.store.tables import OrderModel

Orders = OrderModel
_MAX_POSITION_RETRIES = 5
_UNSETTLED = (ExecutionStatus.PENDING.value, ExecutionStatus.UNKNOWN.value)


class OrderLedger:
    """One account's orders ledger (implements `copytrader.execution.protocol.Ledger`)."""

    def __init__(self, portfolio: PortfolioStore, positions: Positions) -> None:
        self.portfolio = portfolio
        self.positions = positions
        self.account = portfolio.account

    def get(self, idempotency_key: str) -> OrderModel | None:
        try:
            return Orders.get(idempotency_key, consistent_read=True)
        except DoesNotExist:
            return None

    def begin(
        self, order: SizedOrder, reserved: Decimal, now: datetime, venue_order_id: str | None = None
    ) -> ExecutionResult | None:
        """Create the PENDING entry; None when created, else the result the existing entry stands for."""
        entry = Orders(
            venue_order_id=venue_order_id,
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
        if put_if_absent(entry):
            return None
        existing = self.get(order.idempotency_key)
        if existing is None:  # deleted in between: nothing sane to do but refuse
            raise RuntimeError(f"ledger entry {order.idempotency_key} vanished after a conflicting put")
        return result_from_entry(existing, duplicate=True, now=now)

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

    def record(self, order: SizedOrder, result: ExecutionResult, reserved: Decimal, now: datetime) -> None:
        """Settle the venue's definite answer (FILLED, PARTIAL, UNFILLED or REJECTED) in one transaction.

        Only an unsettled entry (PENDING, or UNKNOWN being reconciled) can be settled, and only once."""
        if result.status not in (
            ExecutionStatus.FILLED,
            ExecutionStatus.PARTIAL,
            ExecutionStatus.UNFILLED,
            ExecutionStatus.REJECTED,
        ):
            raise ValueError(f"record takes a definite outcome, not {result.status}")
        for _ in range(_MAX_POSITION_RETRIES):
            try:
                run_transaction(self.portfolio.connection, lambda tx: self._settle(tx, order, result, reserved, now))
                return
            except TransactWriteError as exc:
                codes = [c.code if c else None for c in (exc.cancellation_reasons or [])]
                # a concurrent change of the same position (SELL path): re-read and try again
                if order.side is Side.SELL and "ConditionalCheckFailed" in codes and self._still_pending(order):
                    continue
                raise
        raise RuntimeError(f"could not settle {order.idempotency_key}: position kept changing")

    def _still_pending(self, order: SizedOrder) -> bool:
        entry = self.get(order.idempotency_key)
        return entry is not None and entry.status in _UNSETTLED

    def _settle(
        self, tx: TransactWrite, order: SizedOrder, result: ExecutionResult, reserved: Decimal, now: datetime
    ) -> None:
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
        filled = result.filled_shares
        if reserved > 0:
            self.portfolio.add_settle_reservation(tx, order.idempotency_key, now)
        if filled <= 0:
            if reserved > 0:
                self.portfolio.add_account_change(tx, now, reserved=-reserved, open_orders=-1)
                self.portfolio.add_order_exposure(tx, order, -reserved, now)
            return
        if order.side is Side.BUY:
            cost = result.cash_amount
            self.portfolio.add_account_change(
                tx, now, cash=-cost, reserved=-reserved, open_cost=cost, open_orders=-1 if reserved > 0 else 0
            )
            self.portfolio.add_order_exposure(tx, order, cost - reserved, now, filled_cost=cost)
            self.positions.add_buy(
                tx,
                token_id=order.token_id,
                condition_id=order.condition_id,
                event_id=order.event_id,
                shares=filled,
                cost=cost,
                fee=result.fee,
                now=now,
                scope=scopes_of(order),
                stop_loss=self.portfolio.stop_loss_at_entry(order.idempotency_key) if reserved > 0 else None,
            )
            cash_delta, shares_delta = -cost, filled
        else:
            position = self.positions.get(order.token_id)
            if position is None or position.shares < filled:
                raise RuntimeError(f"sold {filled} of {order.token_id} but the position holds less")
            # average cost of the shares sold, on the pUSD micro grid (DynamoDB sums stay exact decimals)
            released = (position.cost_basis * filled / position.shares).quantize(MICRO)
            proceeds = result.cash_amount
            pnl = proceeds - released
            self.portfolio.add_account_change(tx, now, cash=proceeds, open_cost=-released)
            self.portfolio.add_position_release(tx, position, filled, released, now)
            self.portfolio.add_realized(tx, now, pnl)
            self.positions.add_reduce(
                tx, position, shares=filled, released_cost=released, pnl=pnl, fee=result.fee, now=now
            )
            cash_delta, shares_delta = proceeds, -filled
        self.positions.add_ledger_entry(
            tx,
            kind=f"FILL_{order.side.value}",
            reference=order.idempotency_key,
            now=now,
            token_id=order.token_id,
            condition_id=order.condition_id,
            shares_delta=shares_delta,
            cash_delta=cash_delta,
            fee=result.fee,
        )


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
