"""Serialisation of simulated markets as Gamma `GET /markets` objects (REFERENCE.md section e).

The layout mirrors the real payloads in data/nautilus-polymarket-fixtures/gamma_market*.json:
`clobTokenIds`, `outcomes` and `outcomePrices` are JSON-encoded strings; `orderPriceMinTickSize` and
`orderMinSize` are numbers; `endDate` is ISO-8601 with a Z; `closedTime` uses Gamma's "YYYY-MM-DD HH:MM:SS+00";
`volume`/`liquidity` are strings with `volumeNum`/`liquidityNum` numbers beside them. Fees: markets with a
non-zero category rate carry `feesEnabled: true`, a `feeType` and `feeSchedule {exponent: 1, rate, rebateRate,
takerOnly: true}` (as the real sports payloads do); fee-free markets carry `feesEnabled: false`, `feeType: null`
and no `feeSchedule` (as the real fee-free payloads do). The category appears as the legacy market-level
`category` (its label, e.g. "Crypto") and as the parent event's `tags` ({id, label, slug}).
Lifecycle: open -> ended (`acceptingOrders: false`, `umaResolutionStatus: "proposed"`) -> resolved
(`closed: true`, `umaResolutionStatus: "resolved"`, `outcomePrices` "[\"1\", \"0\"]" or "[\"0\", \"1\"]").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from copytrader.sim.config import SimConfig
from copytrader.sim.markets import MarketSet

_FEE_TYPES = {"crypto": "crypto_fees", "sports": "sports_fees_v2"}
_REBATE = {"crypto": 0.2}
_DEFAULT_REBATE = 0.25
_TAG_ID_BASE = 100


@dataclass(frozen=True)
class GammaState:
    """The part of a Gamma market that changes over time, as of `at`."""

    at: datetime
    accepting_orders: bool
    ended: bool
    closed: bool
    outcome_prices: tuple[str, str]
    best_bid: float | None
    best_ask: float | None
    last_trade_price: float | None
    volume: float
    liquidity: float


def iso_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _label(name: str) -> str:
    return name.capitalize()


def gamma_market(
    markets: MarketSet, i: int, config: SimConfig, state: GammaState, tags: tuple[str, str] | None = None
) -> dict[str, object]:
    """Market i of `markets` as a Gamma `/markets` object at `state.at`; `tags` (event id, category name) replace the
    market's own when it has been re-tagged (`SimWorld.retag`; the fee schedule stays the original category's)."""
    category = config.categories[int(markets.category[i])]
    event_id, category_name = tags if tags is not None else (markets.event_id[i], category.name)
    tag_index = next(k for k, c in enumerate(config.categories) if c.name == category_name)
    created, end = _epoch(int(markets.created_at[i])), _epoch(int(markets.end_at[i]))
    resolved_at = _epoch(int(markets.resolve_at[i]))
    neg_risk = markets.neg_risk_market_id[i] is not None
    tag = {"id": str(_TAG_ID_BASE + tag_index), "label": _label(category_name), "slug": category_name}
    event: dict[str, object] = {
        "id": event_id,
        "ticker": markets.event_slug[i],
        "slug": markets.event_slug[i],
        "title": markets.event_title[i],
        "startDate": iso_z(created),
        "endDate": iso_z(end),
        "active": True,
        "closed": state.closed,
        "archived": False,
        "negRisk": neg_risk,
        "enableNegRisk": neg_risk,
        "tags": [tag],
    }
    if neg_risk:
        event["negRiskMarketID"] = markets.neg_risk_market_id[i]
    payload: dict[str, object] = {
        "id": markets.gamma_id[i],
        "question": markets.question[i],
        "conditionId": markets.condition_id[i],
        "slug": markets.slug[i],
        "resolutionSource": "",
        "endDate": iso_z(end),
        "liquidity": repr(round(state.liquidity, 4)),
        "startDate": iso_z(created),
        "image": "",
        "icon": "",
        "description": (
            f'This market will resolve to "Yes" if the answer to "{markets.question[i]}" is yes. '
            'Otherwise, it will resolve to "No". Simulated market: not a real Polymarket market.'
        ),
        "outcomes": json.dumps(["Yes", "No"]),
        "outcomePrices": json.dumps(list(state.outcome_prices)),
        "volume": repr(round(state.volume, 6)),
        "active": True,
        "closed": state.closed,
        "marketMakerAddress": "",
        "createdAt": iso_z(created),
        "updatedAt": iso_z(state.at),
        "new": False,
        "featured": False,
        "archived": False,
        "restricted": True,
        "groupItemTitle": markets.group_item_title[i],
        "groupItemThreshold": "0",
        "questionID": markets.question_id[i],
        "enableOrderBook": True,
        "orderPriceMinTickSize": float(markets.tick[i]),
        "orderMinSize": config.min_order_size,
        "volumeNum": round(state.volume, 6),
        "liquidityNum": round(state.liquidity, 4),
        "endDateIso": end.date().isoformat(),
        "startDateIso": created.date().isoformat(),
        "hasReviewedDates": True,
        "clobTokenIds": json.dumps([markets.yes_token[i], markets.no_token[i]]),
        "acceptingOrders": state.accepting_orders,
        "acceptingOrdersTimestamp": iso_z(created),
        "negRisk": neg_risk,
        "negRiskRequestID": "",
        "negRiskOther": False,
        "events": [event],
        "category": _label(category_name),
        "umaResolutionStatuses": json.dumps(["proposed"] if state.ended else []),
        "feesEnabled": category.fee_rate > 0,
        "feeType": _FEE_TYPES.get(category.name, f"{category.name}_fees") if category.fee_rate > 0 else None,
    }
    if neg_risk:
        payload["negRiskMarketID"] = markets.neg_risk_market_id[i]
    if category.fee_rate > 0:
        payload["feeSchedule"] = {
            "exponent": 1,
            "rate": category.fee_rate,
            "rebateRate": _REBATE.get(category.name, _DEFAULT_REBATE),
            "takerOnly": True,
        }
    if state.best_bid is not None and state.best_ask is not None:
        payload["bestBid"] = state.best_bid
        payload["bestAsk"] = state.best_ask
        payload["spread"] = round(state.best_ask - state.best_bid, 6)
    if state.last_trade_price is not None:
        payload["lastTradePrice"] = state.last_trade_price
    if state.ended:
        payload["umaResolutionStatus"] = "resolved" if state.closed else "proposed"
    if state.closed:
        payload["closedTime"] = resolved_at.strftime("%Y-%m-%d %H:%M:%S+00")
        payload["umaEndDate"] = iso_z(resolved_at)
        payload["automaticallyResolved"] = True
    return payload
