"""Whale stances and our room in the score step, against moto server over HTTP and the loopback Polymarket.

The stances table keeps each wallet's latest view per market (a newer trade replaces it, an older one never does,
the window bounds what counts); the score step records a stance for every trade of a copyable whale, copied or
not, and skips a BUY that an opposing whale contradicts (the other side of the same market); it skips a BUY when
the exposure caps leave no room for the market minimum, and a COPY carries the room to the size step, whose order
fits it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from copytrader.copying.conflicts import FLAT, LONG, SHORT, Stance, conflict_group
from copytrader.model import CategoryRecord
from copytrader.store.stances import Stances
from copytrader.workflows.copy import steps
from tests.support import builders as b

D = Decimal


def _record(trade) -> dict:
    return {"record": {"messageId": trade.key, "body": trade.model_dump_json(), "attributes": {}}}


def _market(polymarket, label: str, **overrides):
    market = b.market(label, **overrides)
    polymarket.markets[market.condition_id] = market
    for token in market.tokens:
        polymarket.books[token.token_id] = b.book(
            token.token_id, bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")]
        )
    return market


def test_stances_keep_the_latest_view_per_wallet_and_market_within_the_window(aws, clock):
    store = Stances(window_s=3600)
    market = b.market("m1")
    group = conflict_group(market)

    def stance(who: str, d: int, minutes_ago: int) -> Stance:
        return Stance(
            group, market.condition_id, b.wallet(who), d, D("0.8"), clock.now - timedelta(minutes=minutes_ago)
        )

    assert store.record(stance("a", LONG, 10)) is True
    assert store.record(stance("a", SHORT, 20)) is False  # older: never rolls the stance back
    assert store.record(stance("a", FLAT, 5)) is True  # newer: the sell makes the wallet flat
    assert store.record(stance("b", SHORT, 90)) is True  # outside the one-hour window when read
    read = store.in_group(group, clock.now)
    assert [(s.wallet, s.direction, s.score) for s in read] == [(b.wallet("a"), FLAT, D("0.8"))]
    assert store.in_group("market:0xother", clock.now) == []


def test_score_step_skips_a_buy_against_another_whale_and_records_both_stances(aws, polymarket, make_deps, clock):
    # GIVEN two tracked whales and one market
    market = _market(polymarket, "m1")
    deps = make_deps()
    deps.whales.put(b.whale("w1", score=D("1.5")), clock())
    deps.whales.put(b.whale("w2", score=D("2.0")), clock())
    yes_buy = b.trade(market, "w1", price="0.50", size="200", tx="a")
    no_buy = b.trade(market, "w2", price="0.50", size="200", tx="b", outcome_index=1)
    clock.now = no_buy.detected_at + timedelta(milliseconds=300)

    # WHEN w1 buys YES and then w2 buys NO
    first = steps.score(_record(yes_buy), deps)["signal"]
    second = steps.score(_record(no_buy), deps)["signal"]

    # THEN the first is copied, the second skipped as a conflict (default policy skip), and both stances are kept
    assert first["action"] == "COPY"
    assert second["action"] == "SKIP" and second["reason"] == "conflicting_whales"
    assert b.wallet("w1")[:10] in second["detail"]
    stances = {s.wallet: s.direction for s in deps.stances.in_group(conflict_group(market), clock.now)}
    assert stances == {b.wallet("w1"): LONG, b.wallet("w2"): SHORT}

    # WHEN the policy follows the higher score, THEN w2 (2.0 > 1.5) is copied
    follow = make_deps(filters={"conflict_policy": "follow_higher"})
    again = steps.score(_record(no_buy), follow)["signal"]
    assert again["action"] == "COPY"


def test_members_of_one_neg_risk_event_conflict_only_on_the_same_member(aws, polymarket, make_deps, clock):
    group = "0x" + "ab" * 32
    x, y, z = (_market(polymarket, label, neg_risk=True, neg_risk_market_id=group) for label in ("x", "y", "z"))
    deps = make_deps()
    for who in ("w1", "w2", "w3", "w4"):
        deps.whales.put(b.whale(who), clock())
    long_x = b.trade(x, "w1", tx="1")
    long_y = b.trade(y, "w2", tx="2")  # YES on X and on Y: both say the rest of the field is overpriced
    no_z = b.trade(z, "w3", tx="3", outcome_index=1)  # NO on Z holds YES on X and on Y: agrees with both
    no_x = b.trade(x, "w4", tx="4", outcome_index=1)  # the other side of X: the one conflict
    clock.now = no_x.detected_at

    assert [steps.score(_record(t), deps)["signal"]["action"] for t in (long_x, long_y, no_z)] == ["COPY"] * 3
    blocked = steps.score(_record(no_x), deps)["signal"]
    assert blocked["reason"] == "conflicting_whales" and b.wallet("w1")[:10] in blocked["detail"]
    assert b.wallet("w2")[:10] not in blocked["detail"] and b.wallet("w3")[:10] not in blocked["detail"]


def test_no_room_under_the_caps_is_a_skip_and_the_room_bounds_the_order(aws, polymarket, make_deps, clock):
    market = _market(polymarket, "m1")
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at

    # GIVEN a market cap of 2 pUSD: the market minimum (5 shares at 0.53 + fee) needs 2.70
    tight = make_deps(risk={"max_market_exposure": "2"})
    tight.whales.put(b.whale("w1"), clock())
    signal = steps.score(_record(trade), tight)["signal"]
    assert signal["action"] == "SKIP" and signal["reason"] == "exposure_at_cap" and signal["room"] == "2"

    # GIVEN a market cap of 20 pUSD: copied, and the sized order's worst case fits the room
    deps = make_deps(risk={"max_market_exposure": "20"})
    state = steps.score(_record(trade), deps)
    assert state["signal"]["action"] == "COPY" and D(state["signal"]["room"]) == D(20)
    order = steps.size(state, deps)
    assert order["action"] == "PLACE" and D(order["max_cost"]) <= 20
    assert D(order["shares"]) == D("37.03")  # floor(20 / (0.53 + 0.04 x 0.25)) on the 0.01 grid
    decision = steps.risk_check({**state, "order": order}, deps)
    assert decision["approved"] is True


def test_risk_check_refuses_an_order_whose_worst_case_exceeds_the_per_copy_cap(aws, polymarket, make_deps, clock):
    market = _market(polymarket, "m1")
    trade = b.trade(market, "w1", price="0.50", size="200")
    clock.now = trade.detected_at
    deps = make_deps(sizing={"max_trade_notional": "20"})
    deps.whales.put(b.whale("w1"), clock())
    state = steps.score(_record(trade), deps)
    order = steps.size(state, deps)
    assert order["action"] == "PLACE" and D(order["max_cost"]) <= 20

    # GIVEN the order a sizing that capped the planned cost at the best ask would send: 38.46 shares at the limit
    # 0.53 + the fee at 0.5 reserve 20.7684 > 20
    over = {**order, "shares": "38.46", "max_cost": "20.7684"}
    refused = steps.risk_check({**state, "order": over}, deps)
    assert refused["approved"] is False and refused["reason"] == "copy_cap"
    assert deps.account.reads.open_orders() == 0  # nothing reserved
    assert steps.risk_check({**state, "order": order}, deps)["approved"] is True


def test_whale_profiles_keep_their_category_records(aws, make_deps, clock):
    deps = make_deps()
    record = CategoryRecord(resolved_trades=50, wins=40, mean_entry_price=D("0.412345"))
    deps.whales.put(b.whale("w1", categories={"politics": record}), clock())
    deps.whales.put(b.whale("w2"), clock())
    assert deps.whales.get(b.wallet("w1")).categories == {"politics": record}
    assert deps.whales.get(b.wallet("w2")).categories == {}
