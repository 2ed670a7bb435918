"""Serialisation of fills as Data API `GET /trades` (v1) rows (REFERENCE.md section a).

Field names, order and types follow the real v1 row: camelCase keys, `size` and `price` as JSON numbers,
`timestamp` in epoch seconds, `outcomeIndex` an int, profile fields present but empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from copytrader.sim.ids import hex_of
from copytrader.sim.markets import MarketSet

OUTCOMES: tuple[str, str] = ("Yes", "No")
SIDES: tuple[str, str] = ("BUY", "SELL")


@dataclass(frozen=True)
class Fills:
    """Fills in columnar form against one `MarketSet` (prices and sizes as floats on their grids)."""

    wallet: np.ndarray
    market: np.ndarray
    token: np.ndarray
    side: np.ndarray
    price: np.ndarray
    size: np.ndarray
    timestamp: np.ndarray
    tx: np.ndarray


def trade_rows(fills: Fills, markets: MarketSet, addresses: tuple[str, ...]) -> list[dict[str, object]]:
    """One v1 `/trades` row per fill, in the order given."""
    rows: list[dict[str, object]] = []
    for k in range(len(fills.wallet)):
        i, token = int(fills.market[k]), int(fills.token[k])
        rows.append(
            {
                "proxyWallet": addresses[int(fills.wallet[k])],
                "side": SIDES[int(fills.side[k])],
                "asset": markets.token_id(i, token),
                "conditionId": markets.condition_id[i],
                "size": round(float(fills.size[k]), 2),
                "price": round(float(fills.price[k]), 4),
                "timestamp": int(fills.timestamp[k]),
                "title": markets.question[i],
                "slug": markets.slug[i],
                "icon": "",
                "eventSlug": markets.event_slug[i],
                "outcome": OUTCOMES[token],
                "outcomeIndex": token,
                "name": "",
                "pseudonym": "",
                "bio": "",
                "profileImage": "",
                "profileImageOptimized": "",
                "transactionHash": hex_of(fills.tx[k]),
            }
        )
    return rows
