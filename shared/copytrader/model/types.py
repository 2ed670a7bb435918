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


def _as_decimal(value: object) -> Decimal:
    return canonical(to_decimal(value))


def _as_utc(value: object) -> object:
    """Accept epoch seconds (or milliseconds when > 1e11), ISO strings and datetimes; return UTC."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, int | float):
        try:
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError) as exc:  # out of the platform's range: bad input, not a crash
            raise ValueError(f"epoch {value!r:.40} is out of range: {exc}") from exc
    if isinstance(value, str) and value.strip().isdigit():
        return _as_utc(int(value.strip()))
    return value


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


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
