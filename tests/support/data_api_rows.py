"""Rows and objects as the Data API and Gamma document them (REFERENCE.md sections a and e), values made up.

`tests.support.fake_data_api.FakeDataApi` serves them; unit tests of the parsers read them directly. Ids are
derived from labels (`builders.hex_id`, `token_of`), so a test names a wallet or a market and gets the same id
every time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from tests.support.builders import T0, hex_id

EPOCH0 = int(T0.timestamp())


def token_of(label: str) -> str:
    return str(int(hashlib.sha256(label.encode()).hexdigest(), 16))[:77]


# ------------------------------------------------------------------------------------------- documented rows


def trade_row(
    wallet: str,
    timestamp: int,
    n: int = 0,
    *,
    condition_id: str | None = None,
    asset: str | None = None,
    side: str = "BUY",
    size: float = 100.0,
    price: float = 0.42,
    outcome_index: int = 0,
    tx: str | None = None,
) -> dict[str, Any]:
    """A v1 `/trades` row with every documented field in the documented order (values made up)."""
    condition_id = condition_id or hex_id("condition:default", 32)
    return {
        "proxyWallet": wallet,
        "side": side,
        "asset": asset or token_of(f"{condition_id}:{outcome_index}"),
        "conditionId": condition_id,
        "size": size,
        "price": price,
        "timestamp": timestamp,
        "title": "Will it happen?",
        "slug": "will-it-happen",
        "icon": "",
        "eventSlug": "it",
        "outcome": "Yes" if outcome_index == 0 else "No",
        "outcomeIndex": outcome_index,
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profileImage": "",
        "profileImageOptimized": "",
        "transactionHash": tx or hex_id(f"tx:{wallet}:{timestamp}:{n}", 32),
    }


def activity_row(wallet: str, timestamp: int, n: int = 0, *, kind: str = "TRADE", usdc: float = 42.0) -> dict[str, Any]:
    """A v1 `/activity` row (documented fields; values made up)."""
    condition_id = hex_id("condition:default", 32)
    trade = kind == "TRADE"
    return {
        "proxyWallet": wallet,
        "timestamp": timestamp,
        "conditionId": condition_id,
        "type": kind,
        "size": 100.0,
        "usdcSize": usdc,
        "transactionHash": hex_id(f"activity:{wallet}:{timestamp}:{n}", 32),
        "price": 0.42 if trade else 0,
        "asset": token_of(f"{condition_id}:0") if trade else "",
        "side": "BUY" if trade else "",
        "outcomeIndex": 0 if trade else 999,
        "title": "Will it happen?",
        "slug": "will-it-happen",
        "icon": "",
        "eventSlug": "it",
        "outcome": "Yes" if trade else "",
        "name": "",
        "pseudonym": "",
        "bio": "",
        "profileImage": "",
        "profileImageOptimized": "",
    }


def position_row(wallet: str, n: int, *, closed: bool = False, timestamp: int = 0) -> dict[str, Any]:
    """A `/positions` row (or, with `closed`, a `/closed-positions` row) with the documented fields."""
    condition_id = hex_id(f"condition:position:{n}", 32)
    row: dict[str, Any] = {
        "proxyWallet": wallet,
        "asset": token_of(f"{condition_id}:0"),
        "conditionId": condition_id,
        "size": 0.0 if closed else 150.5,
        "avgPrice": 0.55,
        "initialValue": 82.775,
        "currentValue": 90.3,
        "cashPnl": 7.525,
        "percentPnl": 9.09,
        "totalBought": 150.5,
        "realizedPnl": 5.0 if closed else 0.0,
        "percentRealizedPnl": 11.11 if closed else 0.0,
        "curPrice": 0.6,
        "redeemable": False,
        "mergeable": False,
        "title": f"Market {n}",
        "slug": f"market-{n}",
        "icon": "",
        "eventSlug": f"event-{n}",
        "outcome": "Yes",
        "outcomeIndex": 0,
        "oppositeOutcome": "No",
        "oppositeAsset": token_of(f"{condition_id}:1"),
        "endDate": "2026-12-31T00:00:00Z",
        "negativeRisk": False,
    }
    if closed:
        row["timestamp"] = timestamp
    return row


def leaderboard_row(rank: int, wallet: str, pnl: float, vol: float, name: str = "") -> dict[str, Any]:
    """A `/v1/leaderboard` row: `rank` is a string, as documented."""
    return {
        "rank": str(rank),
        "proxyWallet": wallet,
        "userName": name,
        "vol": vol,
        "pnl": pnl,
        "profileImage": "",
        "xUsername": "",
        "verifiedBadge": False,
    }


def gamma_market(condition_id: str, *, closed: bool = False, prices: Sequence[str] = ("0.5", "0.5")) -> dict[str, Any]:
    """A Gamma market object with the real field names and JSON-in-string encodings (values made up)."""
    return {
        "id": str(int(condition_id[2:12], 16)),
        "question": f"Market {condition_id[:10]}?",
        "conditionId": condition_id,
        "slug": f"market-{condition_id[2:10]}",
        "endDate": "2026-12-31T00:00:00Z",
        "outcomes": json.dumps(["Yes", "No"]),
        "outcomePrices": json.dumps(list(prices)),
        "clobTokenIds": json.dumps([token_of(f"{condition_id}:0"), token_of(f"{condition_id}:1")]),
        "active": True,
        "closed": closed,
        "acceptingOrders": not closed,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
        "negRisk": False,
        "feesEnabled": False,
        "umaResolutionStatus": "resolved" if closed else None,
        "events": [{"id": "1", "slug": "event", "title": "Event"}],
    }
