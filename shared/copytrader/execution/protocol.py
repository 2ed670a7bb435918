"""The exactly-once protocol: one order per whale fill, whatever is retried or redelivered.

    1. `venue.prepare` builds (and for the CLOB signs) the order without sending it; its venue id is known now (the
       CLOB's: the EIP-712 digest of the signed order). The SDK's salt is random, so the signed order itself
       (`PreparedOrder.payload`) is what makes later attempts the same order.
    2. `ledger.begin` writes the entry (PENDING, with that venue id and the signed order) with a conditional put
       keyed by the idempotency key. If an entry exists, this is a redelivery or a retry: a settled entry is
       returned as it is; an unsettled one (PENDING or UNKNOWN) is *reconciled* (below) and the order just
       prepared is dropped unsent.
    3. Send once (`venue.place`). A definite answer (filled, partly filled, not filled, rejected) is
       settled by `ledger.record` (status, cash, position, reservation, ledger entry in one transaction).
       An order still working at the venue (resting GTC/GTD, delayed match) and anything ambiguous
       (VenueAmbiguous, or any unexpected exception, since the request may have gone out) mark the entry
       UNKNOWN and keep the reservation.

Reconciliation (`reconcile`, also run by the sweep `copytrader reconcile`) settles an entry written without a venue
order id as REJECTED / `never_placed` (no order was built, and `place` only ever sends a prepared order whose id the
entry holds); otherwise it asks the venue for the entry's order id: found and done -> its fills are recorded
(FILLED / PARTIAL / UNFILLED) through `ledger.record`, which releases the reservation; found and still working ->
stays UNKNOWN, unless it is older than `reconcile_after` and the venue can cancel it (a resting GTC/GTD order whose
copy went stale: `CancellableVenue`): it is cancelled and settled from what filled; not found -> once the entry is
older than `reconcile_after` (no request can still be in flight) it is recorded as not filled with reason
`never_placed`: the whale's fill is stale by then. Before that it stays UNKNOWN, except that an entry found PENDING
(an earlier attempt stopped between writing it and sending) younger than `reconcile_after / 2` has its stored signed
order sent (`resend`): the same order, with the same id, which the exchange can never fill twice. A re-send that does
not fill leaves the entry UNKNOWN for the next reconciliation by id (a first attempt may still be in flight), and it
ends before `never_placed` can be concluded (the settings keep the longest send below `reconcile_after / 2`).
No path sends a second order for one idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from copytrader.errors import VenueAmbiguous, VenueRejected
from copytrader.execution.venue import CancellableVenue, PreparedOrder, Venue, VenueOrder
from copytrader.model import TERMINAL_STATUSES, ExecutionResult, ExecutionStatus, Side, SizedOrder
from copytrader.money import ZERO
from copytrader.reasons import Reason

DEFAULT_RECONCILE_AFTER = timedelta(seconds=120)


@dataclass(frozen=True)
class LedgerEntry:
    """What reconciliation needs from a ledger entry."""

    idempotency_key: str
    status: ExecutionStatus
    venue_order_id: str | None
    created_at: datetime  # the signed order's timestamp
    result: ExecutionResult
    signed_order: str | None = None  # `PreparedOrder.payload`: the order to send again (never logged)


class Ledger(Protocol):
    def begin(
        self,
        order: SizedOrder,
        reserved: Decimal,
        now: datetime,
        venue_order_id: str | None = None,
        signed_order: str | None = None,
    ) -> ExecutionResult | None:
        """Write the PENDING entry (with the order to send); None when written, else the result the existing entry
        stands for."""
        ...

    def entry(self, idempotency_key: str) -> LedgerEntry | None: ...

    def mark_unknown(self, idempotency_key: str, detail: str, now: datetime) -> bool: ...

    def record(
        self,
        order: SizedOrder,
        result: ExecutionResult,
        reserved: Decimal,
        now: datetime,
        stop_at_entry: Decimal | None = None,
    ) -> None:
        """Settle a definite outcome of an unsettled (PENDING or UNKNOWN) entry; `stop_at_entry` is the stop its
        reservation records when the caller knows it (the risk decision carries it), else the ledger reads it."""
        ...


def execute_once(
    order: SizedOrder,
    reserved: Decimal,
    *,
    ledger: Ledger,
    venue: Venue,
    clock: Callable[[], datetime],
    reconcile_after: timedelta = DEFAULT_RECONCILE_AFTER,
    stop_at_entry: Decimal | None = None,
) -> ExecutionResult:
    """Place `order` at most once; see the module docstring for the protocol. `stop_at_entry`: the stop-loss the
    order's reservation records (`RiskDecision.stop_loss`), passed on to the settlement."""
    now = clock()
    prepared: PreparedOrder | None = None
    unbuildable = ""
    try:
        prepared = venue.prepare(order, now)
    except Exception as exc:  # nothing left the process: a definite rejection
        unbuildable = str(exc) if isinstance(exc, VenueRejected) else f"order not built: {type(exc).__name__}: {exc}"
    existing = ledger.begin(
        order,
        reserved,
        now,
        venue_order_id=prepared.venue_order_id if prepared else None,
        signed_order=prepared.payload if prepared else None,
    )
    if existing is not None:
        if existing.status in TERMINAL_STATUSES:
            return existing
        return reconcile(
            order,
            reserved,
            ledger=ledger,
            venue=venue,
            clock=clock,
            reconcile_after=reconcile_after,
            stop_at_entry=stop_at_entry,
        )
    if prepared is None:
        return _settle(ledger, order, _rejected(order, unbuildable, clock()), reserved, clock)

    try:
        placed = venue.place(order, prepared)
    except VenueRejected as exc:
        return _settle(ledger, order, _rejected(order, str(exc), clock()), reserved, clock)
    except Exception as exc:
        detail = str(exc) if isinstance(exc, VenueAmbiguous) else f"{type(exc).__name__}: {exc}"
        ledger.mark_unknown(order.idempotency_key, detail, clock())
        return _unknown(order, prepared.venue_order_id, detail, clock())
    if placed.status is ExecutionStatus.UNKNOWN:  # accepted and still working at the venue
        detail = placed.detail or "working at the venue"
        ledger.mark_unknown(order.idempotency_key, detail, clock())
        return _unknown(order, placed.venue_order_id, detail, clock())
    return _settle(ledger, order, result_of(order, placed, clock()), reserved, clock, stop_at_entry)


def reconcile(
    order: SizedOrder,
    reserved: Decimal,
    *,
    ledger: Ledger,
    venue: Venue,
    clock: Callable[[], datetime],
    reconcile_after: timedelta = DEFAULT_RECONCILE_AFTER,
    stop_at_entry: Decimal | None = None,
) -> ExecutionResult:
    """Settle an unsettled entry from what the venue holds for its order id; never sends an order."""
    key = order.idempotency_key
    entry = ledger.entry(key)
    if entry is None:
        raise RuntimeError(f"ledger entry {key} vanished")
    if entry.status in TERMINAL_STATUSES:
        return entry.result.model_copy(update={"duplicate": True})
    now = clock()
    if entry.status is ExecutionStatus.PENDING:
        ledger.mark_unknown(key, "found PENDING on redelivery: earlier attempt unfinished", now)
    if not entry.venue_order_id:  # the order was never built (`execute_once` begins with the id of what it sends)
        never = _rejected(order, "never placed: the order could not be built, so nothing was sent", now)
        result = never.model_copy(update={"reason": Reason.NEVER_PLACED})
        return _settle(ledger, order, result, reserved, clock).model_copy(update={"duplicate": True})
    try:
        found = venue.lookup(order, entry.venue_order_id, entry.created_at)
        if found is not None and found.status is ExecutionStatus.UNKNOWN and now - entry.created_at >= reconcile_after:
            found = _cancel_stale(venue, order, entry.venue_order_id, entry.created_at) or found
    except Exception as exc:
        return _unknown(order, entry.venue_order_id, f"lookup failed: {type(exc).__name__}: {exc}", now, True)
    if found is None:
        fresh = now - entry.created_at < reconcile_after / 2
        if entry.status is ExecutionStatus.PENDING and entry.signed_order and fresh:
            return resend(order, entry, reserved, ledger=ledger, venue=venue, clock=clock, stop_at_entry=stop_at_entry)
        if now - entry.created_at < reconcile_after:
            detail = f"not at the venue yet; concluded only after {reconcile_after.total_seconds():.0f}s"
            return _unknown(order, entry.venue_order_id, detail, now, True)
        result = ExecutionResult(
            idempotency_key=key,
            status=ExecutionStatus.UNFILLED,
            reason=Reason.NEVER_PLACED,
            detail=f"reconciled: the venue has no order {entry.venue_order_id}; not re-placed (the copy is stale)",
            venue_order_id=entry.venue_order_id,
            side=order.side,
            executed_at=now,
        )
    elif found.status is ExecutionStatus.UNKNOWN:
        return _unknown(order, entry.venue_order_id, found.detail or "still working at the venue", now, True)
    else:
        result = result_of(order, found, now)
    return _settle(ledger, order, result, reserved, clock, stop_at_entry).model_copy(update={"duplicate": True})


def resend(
    order: SizedOrder,
    entry: LedgerEntry,
    reserved: Decimal,
    *,
    ledger: Ledger,
    venue: Venue,
    clock: Callable[[], datetime],
    stop_at_entry: Decimal | None = None,
) -> ExecutionResult:
    """Send the entry's stored order again (same order, same id); only a fill is settled (module docstring)."""
    assert entry.venue_order_id is not None
    prepared = PreparedOrder(entry.venue_order_id, entry.created_at, entry.signed_order)
    try:
        placed = venue.place(order, prepared)
    except Exception as exc:
        detail = f"re-sent the stored order: {type(exc).__name__}: {exc}"
        return _unknown(order, entry.venue_order_id, detail, clock(), True)
    if placed.status in (ExecutionStatus.FILLED, ExecutionStatus.PARTIAL):
        result = result_of(order, placed, clock())
        return _settle(ledger, order, result, reserved, clock, stop_at_entry).model_copy(update={"duplicate": True})
    detail = f"re-sent the stored order: {placed.status.value} {placed.detail}".strip()
    return _unknown(order, placed.venue_order_id, detail, clock(), True)


def _cancel_stale(venue: Venue, order: SizedOrder, venue_order_id: str, signed_at: datetime) -> VenueOrder | None:
    """Cancel a resting order whose copy went stale and read what it holds now (None: the venue cannot cancel)."""
    if not isinstance(venue, CancellableVenue):
        return None
    venue.cancel(order, venue_order_id)
    return venue.lookup(order, venue_order_id, signed_at)


def result_of(order: SizedOrder, placed: VenueOrder, now: datetime) -> ExecutionResult:
    """The ExecutionResult of a definite venue answer: cash = notional + fee (BUY) or notional - fee (SELL)."""
    notional = placed.notional
    filled = placed.filled_shares
    cash = notional + placed.fee if order.side is Side.BUY else notional - placed.fee
    return ExecutionResult(
        idempotency_key=order.idempotency_key,
        status=placed.status,
        reason=Reason.NOT_FILLED if filled == 0 else None,
        detail=placed.detail,
        venue_order_id=placed.venue_order_id,
        side=order.side,
        filled_shares=filled,
        avg_price=notional / filled if filled else None,
        fee=placed.fee,
        cash_amount=max(cash, ZERO),
        fills=placed.fills,
        executed_at=now,
    )


def _settle(
    ledger: Ledger,
    order: SizedOrder,
    result: ExecutionResult,
    reserved: Decimal,
    clock: Callable[[], datetime],
    stop_at_entry: Decimal | None = None,
) -> ExecutionResult:
    """Record `result`; if another caller settled the entry first, return what it recorded."""
    try:
        ledger.record(order, result, reserved, clock(), stop_at_entry)
    except Exception:
        entry = ledger.entry(order.idempotency_key)
        if entry is not None and entry.status in TERMINAL_STATUSES:
            return entry.result
        raise
    return result


def _rejected(order: SizedOrder, detail: str, now: datetime) -> ExecutionResult:
    return ExecutionResult(
        idempotency_key=order.idempotency_key,
        status=ExecutionStatus.REJECTED,
        reason=Reason.VENUE_REJECTED,
        detail=detail[:500],
        side=order.side,
        executed_at=now,
    )


def _unknown(
    order: SizedOrder, venue_order_id: str | None, detail: str, now: datetime, duplicate: bool = False
) -> ExecutionResult:
    return ExecutionResult(
        idempotency_key=order.idempotency_key,
        status=ExecutionStatus.UNKNOWN,
        reason=Reason.VENUE_AMBIGUOUS,
        detail=detail[:500],
        venue_order_id=venue_order_id,
        side=order.side,
        duplicate=duplicate,
        executed_at=now,
    )
