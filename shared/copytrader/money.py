"""Money and quantity arithmetic: `Decimal` only, with the venue's own grids.

Every amount of money in the system is a `Decimal` in pUSD (Polymarket's 6-decimal collateral). Share
quantities are `Decimal` shares. Floats never carry money: a float that enters at an edge (a JSON feed)
is converted with `to_decimal`, which goes through `repr`, so 0.26 becomes Decimal("0.26") and not
the binary expansion.

Grids (REFERENCE.md section d and §0b.7 "Tick sizes": the SDK's rounding table, polymarket-client 0.14.0
`_internal/actions/orders/context.py`, tick -> price/size/amount decimals 0.1 -> 1/2/3, 0.01 -> 2/2/4,
0.005 -> 3/2/5, 0.0025 -> 4/2/6, 0.001 -> 3/2/5, 0.0001 -> 4/2/6):
- on-chain amounts have 6 decimals (`MICRO`), the finest any tick's amount is rounded to;
- order sizes are in 0.01 shares (`SIZE_STEP`: 2 decimals on every tick);
- prices lie on the market's tick (0.1, 0.01, 0.001, 0.0001, and newer 0.005 / 0.0025 grids);
- taker fees are floored to 1e-5 pUSD (`FEE_STEP`, verified on 21 real V2 fills).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, InvalidOperation

ZERO = Decimal(0)
ONE = Decimal(1)
MICRO = Decimal("0.000001")
SIZE_STEP = Decimal("0.01")
FEE_STEP = Decimal("0.00001")


def to_decimal(value: object) -> Decimal:
    """Convert a str, int, float or Decimal to a finite Decimal (floats via their shortest repr)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise ValueError("a boolean is not a number")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
    else:
        raise ValueError(f"not a number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def canonical(value: Decimal) -> Decimal:
    """The same number without trailing zeros and without exponent notation for whole numbers.

    300.000000 (6-decimal chain units) and 300.0 (a JSON float) both become 300; 0.5000 becomes 0.5; a zero
    with any exponent becomes 0. Equal numbers then print the same whatever source they came from.
    """
    if value == value.to_integral_value():
        return value.quantize(ONE)
    return value.normalize()


def floor_to(value: Decimal, step: Decimal) -> Decimal:
    """Largest multiple of `step` that is <= value (exact: no float)."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def ceil_to(value: Decimal, step: Decimal) -> Decimal:
    """Smallest multiple of `step` that is >= value."""
    return (value / step).to_integral_value(rounding=ROUND_CEILING) * step


def is_on_grid(value: Decimal, step: Decimal) -> bool:
    """True when value is an exact multiple of step."""
    return (value / step) == (value / step).to_integral_value()


def taker_fee(shares: Decimal, price: Decimal, rate: Decimal) -> Decimal:
    """Polymarket V2 taker fee in pUSD for a fill of `shares` at `price`.

    fee = floor_1e-5( shares x rate x price x (1 - price) )

    Takers pay, makers do not; the rate is per market (Gamma `feeSchedule.rate`, CLOB `fd.r`).
    Reference: docs.polymarket.com/trading/fees; the flooring to 1e-5 matches all 21 real CTF Exchange V2
    `OrderFilled` taker legs in ../shared/polymarket/data/nautilus-polymarket-fixtures (tests/unit/test_fees.py).
    This one function serves the paper venue, the sizing model and backtests alike.
    """
    if shares < 0 or rate < 0 or not (ZERO < price < ONE):
        raise ValueError(f"taker_fee needs shares>=0, rate>=0, 0<price<1; got {shares}, {rate}, {price}")
    return (shares * rate * price * (ONE - price)).quantize(FEE_STEP, rounding=ROUND_DOWN)


def fee_per_share(price: Decimal, rate: Decimal) -> Decimal:
    """Unrounded taker fee per share, rate x p x (1 - p): the marginal fee used by the sizing model."""
    return rate * price * (ONE - price)
