"""The reconcile sweep: settle every unsettled (UNKNOWN or PENDING) ledger entry from what the venue holds.

An UNKNOWN entry is an order whose send was ambiguous or that is still working at the venue (resting
GTC/GTD, delayed match); its reservation is held until this sweep (or a redelivery of the same whale fill)
records the definite outcome through the ledger's normal record path. Each entry goes through
`protocol.reconcile`, which never sends an order. Run by `copytrader reconcile` (and suitable for a
schedule); the result of each entry is returned for the report.

An entry whose reconciliation raises (its settlement refused, a throttle that outlasted the retries) stays as it is
and is reported UNKNOWN with a detail starting `SETTLEMENT_FAILED`; the sweep goes on with the next entry, so one
entry that cannot be settled never keeps the younger ones (and their reservations) waiting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from copytrader.execution.protocol import DEFAULT_RECONCILE_AFTER, Ledger, reconcile
from copytrader.execution.venue import Venue
from copytrader.model import ExecutionResult, ExecutionStatus, SizedOrder
from copytrader.reasons import Reason

SETTLEMENT_FAILED = "not settled by this sweep"


class SweepableLedger(Ledger, Protocol):
    def unresolved(self, limit: int = 100) -> Iterator[tuple[SizedOrder, Decimal]]: ...


def reconcile_unresolved(
    ledger: SweepableLedger,
    venue: Venue,
    clock: Callable[[], datetime],
    *,
    reconcile_after: timedelta = DEFAULT_RECONCILE_AFTER,
    limit: int = 100,
) -> list[ExecutionResult]:
    """Reconcile up to `limit` unsettled entries, oldest first; an entry that cannot be settled yet stays."""
    pending = list(ledger.unresolved(limit))
    results = []
    for order, reserved in pending:
        try:
            result = reconcile(
                order, reserved, ledger=ledger, venue=venue, clock=clock, reconcile_after=reconcile_after
            )
        except Exception as exc:  # this entry only: the next ones are settled all the same
            result = ExecutionResult(
                idempotency_key=order.idempotency_key,
                status=ExecutionStatus.UNKNOWN,
                reason=Reason.VENUE_AMBIGUOUS,
                detail=f"{SETTLEMENT_FAILED}: {type(exc).__name__}: {exc}"[:500],
                side=order.side,
                duplicate=True,
                executed_at=clock(),
            )
        results.append(result)
    return results
