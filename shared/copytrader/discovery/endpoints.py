"""What each Data API history endpoint allows (REFERENCE.md section a), in one table.

| endpoint            | path                | limit  | offset | rows carry `timestamp`, take `end` |
|---------------------|---------------------|--------|--------|------------------------------------|
| trades              | `/trades`           | 10,000 | 10,000 | yes: deeper history in `end` windows |
| activity            | `/activity`         | 500    | 10,000 | yes                                |
| positions           | `/positions`        | 500    | 10,000 | no: a snapshot                     |
| closed-positions    | `/closed-positions` | 50     | 10,000 | no: a snapshot (offset bound assumed, see below) |

`/trades` is asked with `takerOnly=false` (maker fills matter: whales rest limit orders) and `start=1` on a
full fetch (an omitted `start` means "about three years"). `/activity` is asked for every documented type
(TRADE, SPLIT, MERGE, REDEEM, CONVERSION, REWARD, MAKER_REBATE), newest first (`sortBy=TIMESTAMP`,
`sortDirection=DESC`), so the `end` windows and the high-water refresh read it exactly like `/trades`.
The reference documents only `limit <= 50` for `/closed-positions`; its offset bound is taken to be
`/positions`' 10,000 (a third-party client allows 100,000: 10,000 is the safe side).

Rate limits (docs.polymarket.com/api-reference/rate-limits, Cloudflare sliding 10 s windows): the Data API
as a whole 1,000 requests, `/trades` 200, `/positions` 150, `/closed-positions` 150. A request to a limited
path takes a slot from its own limiter and from the general one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from copytrader.discovery.rows import (
    Identity,
    activity_identity,
    closed_position_identity,
    position_identity,
    trade_identity,
)
from copytrader.polymarket.data_api.client import MAX_LIMIT, MAX_OFFSET, TRADES_PATH
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter

RATE_WINDOW_S = 10.0
GENERAL_RATE_LIMIT = 1000
TRADES_RATE_LIMIT = 200
POSITIONS_RATE_LIMIT = 150
CLOSED_POSITIONS_RATE_LIMIT = 150
ACTIVITY_TYPES = ("TRADE", "SPLIT", "MERGE", "REDEEM", "CONVERSION", "REWARD", "MAKER_REBATE")


class Endpoint(StrEnum):
    TRADES = "trades"
    ACTIVITY = "activity"
    POSITIONS = "positions"
    CLOSED_POSITIONS = "closed-positions"


@dataclass(frozen=True)
class EndpointSpec:
    endpoint: Endpoint
    path: str
    max_limit: int
    max_offset: int
    windowed: bool  # rows carry `timestamp` and the endpoint takes `start`/`end`
    default_page_size: int
    params: tuple[tuple[str, str], ...]  # sent on every request
    identity: Identity

    def page_size(self, wanted: int | None) -> int:
        size = self.default_page_size if wanted is None else wanted
        if not 1 <= size <= self.max_limit:
            raise ValueError(f"{self.endpoint} pages hold 1 to {self.max_limit} rows, not {size}")
        return size


SPECS: Mapping[Endpoint, EndpointSpec] = {
    Endpoint.TRADES: EndpointSpec(
        endpoint=Endpoint.TRADES,
        path=TRADES_PATH,
        max_limit=MAX_LIMIT,
        max_offset=MAX_OFFSET,
        windowed=True,
        default_page_size=1000,
        params=(("takerOnly", "false"),),
        identity=trade_identity,
    ),
    Endpoint.ACTIVITY: EndpointSpec(
        endpoint=Endpoint.ACTIVITY,
        path="/activity",
        max_limit=500,
        max_offset=10_000,
        windowed=True,
        default_page_size=500,
        params=(("type", ",".join(ACTIVITY_TYPES)), ("sortBy", "TIMESTAMP"), ("sortDirection", "DESC")),
        identity=activity_identity,
    ),
    Endpoint.POSITIONS: EndpointSpec(
        endpoint=Endpoint.POSITIONS,
        path="/positions",
        max_limit=500,
        max_offset=10_000,
        windowed=False,
        default_page_size=500,
        params=(),
        identity=position_identity,
    ),
    Endpoint.CLOSED_POSITIONS: EndpointSpec(
        endpoint=Endpoint.CLOSED_POSITIONS,
        path="/closed-positions",
        max_limit=50,
        max_offset=10_000,  # assumed: only `limit <= 50` is documented
        windowed=False,
        default_page_size=50,
        params=(),
        identity=closed_position_identity,
    ),
}


@dataclass(frozen=True)
class DataApiLimiters:
    """One sliding-window limiter per documented limit, shared by every task of a run."""

    general: SlidingWindowLimiter
    trades: SlidingWindowLimiter
    positions: SlidingWindowLimiter
    closed_positions: SlidingWindowLimiter

    @classmethod
    def documented(
        cls,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> DataApiLimiters:
        def limiter(limit: int) -> SlidingWindowLimiter:
            return SlidingWindowLimiter(limit, RATE_WINDOW_S, clock=clock, sleep=sleep)

        return cls(
            limiter(GENERAL_RATE_LIMIT),
            limiter(TRADES_RATE_LIMIT),
            limiter(POSITIONS_RATE_LIMIT),
            limiter(CLOSED_POSITIONS_RATE_LIMIT),
        )

    def for_path(self, path: str) -> tuple[SlidingWindowLimiter, ...]:
        own = {
            TRADES_PATH: self.trades,
            SPECS[Endpoint.POSITIONS].path: self.positions,
            SPECS[Endpoint.CLOSED_POSITIONS].path: self.closed_positions,
        }.get(path)
        return (own, self.general) if own is not None else (self.general,)
