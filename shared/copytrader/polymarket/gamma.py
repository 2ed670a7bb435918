"""Gamma market objects (REFERENCE.md section e) parsed into `copytrader.model.Market`.

Gamma encodes `clobTokenIds`, `outcomes` and `outcomePrices` as JSON strings; tokens and outcomes match
by index. Legacy markets lack tick and min size (defaults 0.01 and 5 shares). The taker fee rate comes
from `feeSchedule.rate` when present, else from the market's fee type or category (REFERENCE section h),
else zero when `feesEnabled` is false. A market counts as resolved only when it is closed and its
outcome prices are a definite payout (one-hot, or 50/50) or UMA says "resolved"; `["0","0"]` on a closed
market is treated as unresolved (seen on some real resolved markets, REFERENCE section e).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from copytrader.model import Market, OutcomeToken
from copytrader.money import ONE, ZERO, to_decimal

DEFAULT_TICK = Decimal("0.01")
DEFAULT_MIN_SIZE = Decimal(5)
# Taker fee rates per category (docs.polymarket.com/trading/fees, REFERENCE section h).
CATEGORY_FEE_RATES: dict[str, Decimal] = {
    "crypto": Decimal("0.07"),
    "sports": Decimal("0.03"),
    "finance": Decimal("0.04"),
    "politics": Decimal("0.04"),
    "economics": Decimal("0.05"),
    "culture": Decimal("0.05"),
    "weather": Decimal("0.05"),
    "mentions": Decimal("0.04"),
    "tech": Decimal("0.04"),
    "geopolitics": Decimal(0),
    "other": Decimal("0.05"),
}
_FEE_TYPES = {"crypto_fees": "crypto", "sports_fees": "sports"}


def _json_list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    try:
        decoded = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{field} is not a JSON list: {value!r}") from exc
    if not isinstance(decoded, list):
        raise ValueError(f"{field} is not a JSON list: {value!r}")
    return decoded


def _category(payload: dict[str, Any]) -> str:
    raw = payload.get("category") or ""
    if not raw:
        for event in payload.get("events") or []:
            for tag in event.get("tags") or []:
                label = str(tag.get("slug") or tag.get("label") or "").lower()
                if label in CATEGORY_FEE_RATES:
                    return label
        fee_type = payload.get("feeType")
        return _FEE_TYPES.get(str(fee_type), "other")
    lowered = str(raw).lower()
    if lowered in CATEGORY_FEE_RATES:
        return lowered
    # longest name first, so "geopolitics" is not read as "politics"
    return next((name for name in sorted(CATEGORY_FEE_RATES, key=len, reverse=True) if name in lowered), lowered)


def _fee_rate(payload: dict[str, Any], category: str) -> Decimal:
    schedule = payload.get("feeSchedule")
    if isinstance(schedule, dict) and schedule.get("rate") is not None:
        return to_decimal(schedule["rate"])
    if payload.get("feesEnabled") is False:
        return ZERO
    fee_type = payload.get("feeType")
    if fee_type in _FEE_TYPES:
        return CATEGORY_FEE_RATES[_FEE_TYPES[fee_type]]
    return CATEGORY_FEE_RATES.get(category, CATEGORY_FEE_RATES["other"])


def _payouts(payload: dict[str, Any], token_ids: list[str]) -> dict[str, Decimal] | None:
    if not payload.get("closed"):
        return None
    prices = [to_decimal(p) for p in _json_list(payload.get("outcomePrices"), "outcomePrices")]
    if len(prices) != len(token_ids) or sum(prices, ZERO) != ONE:
        return None
    definite = sorted(prices) in ([ZERO] * (len(prices) - 1) + [ONE], [Decimal("0.5")] * 2)
    if not definite and payload.get("umaResolutionStatus") != "resolved":
        return None
    return dict(zip(token_ids, prices, strict=True))


def market_from_gamma(payload: dict[str, Any]) -> Market:
    """Parse one Gamma market object; raises ValueError (or pydantic's ValidationError) when unusable."""
    token_ids = [str(t) for t in _json_list(payload.get("clobTokenIds"), "clobTokenIds")]
    outcomes = [str(o) for o in _json_list(payload.get("outcomes"), "outcomes")]
    if len(token_ids) < 2 or len(token_ids) != len(outcomes):
        raise ValueError(f"market {payload.get('conditionId')}: tokens and outcomes do not pair up")
    category = _category(payload)
    events = payload.get("events") or []
    return Market(
        condition_id=payload["conditionId"],
        question=payload.get("question") or "",
        slug=payload.get("slug") or "",
        event_id=str(events[0]["id"]) if events and events[0].get("id") is not None else None,
        category=category,
        neg_risk=bool(payload.get("negRisk")),
        neg_risk_market_id=payload.get("negRiskMarketID") or None,
        tokens=tuple(OutcomeToken(token_id=t, outcome=o) for t, o in zip(token_ids, outcomes, strict=True)),
        tick_size=payload.get("orderPriceMinTickSize") or DEFAULT_TICK,
        min_order_size=payload.get("orderMinSize") or DEFAULT_MIN_SIZE,
        taker_fee_rate=_fee_rate(payload, category),
        end_time=payload.get("endDate") or None,
        closed=bool(payload.get("closed")),
        accepting_orders=bool(payload.get("acceptingOrders")) and not payload.get("closed"),
        payouts=_payouts(payload, token_ids),
        uma_status=_uma_status(payload),
        uma_statuses=_uma_statuses(payload),
    )


def _uma_status(payload: dict[str, Any]) -> str | None:
    """`umaResolutionStatus` in lower case, None when absent or empty."""
    raw = payload.get("umaResolutionStatus")
    return str(raw).strip().lower() or None if raw is not None else None


def _uma_statuses(payload: dict[str, Any]) -> tuple[str, ...]:
    """`umaResolutionStatuses` (a JSON-encoded list of strings): its entries in lower case; () when absent or not a
    list of strings (the current status still counts)."""
    raw = payload.get("umaResolutionStatuses")
    if raw in (None, ""):
        return ()
    try:
        entries = _json_list(raw, "umaResolutionStatuses")
    except ValueError:
        return ()
    return tuple(str(e).strip().lower() for e in entries if isinstance(e, str) and e.strip())
