"""Handlers given input they cannot use answer with a reason; none raises (the state machine would retry it)."""

from __future__ import annotations

import pytest

from copytrader.local.lambdas import LambdaContext, load_handler
from copytrader.workflows import COPY

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("event", [{}, {"order": None}, {"order": {"action": "PLACE"}}, {"order": "garbage"}])
def test_risk_check_rejects_an_order_it_cannot_read_with_invalid_trade(aws, polymarket, make_deps, event):
    make_deps()
    decision = load_handler(COPY, "risk_check")(event, LambdaContext("copy_risk_check"))
    assert decision["approved"] is False and decision["reason"] == "invalid_trade"


@pytest.mark.parametrize("record", [{}, {"body": 42}, {"body": "{not json"}, {"body": '{"key": "x"}'}])
def test_score_skips_a_record_it_cannot_read_with_invalid_trade(aws, polymarket, make_deps, record):
    make_deps()
    out = load_handler(COPY, "score")({"record": record}, LambdaContext("copy_score"))
    assert out["signal"]["action"] == "SKIP" and out["signal"]["reason"] == "invalid_trade"
