"""Handlers given input they cannot use answer with a reason; none raises (the state machine would retry it, then
the message would go to the DLQ): a record, an order, and arbitrary JSON bodies through the score step."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copytrader.copying.decision import MAX_FILL_AHEAD
from copytrader.local.lambdas import LambdaContext, load_handler
from copytrader.model import WhaleTrade
from copytrader.workflows import COPY
from copytrader.workflows.copy import steps
from tests.support import builders as b
from tests.support.copy_runs import list_market

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


# ------------------------------------------------------------------------ the score step over arbitrary bodies

TRADE_MARKET = b.market("m1")
TRADE = b.trade(TRADE_MARKET, "w1", price="0.50", size="200")
BASE = json.loads(TRADE.model_dump_json())
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
TIMES = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.sampled_from(
        [
            -1,
            10**400,
            "-5",
            "1e30",
            "nan",
            "inf",
            "99999999999999999999",
            "9999-12-31T23:59:59-05:00",  # overflows converting to UTC
            "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:00:00Z",  # valid, but its stance would expire past year 9999
            "2030-01-01T00:00:00Z",  # a fill from the future
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda t: t.isoformat()),
    st.text(max_size=30),
)
BODIES = st.one_of(
    st.text(max_size=200),  # not JSON, or JSON of any kind
    JSON.map(json.dumps),
    st.dictionaries(st.sampled_from(sorted(BASE)), JSON, max_size=4).map(lambda d: json.dumps({**BASE, **d})),
    st.tuples(st.sampled_from(["timestamp", "detected_at"]), TIMES).map(lambda f: json.dumps({**BASE, f[0]: f[1]})),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_score_never_raises_and_every_unusable_body_is_an_invalid_trade(aws, polymarket, make_deps, clock, body):
    # GIVEN the trade's whale tracked and its market listed, so a usable body goes all the way through the step
    list_market(polymarket, TRADE_MARKET)
    deps = make_deps()
    deps.whales.put(b.whale("w1"), clock())
    clock.now = TRADE.detected_at + timedelta(milliseconds=300)

    # WHEN the step scores the body THEN it answers (an exception would send the message to the DLQ)
    signal = steps.score({"record": {"messageId": "m", "body": body, "attributes": {}}}, deps)["signal"]

    try:
        trade = WhaleTrade.model_validate_json(body)
    except ValueError:  # ValidationError included: the body is unusable
        assert (signal["action"], signal["reason"]) == ("SKIP", "invalid_trade"), signal
        return
    if trade.timestamp > clock.now + MAX_FILL_AHEAD:  # a fill from the future is unusable too
        assert (signal["action"], signal["reason"]) == ("SKIP", "invalid_trade"), signal
        assert "ahead of our clock" in signal["detail"]
    else:
        assert signal["reason"] != "invalid_trade", signal
