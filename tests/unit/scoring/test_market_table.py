"""Gamma objects -> resolution facts: the real recorded payloads, and edge cases written to the documented layout."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from copytrader.scoring.market_table import load_markets, market_facts, token_facts
from copytrader.scoring.tape import load_rows
from tests.support.handbook import load_json


def _one(name: str) -> dict[str, Any]:
    payload = load_json(f"nautilus-polymarket-fixtures/{name}")
    return payload[0] if isinstance(payload, list) else payload  # type: ignore[no-any-return]


def test_real_resolved_market_gets_payouts_and_its_closed_time() -> None:
    f = market_facts(_one("gamma_market_closed_binary_accepting_false.json"))
    assert f.payouts == (0.0, 1.0)
    assert f.resolved_at == 1773962415  # closedTime "2026-03-19 23:20:15+00"
    assert f.current_prices is None


def test_real_sports_pair_shares_its_event() -> None:
    a = market_facts(_one("gamma_market_sports_market_map_handicap.json"))
    b = market_facts(_one("gamma_market_sports_market_money_line.json"))
    assert a.event == b.event == "event:346898"
    assert a.payouts == (1.0, 0.0) and a.fee_rate > 0


def test_real_zero_zero_and_nonbinary_legacy_markets_stay_unresolved() -> None:
    assert market_facts(_one("gamma_market_closed_zero_zero_legacy.json")).payouts is None
    assert market_facts(_one("gamma_market_closed_nonbinary_legacy.json")).payouts is None


def test_real_open_market_carries_current_prices_not_an_outcome() -> None:
    f = market_facts(_one("gamma_market.json"))
    assert f.payouts is None and f.resolved_at is None
    assert f.current_prices == (0.505, 0.495)


def _gamma(condition: str, tokens: tuple[str, str], prices: tuple[str, str], **over: object) -> dict[str, object]:
    payload: dict[str, object] = {
        "conditionId": condition,
        "question": "q",
        "clobTokenIds": json.dumps(list(tokens)),
        "outcomes": json.dumps(["Yes", "No"]),
        "outcomePrices": json.dumps(list(prices)),
        "closed": True,
        "umaResolutionStatus": "resolved",
        "closedTime": "2025-10-10 12:00:00+00",
        "negRisk": True,
        "negRiskMarketID": "0x" + "ee" * 32,
        "events": [],
    }
    payload.update(over)
    return payload


C1, C2 = "0x" + "01" * 32, "0x" + "02" * 32


def test_fifty_fifty_neg_risk_grouping_and_rejects() -> None:
    facts, report = load_markets(
        [
            _gamma(C1, ("11", "12"), ("0.5", "0.5")),
            _gamma(C2, ("21", "22"), ("1", "0"), closedTime=None, umaEndDate="2025-10-11T00:00:00Z"),
            {"conditionId": "0x12"},
            "junk",
        ]
    )
    assert report.markets == 2 and report.fifty_fifty == 1 and report.resolved == 2
    assert sum(report.rejected.values()) == 2
    assert facts[C1].payouts == (0.5, 0.5)
    assert facts[C1].event == facts[C2].event == "negrisk:" + "0x" + "ee" * 32  # neg-risk members: one event
    assert facts[C2].resolved_at == 1760140800


def test_token_facts_align_with_the_tape_and_refuse_look_ahead() -> None:
    wallet = "0x" + "aa" * 20
    rows = [
        {
            "proxyWallet": wallet,
            "side": "BUY",
            "asset": a,
            "conditionId": c,
            "size": 1,
            "price": 0.5,
            "timestamp": 1_760_000_000,
        }
        for a, c in (("21", C2), ("12", C1), ("99", "0x" + "09" * 32))
    ]
    tape, _ = load_rows(rows)
    facts, _ = load_markets([_gamma(C1, ("11", "12"), ("0.5", "0.5")), _gamma(C2, ("21", "22"), ("1", "0"))])
    resolved_at = 1760097600  # 2025-10-10 12:00 UTC
    tf = token_facts(tape, facts, as_of=resolved_at)
    by_token = dict(zip(tape.tokens, range(len(tape.tokens)), strict=True))
    assert tf.payout[by_token["21"]] == 1.0 and tf.outcome[by_token["21"]] == 0
    assert tf.payout[by_token["12"]] == 0.5 and tf.outcome[by_token["12"]] == 1
    assert not tf.known[by_token["99"]] and np.isnan(tf.payout[by_token["99"]])
    early = token_facts(tape, facts, as_of=resolved_at - 1)  # scored before the resolution: still open
    assert np.isnan(early.payout).all() and (early.resolved_at == -1).all()
    assert tf.categories and tf.events[tf.event[by_token["99"]]] == "event:0x" + "09" * 32
    assert tf.payout[by_token["21"]] == pytest.approx(1.0)
