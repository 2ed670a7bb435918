"""Attribute types of the table models beyond PynamoDB's own: `DecimalAttribute`, a DynamoDB number as an exact
`Decimal`. DynamoDB numbers are exact decimals (38 digits), so money and share amounts round-trip without a float.
"""

from __future__ import annotations

from decimal import Decimal

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as an exact `Decimal` (PynamoDB's NumberAttribute uses float).

    Amounts that are summed in place (ADD) must stay on the pUSD micro grid (at most 6 decimals): the
    money code guarantees it, and it keeps moto's number strings parseable (moto writes sums with
    `str(Decimal)`, which turns a zero with 8 decimals into "0E-8").
    """

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalAttribute takes a Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError("DecimalAttribute cannot store a non-finite number")
        text = format(value.normalize(), "f")
        return text if text not in ("-0",) else "0"

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class TableMeta:
    """What every table's `Meta` shares: on-demand capacity."""

    billing_mode = "PAY_PER_REQUEST"


def zero() -> Decimal:
    """The default of an amount attribute (a callable, so no Decimal instance is shared between items)."""
    return Decimal(0)
