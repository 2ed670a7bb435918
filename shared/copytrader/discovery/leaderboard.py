"""Data API leaderboards (`GET /v1/leaderboard`, REFERENCE.md section a): queries and row parsing. No I/O.

Parameters: `category` (OVERALL, POLITICS, SPORTS, ESPORTS, CRYPTO, CULTURE, MENTIONS, WEATHER, ECONOMICS,
TECH, FINANCE), `timePeriod` (DAY, WEEK, MONTH, ALL), `orderBy` (PNL, VOL), `limit` 1-50, `offset` up to
1,000; so one ranking can be read to depth 1,050. A row is `rank` (a string), `proxyWallet`, `userName`,
`vol`, `pnl`, `profileImage`, `xUsername`, `verifiedBadge`.

`parse_leaderboard_row` never raises: a row that is not an object, has no valid wallet, or has a rank,
PnL or volume that is not a number is skipped with a `SkipReason`, counted by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from copytrader.money import to_decimal

LEADERBOARD_PATH = "/v1/leaderboard"
CATEGORIES = (
    "OVERALL", "POLITICS", "SPORTS", "ESPORTS", "CRYPTO", "CULTURE", "MENTIONS", "WEATHER", "ECONOMICS", "TECH",
    "FINANCE",
)  # fmt: skip
PERIODS = ("DAY", "WEEK", "MONTH", "ALL")
ORDER_BYS = ("PNL", "VOL")
MAX_PAGE = 50
MAX_OFFSET = 1000
MAX_DEPTH = MAX_OFFSET + MAX_PAGE

_ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")


class SkipReason(StrEnum):
    """Why a discovery row did not name a candidate (one spelling for counters, reports and tests)."""

    NOT_AN_OBJECT = "not_an_object"
    MALFORMED_WALLET = "malformed_wallet"
    MALFORMED_RANK = "malformed_rank"
    MALFORMED_PNL = "malformed_pnl"
    MALFORMED_VOL = "malformed_vol"
    BELOW_THRESHOLD = "below_threshold"  # a large-trade row under the asked notional
    QUERY_FAILED = "query_failed"  # a whole query failed after its retries


def wallet_address(value: object) -> str | None:
    """A lower-cased 0x address of 40 hex digits, or None."""
    text = value.strip().lower() if isinstance(value, str) else ""
    return text if _ADDRESS.match(text) else None


@dataclass(frozen=True)
class LeaderboardQuery:
    category: str
    period: str
    order_by: str

    def __post_init__(self) -> None:
        for value, allowed, name in (
            (self.category, CATEGORIES, "category"),
            (self.period, PERIODS, "timePeriod"),
            (self.order_by, ORDER_BYS, "orderBy"),
        ):
            if value not in allowed:
                raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")

    @property
    def label(self) -> str:
        return f"{self.order_by}/{self.period}/{self.category}"

    def params(self, offset: int, limit: int) -> dict[str, str | int]:
        return {
            "category": self.category,
            "timePeriod": self.period,
            "orderBy": self.order_by,
            "limit": limit,
            "offset": offset,
        }


def leaderboard_pages(depth: int) -> list[tuple[int, int]]:
    """(offset, limit) of the pages that read a ranking to `depth` rows."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"a leaderboard can be read to a depth of 1 to {MAX_DEPTH} rows, not {depth}")
    return [(offset, min(MAX_PAGE, depth - offset)) for offset in range(0, depth, MAX_PAGE)]


@dataclass(frozen=True)
class LeaderboardEntry:
    wallet: str
    rank: int
    pnl: Decimal
    vol: Decimal
    user_name: str
    x_username: str
    verified: bool


@dataclass(frozen=True)
class Skip:
    reason: SkipReason
    detail: str


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _amount(row: Mapping[str, Any], field: str, reason: SkipReason) -> Decimal | Skip:
    try:
        return to_decimal(row.get(field))
    except ValueError:
        return Skip(reason, f"{field} {row.get(field)!r}")


def _rank(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 1 else None


def parse_leaderboard_row(row: object) -> LeaderboardEntry | Skip:
    """One leaderboard row -> an entry, or the reason it names no candidate."""
    if not isinstance(row, Mapping):
        return Skip(SkipReason.NOT_AN_OBJECT, f"row is a {type(row).__name__}")
    wallet = wallet_address(row.get("proxyWallet"))
    if wallet is None:
        return Skip(SkipReason.MALFORMED_WALLET, f"proxyWallet {row.get('proxyWallet')!r}")
    rank = _rank(row.get("rank"))
    if rank is None:
        return Skip(SkipReason.MALFORMED_RANK, f"rank {row.get('rank')!r}")
    pnl = _amount(row, "pnl", SkipReason.MALFORMED_PNL)
    if isinstance(pnl, Skip):
        return pnl
    vol = _amount(row, "vol", SkipReason.MALFORMED_VOL)
    if isinstance(vol, Skip):
        return vol
    return LeaderboardEntry(
        wallet=wallet,
        rank=rank,
        pnl=pnl,
        vol=vol,
        user_name=_text(row.get("userName")),
        x_username=_text(row.get("xUsername")),
        verified=row.get("verifiedBadge") is True,
    )
