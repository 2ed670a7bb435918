"""Field types every contract shares (validated at the edge: hex ids lower-cased, money as `Decimal`, times
as aware UTC) and the enums of sides and sources."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from copytrader.money import canonical, to_decimal

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")


def _lower_hex(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def check(value: str) -> str:
        lowered = value.strip().lower()
        if not pattern.match(lowered):
            raise ValueError(f"not a valid {what}: {value!r}")
        return lowered

    return AfterValidator(check)


MAX_AMOUNT = Decimal(10) ** 15  # no price, size or amount of a trade comes near a quadrillion


def _as_decimal(value: object) -> Decimal:
    """The number as a canonical Decimal; NaN, infinities and magnitudes of 1e15 or more are validation errors."""
    number = to_decimal(value)
    if not number.is_finite() or abs(number) >= MAX_AMOUNT:
        raise ValueError(f"not a usable amount: {value!r}")
    return canonical(number)


MILLISECONDS_ABOVE = 100_000_000_000  # epoch numbers above this are milliseconds (year 5138 in seconds)
LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last whole second a datetime can hold
_EPOCH_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_OUT_OF_RANGE = "out of range: epoch seconds (milliseconds above 1e11) from 1970-01-01 to 9999-12-31 expected"


def utc_from_epoch(seconds: int | float | Decimal, *, given: object = None) -> datetime:
    """Epoch seconds as an aware UTC datetime. ValueError, naming the value (`given`, else `seconds`), for NaN, an
    infinity or anything outside 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z: the conversion itself would raise
    OverflowError or OSError there, which nothing upstream expects from bad input."""
    shown = str(seconds if given is None else given)[:40]
    number = seconds if isinstance(seconds, Decimal) else Decimal(seconds)
    if not number.is_finite():
        raise ValueError(f"timestamp {shown} is not a finite number")
    if not 0 <= number <= LAST_SECOND:
        raise ValueError(f"timestamp {shown} is {_OUT_OF_RANGE}")
    return datetime.fromtimestamp(float(number), tz=UTC)


def _epoch_number(value: object) -> Decimal | None:
    """The number an epoch value holds (JSON number or numeric string), None when it is not one."""
    if isinstance(value, int | float):
        return Decimal(value)
    if isinstance(value, str) and _EPOCH_TEXT.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def _as_utc(value: object) -> object:
    """Accept epoch seconds (or milliseconds when > 1e11) as numbers or numeric strings, ISO strings and datetimes;
    return UTC. An epoch out of range is a ValueError (a validation error), never an OverflowError or OSError."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    number = _epoch_number(value)
    if number is None:
        return value
    if number.is_finite() and MILLISECONDS_ABOVE < number <= (LAST_SECOND + 1) * 1000:
        number = number / 1000  # milliseconds (bounded first: a huge Decimal cannot be divided)
    return utc_from_epoch(number, given=value)


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 is in year 10000 in UTC
        raise ValueError(f"timestamp {value.isoformat()} is out of range once converted to UTC") from None


Address = Annotated[str, _lower_hex(_ADDRESS, "0x address")]
Hash32 = Annotated[str, _lower_hex(_HASH32, "0x 32-byte hash")]
TokenId = Annotated[str, AfterValidator(lambda v: _check_token(v))]
Dec = Annotated[Decimal, BeforeValidator(_as_decimal)]
UtcTime = Annotated[datetime, BeforeValidator(_as_utc), AfterValidator(_require_utc)]
Probability = Annotated[Decimal, BeforeValidator(_as_decimal), Field(gt=0, lt=1)]
NonNegative = Annotated[Decimal, BeforeValidator(_as_decimal), Field(ge=0)]
Positive = Annotated[Decimal, BeforeValidator(_as_decimal), Field(gt=0)]


def _check_token(value: str) -> str:
    value = value.strip()
    if not _TOKEN_ID.match(value):
        raise ValueError(f"not a valid token id (decimal uint256): {value!r}")
    return value


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Source(StrEnum):
    CHAIN = "chain"
    RTDS = "rtds"
    DATA_API = "data-api"
    SIM = "sim"


class Frozen(BaseModel):
    """The base of every contract: immutable, no unknown fields, surrounding whitespace stripped from strings."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
