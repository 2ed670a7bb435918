"""Gamma market objects -> per-token resolution facts the ledger and the edge statistics need.

Each Gamma market is parsed by `copytrader.polymarket.gamma.market_from_gamma` (JSON-in-string fields decoded,
tokens matched to outcomes by index, fee rate and category resolved; REFERENCE.md section e). On top of that:
- payout per token: 1 / 0 for a decided market, 0.5 / 0.5 for a 50/50 resolution, unknown (NaN) while the market
  is open or when a closed market's prices are not a definite payout (e.g. `["0","0"]` on some legacy markets);
- resolution time: `closedTime` ("YYYY-MM-DD HH:MM:SS+00"), else `umaEndDate`, else `endDate`; a resolved market
  without any of them resolves "at the as-of time" (the ledger books it then, never earlier);
- current price per token (open markets): `outcomePrices`, used only to mark open positions, never as an outcome;
- event: the key of `copytrader.scoring.event_keys` (Gamma's event id, else the neg-risk group, else the event
  slug; markets sharing any of them joined into one event; the market alone only when none is known, counted in
  `MarketReport.without_event`). Neg-risk members share an event, so statistics clustered by event treat their
  (mutually exclusive) outcomes as one dependent unit.
Markets that cannot be parsed are counted with the reason; trades in unknown markets stay unresolved.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from copytrader.polymarket.gamma import market_from_gamma
from copytrader.reasons import RejectTally
from copytrader.scoring.event_keys import event_aliases, event_key, join_events
from copytrader.scoring.tape import TradeTape

UNKNOWN_CATEGORY = "unknown"


def _time(value: Any) -> int | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("+00"):
        text += ":00"
    text = text.replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _prices(payload: Mapping[str, Any]) -> list[float]:
    raw = payload.get("outcomePrices")
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
        return [float(v) for v in values] if isinstance(values, list) else []
    except (TypeError, ValueError):
        return []


@dataclass(frozen=True)
class MarketFacts:
    """What the scorer knows about one market."""

    condition_id: str
    token_ids: tuple[str, ...]
    payouts: tuple[float, ...] | None  # per token, None while unresolved
    resolved_at: int | None  # epoch seconds
    current_prices: tuple[float, ...] | None
    event: str
    category: str
    fee_rate: float
    neg_risk: bool
    event_aliases: tuple[str, ...] = ()  # every event alias the object carries (copytrader.scoring.event_keys)


@dataclass
class MarketReport(RejectTally):
    markets: int = 0
    resolved: int = 0
    fifty_fifty: int = 0
    unresolved: int = 0
    without_event: int = 0  # markets with no event id, neg-risk group or event slug: each is its own event


def market_facts(payload: Mapping[str, Any]) -> MarketFacts:
    """One Gamma market object -> MarketFacts; raises ValueError when it is unusable."""
    try:
        market = market_from_gamma(dict(payload))
    except (ValidationError, KeyError, TypeError) as exc:
        raise ValueError(f"unusable Gamma market: {type(exc).__name__}") from None
    tokens = tuple(t.token_id for t in market.tokens)
    payouts = tuple(float(market.payouts[t]) for t in tokens) if market.payouts else None
    resolved_at = None
    if payouts is not None:
        resolved_at = next(
            (t for t in (_time(payload.get(k)) for k in ("closedTime", "umaEndDate", "endDate")) if t is not None),
            None,
        )
    prices = _prices(payload)
    current = (
        tuple(prices) if payouts is None and len(prices) == len(tokens) and all(0 < p < 1 for p in prices) else None
    )
    aliases = event_aliases(payload, market.neg_risk_market_id, market.condition_id)
    return MarketFacts(
        condition_id=market.condition_id,
        token_ids=tokens,
        payouts=payouts,
        resolved_at=resolved_at,
        current_prices=current,
        event=event_key(aliases),
        category=market.category or UNKNOWN_CATEGORY,
        fee_rate=float(market.taker_fee_rate),
        neg_risk=market.neg_risk,
        event_aliases=aliases,
    )


def load_markets(payloads: Iterable[object]) -> tuple[dict[str, MarketFacts], MarketReport]:
    """Parse Gamma objects into facts by condition id (the last of repeated objects wins); never raises."""
    report = MarketReport()
    facts: dict[str, MarketFacts] = {}
    for payload in payloads:
        if not isinstance(payload, Mapping):
            report.rejected["not_an_object"] += 1
            continue
        try:
            found = market_facts(payload)
        except ValueError as exc:
            report.rejected[str(exc).split(":")[0].replace(" ", "_")] += 1
            continue
        facts[found.condition_id] = found
    joined = join_events({c: f.event_aliases or (f.event,) for c, f in facts.items()})
    facts = {c: f if f.event == joined[c] else replace(f, event=joined[c]) for c, f in facts.items()}
    report.markets = len(facts)
    report.without_event = sum(f.event.startswith("market:") for f in facts.values())
    for f in facts.values():
        if f.payouts is None:
            report.unresolved += 1
        else:
            report.resolved += 1
            report.fifty_fifty += int(0.0 < min(f.payouts) < 1.0)
    return facts, report


def read_markets(path: Path) -> list[object]:
    """A JSON array of Gamma market objects (a single object, or `{"data": [...]}`, is accepted too)."""
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if isinstance(data, dict):
        inner = data.get("data")
        return list(inner) if isinstance(inner, list) else [data]
    return list(data) if isinstance(data, list) else []


@dataclass(frozen=True)
class TokenFacts:
    """Per token of a tape (aligned with `TradeTape.tokens`): everything the ledger looks up per trade.

    known: the token belongs to a market in the table; outcome: its index in the market (0 = first outcome);
    payout: NaN while unresolved; resolved_at: -1 while unresolved; price_now: NaN when unknown;
    event / category: indices into `events` / `categories`; fee_rate: the market's taker fee rate (0 when unknown).
    """

    known: npt.NDArray[np.bool_]
    outcome: npt.NDArray[np.int64]
    payout: npt.NDArray[np.float64]
    resolved_at: npt.NDArray[np.int64]
    price_now: npt.NDArray[np.float64]
    event: npt.NDArray[np.int64]
    category: npt.NDArray[np.int64]
    fee_rate: npt.NDArray[np.float64]
    events: tuple[str, ...]
    categories: tuple[str, ...]
    mismatched_tokens: int  # tokens the trades pair with a condition id other than the market's


def token_facts(tape: TradeTape, markets: Mapping[str, MarketFacts], as_of: int) -> TokenFacts:
    """Look every tape token up in `markets`. A market resolved after `as_of` counts as unresolved (no look-ahead)."""
    by_token: dict[str, tuple[MarketFacts, int]] = {}
    for f in markets.values():
        for position, token in enumerate(f.token_ids):
            by_token[token] = (f, position)
    n = len(tape.tokens)
    known = np.zeros(n, dtype=np.bool_)
    outcome = np.zeros(n, dtype=np.int64)
    payout = np.full(n, np.nan)
    resolved_at = np.full(n, -1, dtype=np.int64)
    price_now = np.full(n, np.nan)
    fee_rate = np.zeros(n)
    event_names: list[str] = []
    category_names: list[str] = []
    token_condition: dict[int, int] = {}
    for i, c in zip(tape.token.tolist(), tape.condition.tolist(), strict=True):
        token_condition.setdefault(i, c)
    for i, token in enumerate(tape.tokens):
        found = by_token.get(token)
        if found is None:
            condition = tape.conditions[token_condition[i]] if i in token_condition else token
            event_names.append(f"event:{condition}")
            category_names.append(UNKNOWN_CATEGORY)
            continue
        f, position = found
        known[i] = True
        outcome[i] = position
        fee_rate[i] = f.fee_rate
        event_names.append(f.event)
        category_names.append(f.category)
        if f.payouts is not None:
            when = f.resolved_at if f.resolved_at is not None else as_of
            if when <= as_of:
                payout[i] = f.payouts[position]
                resolved_at[i] = when
        if np.isnan(payout[i]) and f.current_prices is not None:
            price_now[i] = f.current_prices[position]
    events = tuple(sorted(set(event_names)))
    categories = tuple(sorted(set(category_names)))
    event_index = {e: k for k, e in enumerate(events)}
    category_index = {c: k for k, c in enumerate(categories)}
    mismatch = 0
    if markets:
        condition_of_token = {t: f.condition_id for f in markets.values() for t in f.token_ids}
        conditions = np.array(
            [
                condition_of_token.get(tape.tokens[t], tape.conditions[c]) != tape.conditions[c]
                for t, c in token_condition.items()
            ]
        )
        mismatch = int(conditions.sum()) if conditions.size else 0
    return TokenFacts(
        known=known,
        outcome=outcome,
        payout=payout,
        resolved_at=resolved_at,
        price_now=price_now,
        event=np.array([event_index[e] for e in event_names], dtype=np.int64),
        category=np.array([category_index[c] for c in category_names], dtype=np.int64),
        fee_rate=fee_rate,
        events=events,
        categories=categories,
        mismatched_tokens=mismatch,
    )
