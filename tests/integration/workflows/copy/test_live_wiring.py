"""Live mode's wiring: only execute builds the venue (its role alone may read the venue secret), and only execute
opens the live account, from the wallet's pUSD balance (copytrader.workflows.copy.live_start).

Before: score counted a live account not created yet as `paper_bankroll` of cash (earlier still, as none), size
sized from it, and risk_check opened the live account with `open_account(paper_bankroll)`: a live account
starting from the paper bankroll whatever the wallet held.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from eth_account import Account

from copytrader.copying.conflicts import conflict_group
from copytrader.execution.clob_venue import ClobVenue, connect
from copytrader.execution.credentials import VenueCredentials
from copytrader.workflows.copy import live_start, steps
from tests.support import builders as b
from tests.support.copy_runs import ASKS, BIDS
from tests.support.fake_clob import FakeClob, fake_clob


@pytest.fixture
def clob() -> Iterator[FakeClob]:
    with fake_clob() as fake:
        yield fake


def _live(polymarket, make_deps, clock, **settings):
    market = b.market("m1")
    yes = market.tokens[0].token_id
    polymarket.markets[market.condition_id] = market
    polymarket.books[yes] = b.book(yes, bids=BIDS, asks=ASKS)
    deps = make_deps(mode="live", live_confirmed=True, account="live", **settings)
    deps.whales.put(b.whale("w1"), clock())
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at + timedelta(milliseconds=300)
    record = {"messageId": "m-1", "body": trade.model_dump_json(), "attributes": {"SentTimestamp": "0"}}
    return market, deps, record


def _no_account(deps) -> bool:
    try:
        deps.account.items.account_item()
    except LookupError:
        return True
    return False


def test_live_score_does_not_give_room_zero_to_an_unseeded_account(aws, polymarket, make_deps, clock):
    # GIVEN live settings, no venue secret in this environment, no account yet, and a tracked whale's BUY
    market, deps, record = _live(polymarket, make_deps, clock)

    # WHEN the score step runs
    state = steps.score({"record": record}, deps)

    # THEN the BUY is skipped as account_not_open, saying who opens it: not sized from a guessed bankroll (the
    # paper one) nor skipped as if our exposure were at its cap (room 0)
    signal = state["signal"]
    assert (signal["action"], signal["reason"], signal["room"]) == ("SKIP", "account_not_open", None)
    assert signal["detail"] == live_start.NOT_OPEN and "execute function opens it" in signal["detail"]
    # AND the whale's stance is recorded (other whales' trades are checked against it), nothing else written
    assert [s.wallet for s in deps.stances.in_group(conflict_group(market), clock())] == [b.wallet("w1")]
    assert _no_account(deps) and "venue" not in vars(deps)  # the cached property was never evaluated


def test_live_risk_check_never_seeds_the_paper_bankroll(aws, polymarket, make_deps, clock):
    # GIVEN live settings, no account yet, and a BUY that reached size and risk_check (say, a redelivery)
    _, deps, record = _live(polymarket, make_deps, clock)
    order = b.sized_order("copy-1", shares="20", limit_price="0.51", max_cost="10.71")

    # WHEN size and risk_check run
    sized = steps.size({"signal": steps.score({"record": record}, deps)["signal"]}, deps)
    decision = steps.risk_check({"order": order.model_dump(mode="json")}, deps)

    # THEN size skips and risk_check rejects, both as account_not_open, and the live account was not created
    assert (sized["action"], sized["reason"]) == ("SKIP", "account_not_open")
    assert (decision["approved"], decision["reason"]) == (False, "account_not_open")
    assert Decimal(decision["reserved"]) == 0
    assert _no_account(deps) and "venue" not in vars(deps)


def test_live_account_seeded_from_venue_balance(aws, polymarket, make_deps, clock, clob):
    # GIVEN a live deployment whose wallet holds 1,234.5 pUSD, 34.5 of it kept outside the account, and the
    # execute function's venue (a throwaway key against the loopback CLOB)
    market, deps, record = _live(
        polymarket, make_deps, clock, venue={"min_live_balance": "34.5", "geoblock_url": clob.url}
    )
    yes = market.tokens[0].token_id
    clob.set_book(yes, bids=BIDS, asks=ASKS)
    clob.balance = 1_234_500_000
    key = Account.create().key.hex()
    deps.venue = ClobVenue(connect(clob.url, VenueCredentials(key if key.startswith("0x") else f"0x{key}")))

    # WHEN the schedule's reconcile sweep invokes the execute function (its first invocation in this container)
    report = steps.sweep({"sweep": {}}, deps)

    # THEN the account is opened with the wallet's balance less what is kept, once
    assert report["live_account_opened_with"] == "1200.0" and report["examined"] == 0
    state = deps.account.reads.state(clock())
    assert (state.cash, state.reserved, state.open_cost) == (Decimal(1200), 0, 0)
    deposits = [(e.entry_id, e.cash_delta) for e in deps.positions.ledger() if e.kind == "DEPOSIT"]
    assert deposits == [("DEPOSIT#opening", Decimal(1200))]  # ledger cash = account cash from the start
    assert "live_account_opened_with" not in steps.sweep({"sweep": {}}, deps)
    clob.balance = 5_000_000_000
    assert live_start.open_live_account(deps) is None and deps.account.reads.state(clock()).cash == 1200

    # AND the whale's BUY now goes through, sized from that cash, and fills on the venue
    state = steps.score({"record": record}, deps)
    assert state["signal"]["action"] == "COPY" and Decimal(state["signal"]["room"]) > 0
    state["order"] = steps.size(state, deps)
    assert state["order"]["action"] == "PLACE" and Decimal(state["order"]["bankroll"]) == Decimal(1200)
    state["risk"] = steps.risk_check(state, deps)
    assert state["risk"]["approved"] is True
    result = steps.execute(state, deps)
    assert result["status"] == "FILLED" and len(clob.posts) == 1
    after = deps.account.reads.state(clock())
    assert after.cash == Decimal(1200) - Decimal(result["cash_amount"]) and after.reserved == 0


def test_a_wallet_with_nothing_to_trade_does_not_open_the_live_account(aws, polymarket, make_deps, clock, clob):
    _, deps, _ = _live(polymarket, make_deps, clock, venue={"min_live_balance": "50"})
    clob.balance = 50_000_000
    key = Account.create().key.hex()
    deps.venue = ClobVenue(connect(clob.url, VenueCredentials(key if key.startswith("0x") else f"0x{key}")))
    with pytest.raises(RuntimeError, match="wallet balance 50 pUSD, 50 kept"):
        steps.sweep({"sweep": {}}, deps)
    assert _no_account(deps)
