"""The venue boundary. Every outcome of placing an order is one of three kinds:

- a definite answer (`VenueOrder`: filled, partly filled, or not filled within the limit);
- `VenueRejected`: the venue refused the order (bad tick, below min size, no balance...): nothing exists;
- `VenueAmbiguous`: we do not know (timeout, 5xx, dropped connection). The venue is known to fill orders
  whose request "failed" (py-clob-client #273, #261), so this must be reconciled, never blindly retried.

Every venue prepares an order (its id known before sending), places it once, and looks an order up by
that id, which is how an ambiguous outcome is reconciled (`copytrader.execution.protocol`).

Any other exception escaping `place` is treated as ambiguous by the protocol, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from copytrader.execution.funds import Collateral
from copytrader.model import ExecutionStatus, Fill, SizedOrder


@dataclass(frozen=True)
class VenueOrder:
    """What the venue did with one order.

    `status` is FILLED, PARTIAL or UNFILLED when the outcome is final, or UNKNOWN when the order is still
    working at the venue (a resting GTC/GTD order, a delayed match): the reservation stays and the
    reconciler settles it once the venue reports it done. `cash_notional`, when the venue reports it,
    is the exact pUSD the fills moved (sum of shares x price otherwise).
    """

    venue_order_id: str
    status: ExecutionStatus
    fills: tuple[Fill, ...]
    fee: Decimal
    cash_notional: Decimal | None = None
    detail: str = ""

    @property
    def filled_shares(self) -> Decimal:
        return sum((f.shares for f in self.fills), Decimal(0))

    @property
    def notional(self) -> Decimal:
        if self.cash_notional is not None:
            return self.cash_notional
        return sum((f.shares * f.price for f in self.fills), Decimal(0))


@dataclass(frozen=True)
class PreparedOrder:
    """An order ready to send: its venue id is known before anything leaves the process.

    `venue_order_id` is the id of exactly the order `payload` holds: for the CLOB the EIP-712 digest of the order the
    SDK signed (its salt is random, so the order cannot be made again). Both are written to the ledger entry before
    the order is sent, so an ambiguous send can be looked up by id and a later attempt re-sends the same order
    (`copytrader.execution.protocol`).
    """

    venue_order_id: str
    signed_at: datetime
    payload: str | None = None  # the venue's own form of the order, serialized (the signed CLOB order); never logged


class Venue(Protocol):
    name: str

    def prepare(self, order: SizedOrder, signed_at: datetime) -> PreparedOrder:
        """Build (and sign) the order without sending it; raises VenueRejected if it cannot be built or, for a live
        BUY, if the wallet cannot pay its worst case (`copytrader.execution.funds`)."""
        ...

    def place(self, order: SizedOrder, prepared: PreparedOrder) -> VenueOrder:
        """Send the prepared order once. Never retries internally."""
        ...

    def lookup(self, order: SizedOrder, venue_order_id: str, signed_at: datetime) -> VenueOrder | None:
        """What the venue holds for `venue_order_id` (fills from its trades), or None when it has no such order.

        Raises VenueAmbiguous when the venue cannot be asked right now.
        """
        ...


@runtime_checkable
class CancellableVenue(Protocol):
    """A venue where an order can rest (`ClobVenue`: GTC/GTD): reconciliation cancels one whose copy went stale."""

    def cancel(self, order: SizedOrder, venue_order_id: str) -> None:
        """Ask the venue to cancel `venue_order_id`; raises VenueAmbiguous when it cannot be asked."""
        ...


@runtime_checkable
class FundedVenue(Protocol):
    """A venue trading real money (`ClobVenue`): it can say what the wallet holds, which is how the live account is
    opened (`copytrader.workflows.copy.live_start`)."""

    def collateral(self) -> Collateral:
        """The wallet's pUSD read now; raises VenueRejected when it cannot be read."""
        ...
