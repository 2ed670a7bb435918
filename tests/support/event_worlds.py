"""Data API rows and Gamma market objects (the documented layouts) for the event-level scoring tests: the hedged
neg-risk wallet of issue 12 (YES on the winner and NO on every other member of one event, in one day) and
wallets spread over many events."""

from __future__ import annotations

import json
from collections.abc import Sequence

DAY0 = 1_760_000_000  # 2025-10-09
RESOLVED = "2025-10-20 12:00:00+00"  # after every trade below
AS_OF = 1_761_000_000  # 2025-10-20 22:40


def condition(k: int) -> str:
    return "0x" + f"{k + 1:064x}"


def gamma_market(
    k: int, *, yes_wins: bool, event_id: str | None = None, group: str | None = None, slug: str | None = None
) -> dict[str, object]:
    """Binary market k, tokens 1000+2k (YES) and 1001+2k (NO), resolved at RESOLVED."""
    event: dict[str, object] = {}
    if event_id is not None:
        event["id"] = event_id
    if slug is not None:
        event["slug"] = slug
    payload: dict[str, object] = {
        "conditionId": condition(k),
        "question": f"market {k}",
        "clobTokenIds": json.dumps([str(1000 + 2 * k), str(1001 + 2 * k)]),
        "outcomes": json.dumps(["Yes", "No"]),
        "outcomePrices": json.dumps(["1", "0"] if yes_wins else ["0", "1"]),
        "closed": True,
        "umaResolutionStatus": "resolved",
        "closedTime": RESOLVED,
        "negRisk": group is not None,
        "events": [event] if event else [],
    }
    if group is not None:
        payload["negRiskMarketID"] = group
    return payload


def trade_row(
    wallet: str, k: int, *, yes: bool, price: float, at: int, n: int, size: float = 100.0
) -> dict[str, object]:
    """A BUY of `size` shares of market k's YES (or NO) token at `price`; n makes the transaction hash unique."""
    return {
        "proxyWallet": wallet,
        "side": "BUY",
        "asset": str(1000 + 2 * k + (0 if yes else 1)),
        "conditionId": condition(k),
        "price": price,
        "size": size,
        "timestamp": at,
        "transactionHash": "0x" + f"{n:064x}",
    }


HEDGER = "0x" + "ab" * 20
MEMBERS = 17  # one neg-risk event: market 0 wins (a 0.02 longshot), market 1 is the 0.90 favourite, 15 others


def hedged_event() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(rows, markets): YES on the winner and NO on the 16 other members of one neg-risk event, two fills each,
    in one day. One fact decided every leg, so it is one piece of evidence; a per-market test sees 17."""
    yes_price = [0.02, 0.90] + [0.005] * (MEMBERS - 2)
    markets = [gamma_market(k, yes_wins=k == 0, event_id="4242", group="0x" + "ee" * 32) for k in range(MEMBERS)]
    rows: list[dict[str, object]] = []
    for k in range(MEMBERS):
        for fill in range(2):
            yes = k == 0
            price = yes_price[k] if yes else round(1 - yes_price[k], 3)
            rows.append(trade_row(HEDGER, k, yes=yes, price=price, at=DAY0 + 600 * k + fill, n=len(rows)))
    return rows, markets


def spread_wallet(
    wallet: str, events: Sequence[int], *, first_market: int, wins: Sequence[bool], price: float, n0: int
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """One YES BUY at `price` in each of len(events) single-market events, won or lost as `wins` says."""
    rows, markets = [], []
    for j, (e, won) in enumerate(zip(events, wins, strict=True)):
        k = first_market + j
        markets.append(gamma_market(k, yes_wins=won, event_id=f"ev{e}"))
        rows.append(trade_row(wallet, k, yes=True, price=price, at=DAY0 + 86_400 * j, n=n0 + j))
    return rows, markets
