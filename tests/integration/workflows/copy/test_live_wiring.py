"""Live mode's wiring: only execute builds the venue (its role alone may read the venue secret), and the steps before
risk_check count an account not created yet as the account it will open as, whatever the mode.

Before the one wiring module, building a step's dependencies in live mode built the CLOB venue (preflight, venue
secret) in every function, so score, size and risk_check could not start; and the score step counted a live
account not yet created as having no cash, so no first BUY could ever pass it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from copytrader.workflows.copy import steps
from tests.support import builders as b


def _live(aws, polymarket, make_deps, clock):
    market = b.market("m1")
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    deps = make_deps(mode="live", live_confirmed=True)
    deps.whales.put(b.whale("w1"), clock())
    return market, deps


def test_live_score_size_and_risk_check_never_build_the_venue(aws, polymarket, make_deps, clock):
    # GIVEN live settings, no venue secret in this environment, and a tracked whale's BUY
    market, deps = _live(aws, polymarket, make_deps, clock)
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    record = {"messageId": "m-1", "body": trade.model_dump_json(), "attributes": {"SentTimestamp": "0"}}

    # WHEN the three steps before execute run
    state = steps.score({"record": record}, deps)
    state["order"] = steps.size(state, deps)
    state["risk"] = steps.risk_check(state, deps)

    # THEN the copy is sized from the account it will open as (10,000 pUSD) and reserved; no venue was built
    assert state["signal"]["action"] == "COPY" and Decimal(state["signal"]["room"]) > 0
    assert state["order"]["action"] == "PLACE" and Decimal(state["order"]["bankroll"]) == Decimal(10000)
    assert state["risk"]["approved"] is True
    assert "venue" not in vars(deps)  # the cached property was never evaluated
