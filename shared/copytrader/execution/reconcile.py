"""The reconcile sweep: settle every unsettled (UNKNOWN or PENDING) ledger entry from what the venue holds.

An UNKNOWN entry is an order whose send was ambiguous or that is still working at the venue (resting
GTC/GTD, delayed match); its reservation is held until this sweep (or a redelivery of the same whale fill)
records the definite outcome through the ledger's normal record path. Each entry goes through
`protocol.reconcile`, which never sends an order. Run by `copytrader reconcile` (and suitable for a
schedule); the result of each entry is returned for the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from copytrader.execution.protocol import DEFAULT_RECONCILE_AFTER, Ledger, reconcile
from copytrader.execution.venue import Venue
from copytrader.model import ExecutionResult, SizedOrder


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
    return [
        reconcile(order, reserved, ledger=ledger, venue=venue, clock=clock, reconcile_after=reconcile_after)
        for order, reserved in pending
    ]
