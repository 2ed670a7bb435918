"""Handlers given input they cannot use answer with a reason; none raises (the state machine would retry it)."""

from __future__ import annotations

import pytest

from copytrader.local.lambdas import LambdaContext, load_handler
from copytrader.workflows import COPY
from tests.support import builders as b

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


@pytest.mark.parametrize("epoch", ["1e300", str(10**400), "-1e300"])
def test_score_skips_a_trade_with_an_absurd_epoch_as_invalid_trade_instead_of_crashing(
    aws, polymarket, make_deps, epoch
):
    # issue 10, class 10: the epoch overflowed the time conversion and the score step raised (the DLQ took the message)
    make_deps()
    body = b.trade(b.market()).model_dump_json().replace('"timestamp":"', '"timestamp":' + epoch + ',"_was":"', 1)
    out = load_handler(COPY, "score")({"record": {"body": body}}, LambdaContext("copy_score"))
    assert out["signal"]["action"] == "SKIP" and out["signal"]["reason"] == "invalid_trade"
    assert "timestamp" in out["signal"]["detail"]
