"""The exactly-once protocol: one order per whale fill, whatever is retried or redelivered.

    1. `ledger.begin` writes the entry (PENDING) with a conditional put keyed by the copy's
       idempotency key. If an entry exists, this is a redelivery or a retry: return what the entry
       says and place nothing. An entry still PENDING means an earlier attempt died between the
       venue call and its record, so the venue may hold an order: mark it UNKNOWN.
    2. Call the venue once.
    3. A definite answer is settled by `ledger.record` (status, cash, position, reservation, ledger
       entry in one transaction). A rejection is definite too (nothing exists at the venue).
       Anything ambiguous (VenueAmbiguous, or any unexpected exception, since the request may have
       gone out) marks the entry UNKNOWN and keeps the reservation: reconciliation against the venue's
       orders and trades decides what happened before anything is retried.
No path calls the venue twice for one idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from copytrader.execution.venue import Venue, VenueAmbiguous, VenueRejected
from copytrader.model import ExecutionResult, ExecutionStatus, Side, SizedOrder
from copytrader.money import ZERO
from copytrader.reasons import Reason


class Ledger(Protocol):
    def begin(self, order: SizedOrder, reserved: Decimal, now: datetime) -> ExecutionResult | None:
        """Write the PENDING entry; None when written, else the result the existing entry stands for."""
        ...

    def mark_unknown(self, idempotency_key: str, detail: str, now: datetime) -> bool: ...

    def record(self, order: SizedOrder, result: ExecutionResult, reserved: Decimal, now: datetime) -> None: ...


def execute_once(
    order: SizedOrder,
    reserved: Decimal,
    *,
    ledger: Ledger,
    venue: Venue,
    clock: Callable[[], datetime],
) -> ExecutionResult:
    """Place `order` at most once; see the module docstring for the protocol."""
    result = ledger.begin(order, reserved, clock())
    if result is not None:
        if result.status is ExecutionStatus.PENDING:
            ledger.mark_unknown(
                order.idempotency_key, "found PENDING on redelivery: earlier attempt unfinished", clock()
            )
            return result.model_copy(update={"status": ExecutionStatus.UNKNOWN, "reason": Reason.VENUE_AMBIGUOUS})
        return result

    try:
        placed = venue.place(order)
    except VenueRejected as exc:
        result = ExecutionResult(
            idempotency_key=order.idempotency_key,
            status=ExecutionStatus.REJECTED,
            reason=Reason.VENUE_REJECTED,
            detail=str(exc),
            side=order.side,
            executed_at=clock(),
        )
        ledger.record(order, result, reserved, clock())
        return result
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}" if not isinstance(exc, VenueAmbiguous) else str(exc)
        ledger.mark_unknown(order.idempotency_key, detail, clock())
        return ExecutionResult(
            idempotency_key=order.idempotency_key,
            status=ExecutionStatus.UNKNOWN,
            reason=Reason.VENUE_AMBIGUOUS,
            detail=detail,
            side=order.side,
            executed_at=clock(),
        )

    notional = placed.notional
    filled = placed.filled_shares
    cash = notional + placed.fee if order.side is Side.BUY else notional - placed.fee
    result = ExecutionResult(
        idempotency_key=order.idempotency_key,
        status=placed.status,
        reason=Reason.NOT_FILLED if filled == 0 else None,
        venue_order_id=placed.venue_order_id,
        side=order.side,
        filled_shares=filled,
        avg_price=notional / filled if filled else None,
        fee=placed.fee,
        cash_amount=max(cash, ZERO),
        fills=placed.fills,
        executed_at=clock(),
    )
    ledger.record(order, result, reserved, clock())
    return result
