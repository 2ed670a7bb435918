"""The live wallet's pUSD: read from the CLOB, checked against what one BUY needs, kept briefly per container.

The SDK's `get_balance_allowance(asset_type="COLLATERAL")` (`GET /balance-allowance?asset_type=COLLATERAL&
signature_type=N`, REFERENCE.md §0b.2) answers the funder wallet's pUSD balance and its `allowances` by spender address,
in micro-units (`read_collateral`). `parse_collateral` reads the raw answer (one `allowance`, or `allowances`; a
decimal string is read as pUSD).

When a BUY is prepared (`ClobVenue.prepare`), balance - `venue.min_live_balance` and the allowance to the order's
exchange must each cover what that BUY may cost at worst: the amount risk_check reserved (`SizedOrder.max_cost`),
at least the signed order's pUSD. A shortfall is a definite rejection before anything is sent
(INVALID_ORDER_NOT_ENOUGH_BALANCE), and so is a balance that cannot be read (VENUE_UNREACHABLE): execute settles
either as REJECTED and the reservation is released.

The read is one CLOB round trip per BUY, so a container keeps it for `venue.balance_cache_s` (5 s) and lowers the
kept figures by each BUY it lets through (by its worst case, so the cache can only understate what is left). A kept
figure that falls short is read again before the BUY is refused: the cache never refuses a BUY that a fresh read
would pass. Orders of other containers are not seen by the cache (nor by a fresh read made just before they land);
the venue's own check (INVALID_ORDER_NOT_ENOUGH_BALANCE, also a definite rejection) has the last word.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from copytrader.errors import ClobTransportError, VenueRejected

MICRO = Decimal(10) ** 6
NOT_ENOUGH = "INVALID_ORDER_NOT_ENOUGH_BALANCE"  # the venue's own code for the same refusal


def amount(value: Any) -> Decimal | None:
    """A pUSD amount as the endpoint gives it: integer micro-units, or a decimal string in pUSD."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value)
    try:
        parsed = Decimal(text)
    except ArithmeticError:
        return None
    if not parsed.is_finite():
        return None
    return parsed if "." in text else parsed / MICRO


@dataclass(frozen=True)
class Collateral:
    """The wallet's pUSD balance and its allowances (spender address, lower case -> pUSD; "" when unnamed)."""

    balance: Decimal
    allowances: Mapping[str, Decimal] = field(default_factory=dict)

    def allowance(self, spender: str | None = None) -> Decimal | None:
        """The allowance to `spender` when the venue lists it, else the smallest one given (None: none given)."""
        if spender is not None and spender.lower() in self.allowances:
            return self.allowances[spender.lower()]
        return min(self.allowances.values(), default=None)

    def spent(self, cost: Decimal) -> Collateral:
        """What is left after a BUY that may cost `cost` (the worst case, so never more than the truth)."""
        return Collateral(self.balance - cost, {k: v - cost for k, v in self.allowances.items()})

    def balance_short(self, need: Decimal, reserve: Decimal) -> str | None:
        """Why the balance cannot pay `need` while keeping `reserve` in the wallet, or None when it can."""
        if self.balance - reserve >= need:
            return None
        kept = f" - the {reserve} kept (venue.min_live_balance)" if reserve else ""
        return f"pUSD balance {self.balance}{kept} < {need}"

    def allowance_short(self, need: Decimal, spender: str | None = None) -> str | None:
        """Why the allowance to `spender` cannot cover `need`, or None when it can."""
        allowance = self.allowance(spender)
        if allowance is None:
            return "no allowance in the balance answer: approve the exchanges first"
        return None if allowance >= need else f"pUSD allowance {allowance} < {need}: approve the exchange"

    def shortfall(self, need: Decimal, reserve: Decimal, spender: str | None = None) -> str | None:
        """Why this collateral cannot pay a BUY that may cost `need`, or None when it can."""
        return self.balance_short(need, reserve) or self.allowance_short(need, spender)


def parse_collateral(status: int, body: Any) -> Collateral:
    """The `/balance-allowance` answer as `Collateral`; raises ValueError when it is unusable."""
    if status != 200 or not isinstance(body, dict):
        raise ValueError(f"balance-allowance unusable (HTTP {status})")
    balance = amount(body.get("balance"))
    if balance is None:
        raise ValueError("no balance in the balance-allowance answer")
    listed = body.get("allowances")
    raw = listed if isinstance(listed, dict) and listed else {"": body.get("allowance")}
    allowances = {str(k).lower(): v for k, v in ((k, amount(v)) for k, v in raw.items()) if v is not None}
    return Collateral(balance, allowances)


def read_collateral(client: Any) -> Collateral:
    """One read of the wallet's pUSD through the SDK (`client`: a `polymarket.SecureClient`); raises ValueError."""
    from polymarket import PolymarketError

    try:
        answer = client.get_balance_allowance(asset_type="COLLATERAL")
    except PolymarketError as exc:
        raise ValueError(f"balance-allowance not readable ({type(exc).__name__})") from None
    allowances = {str(k).lower(): Decimal(v) / MICRO for k, v in answer.allowances.items()}
    return Collateral(Decimal(answer.balance) / MICRO, allowances)


class Funds:
    """The per-BUY check of the module docstring, with its short-lived per-container copy of the balance."""

    def __init__(
        self,
        read: Callable[[], Collateral],
        *,
        reserve: Decimal = Decimal(0),
        keep_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._reserve = reserve
        self._keep_s = keep_s
        self._clock = clock
        self._kept: tuple[float, Collateral] | None = None
        self.reads = 0  # round trips made (for tests and benchmarks)

    def fresh(self) -> Collateral:
        """Read the wallet now (and keep it); raises VenueRejected("VENUE_UNREACHABLE") when it cannot."""
        try:
            collateral = self._read()
        except (ClobTransportError, ValueError) as exc:
            raise VenueRejected("VENUE_UNREACHABLE", f"wallet balance not readable, nothing sent: {exc}") from None
        self.reads += 1
        self._kept = (self._clock(), collateral)
        return collateral

    def cover(self, need: Decimal, spender: str | None = None) -> None:
        """Let a BUY that may cost `need` through, or raise VenueRejected before anything is sent."""
        kept = self._kept
        fresh = kept is None or self._clock() - kept[0] >= self._keep_s
        collateral = self.fresh() if fresh or kept is None else kept[1]
        short = collateral.shortfall(need, self._reserve, spender)
        if short is not None and not fresh:  # a kept figure understates: ask again before refusing
            collateral = self.fresh()
            short = collateral.shortfall(need, self._reserve, spender)
        if short is not None:
            raise VenueRejected(NOT_ENOUGH, f"{short} this BUY may cost at worst; not sent")
        assert self._kept is not None
        self._kept = (self._kept[0], collateral.spent(need))
