"""The venue boundary. Every outcome of placing an order is one of three kinds:

- a definite answer (`VenueOrder`: filled, partly filled, or not filled within the limit);
- `VenueRejected`: the venue refused the order (bad tick, below min size, no balance...): nothing exists;
- `VenueAmbiguous`: we do not know (timeout, 5xx, dropped connection). The venue is known to fill orders
  whose request "failed" (py-clob-client #273, #261), so this must be reconciled, never blindly retried.

Any other exception escaping `place` is treated as ambiguous by the protocol, for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from copytrader.model import ExecutionStatus, Fill, SizedOrder


class VenueRejected(Exception):
    """The venue refused the order; `code` is its error code (e.g. INVALID_ORDER_MIN_SIZE)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class VenueAmbiguous(Exception):
    """The order's fate is unknown; reconcile against the venue's orders and trades."""


@dataclass(frozen=True)
class VenueOrder:
    venue_order_id: str
    status: ExecutionStatus  # FILLED, PARTIAL or UNFILLED
    fills: tuple[Fill, ...]
    fee: Decimal

    @property
    def filled_shares(self) -> Decimal:
        return sum((f.shares for f in self.fills), Decimal(0))

    @property
    def notional(self) -> Decimal:
        return sum((f.shares * f.price for f in self.fills), Decimal(0))


class Venue(Protocol):
    name: str

    def place(self, order: SizedOrder) -> VenueOrder:
        """Place one immediate (FOK/FAK) order identified by `order.idempotency_key`."""
        ...
