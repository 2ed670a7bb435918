"""Can we afford it? What an order may cost at worst, and what the account may still add under every cap.

The one place that answers it: the copy decision skips a trade whose market minimum cannot fit (`worst_case_cost`
against `room`), the sizing keeps the order's worst case within the room the decision saw (`shares_within_room`),
risk_check reserves exactly `worst_case_cost` (rounded up to the micro grid), and the store reads the exposures
`room` is computed from.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from copytrader.money import MICRO, SIZE_STEP, ZERO, ceil_to, fee_per_share, floor_to
from copytrader.settings import RiskLimits

HALF = Decimal("0.5")


def worst_case_cost(shares: Decimal, limit: Decimal, fee_rate: Decimal, best: Decimal | None = None) -> Decimal:
    """Cash a FAK/FOK BUY can consume at most: every share at the limit plus the largest fee per share on the
    prices it can fill at, rounded up to the pUSD micro-unit (a reservation must cover the worst case, on the
    collateral's grid). The fee r x p(1 - p) peaks at 0.5, so over [best, limit] it is largest at
    min(max(0.5, best), limit); without a book (best unknown) at min(0.5, limit), an upper bound."""
    floor = best if best is not None else ZERO
    fee_price = min(max(HALF, floor), limit)
    return ceil_to(shares * limit + shares * fee_per_share(fee_price, fee_rate), MICRO)


def shares_within_room(room: Decimal, best: Decimal, limit: Decimal, fee_rate: Decimal) -> Decimal:
    """Largest share count on the 0.01 grid whose worst-case cost (`worst_case_cost`) is <= room."""
    if room <= 0:
        return ZERO
    per_share = limit + fee_per_share(min(max(Decimal("0.5"), best), limit), fee_rate)
    shares = floor_to(room / per_share, SIZE_STEP)
    while shares > 0 and worst_case_cost(shares, limit, fee_rate, best) > room:
        shares -= SIZE_STEP  # the micro-unit round-up can push the last step over
    return max(shares, ZERO)


@dataclass(frozen=True)
class Exposures:
    """Current exposure at cost (pUSD) of the scopes one new BUY would count against, and the account's totals.

    `committed` = open cost + reservations; `available` = cash - reservations.
    """

    market: Decimal
    group: Decimal
    category: Decimal
    whale: Decimal
    committed: Decimal
    available: Decimal


def room(exposures: Exposures, limits: RiskLimits) -> Decimal:
    """The pUSD a new BUY may still add under every cap at once, on the micro grid, never negative.

    room = max(0, min(max_market - market, max_group - group, max_category - category, max_whale - whale,
                      max_total - committed, available)), rounded down to 0.000001.
    The kill switch and the breakers are not caps: they are checked by `screen` and the store.
    """
    headroom = min(
        limits.max_market_exposure - exposures.market,
        limits.max_group_exposure - exposures.group,
        limits.max_category_exposure - exposures.category,
        limits.max_whale_exposure - exposures.whale,
        limits.max_total_exposure - exposures.committed,
        exposures.available,
    )
    return max(ZERO, headroom.quantize(MICRO, rounding=ROUND_FLOOR))
