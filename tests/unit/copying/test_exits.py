"""The exit rules (copytrader.copying.exits), on hand-derived positions and prices.

The position used throughout: 100 shares bought for 40 pUSD (average cost 0.40), stop at entry 15 %, so its stop
price is 0.40 x 0.85 = 0.34; whale A's copies paid 30 of the 40, whale B's 10 (attributed 75 and 25 shares).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from copytrader.copying.exits import (
    ExitPosition,
    ExitRules,
    attributed_shares,
    exit_limit,
    high_water,
    mirror_fraction,
    mirror_sale,
    price_exits,
    scheduled_exits,
    whale_before_from_positions,
)
from copytrader.exit_settings import CullPolicy
from copytrader.model import WhaleStatus
from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.model.marks import Mark
from copytrader.risk.changes import Holding
from tests.support import builders as b

NOW = b.T0
MARKET = b.market("exits", end_time=NOW + timedelta(days=2))
TOKEN = MARKET.tokens[0].token_id
A, B = b.wallet("a"), b.wallet("b")


def position(
    *,
    shares: str = "100",
    basis: str = "40",
    stop: str | None = "0.15",
    bid_high: str | None = None,
    whales: dict[str, str] | None = None,
) -> ExitPosition:
    costs = {A: D(30), B: D(10)} if whales is None else {w: D(c) for w, c in whales.items()}
    holding = Holding(
        token_id=TOKEN,
        condition_id=MARKET.condition_id,
        shares=D(shares),
        cost_basis=D(basis),
        whales=tuple(sorted(costs)),
        stop_loss=None if stop is None else D(stop),
        opened_at=NOW - timedelta(days=1),
    )
    return ExitPosition("paper", holding, None if bid_high is None else D(bid_high), costs)


def mark(bid: str, age_s: int = 0) -> Mark:
    return Mark(token_id=TOKEN, bid=D(bid), ask=D(bid) + D("0.01"), at=NOW - timedelta(seconds=age_s))


RULES = ExitRules()


# ------------------------------------------------------------------------------------------ stop-loss


def test_the_stop_fires_at_the_stop_price_and_sells_everything_no_lower_than_the_bid_less_the_slippage() -> None:
    signal = price_exits(position(), mark("0.34"), RULES, NOW)
    assert signal is not None
    assert (signal.reason, signal.trigger, signal.fraction, signal.shares) == (
        ExitReason.STOP_LOSS,
        "stop 0.34 @0.29",
        1,
        None,
    )
    assert signal.min_price == D("0.29")  # 0.34 - 0.05
    assert signal.position_shares == 100 and signal.lot.startswith(TOKEN + "#")


def test_a_bid_one_tick_above_the_stop_fires_nothing() -> None:
    assert price_exits(position(), mark("0.35"), RULES, NOW) is None


def test_the_stop_at_entry_is_the_positions_own_not_the_current_setting() -> None:
    # 10 % recorded at entry: stop 0.36, although the setting is 15 % (0.34)
    assert price_exits(position(stop="0.10"), mark("0.36"), RULES, NOW) is not None
    # no stop recorded (an old position): the setting's 15 %
    assert price_exits(position(stop=None), mark("0.35"), RULES, NOW) is None


def test_a_stale_or_missing_bid_fires_nothing() -> None:
    assert price_exits(position(), mark("0.20", age_s=121), RULES, NOW) is None
    assert price_exits(position(), Mark(token_id=TOKEN, last_trade=D("0.1"), at=NOW), RULES, NOW) is None
    assert price_exits(position(), None, RULES, NOW) is None


# ---------------------------------------------------------------------------------- trailing and target


def test_the_trailing_stop_fires_a_quarter_below_the_high_water_mark_once_in_profit() -> None:
    # peak 0.60 > average 0.40: level 0.60 x 0.75 = 0.45
    signal = price_exits(position(bid_high="0.60"), mark("0.45"), RULES, NOW)
    assert signal is not None and (signal.reason, signal.trigger) == (ExitReason.TRAILING_STOP, "trail 0.6 -0.25 @0.4")
    assert signal.min_price == D("0.40")
    assert price_exits(position(bid_high="0.60"), mark("0.46"), RULES, NOW) is None


def test_the_trailing_stop_is_not_armed_below_the_average_cost() -> None:
    # peak 0.40 is not above the average 0.40: 0.30 <= 0.40 x 0.75 but only the stop may fire, and it does
    signal = price_exits(position(bid_high="0.40"), mark("0.30"), RULES, NOW)
    assert signal is not None and signal.reason is ExitReason.STOP_LOSS
    assert price_exits(position(bid_high="0.40"), mark("0.35"), RULES, NOW) is None


def test_take_profit_is_off_by_default_and_fires_at_its_target_when_set() -> None:
    assert price_exits(position(), mark("0.99"), RULES, NOW) is None
    rules = ExitRules(take_profit=D("0.5"), trailing_stop=None)  # target 0.40 x 1.5 = 0.60
    signal = price_exits(position(), mark("0.60"), rules, NOW)
    assert signal is not None and (signal.reason, signal.trigger) == (ExitReason.TAKE_PROFIT, "target 0.6 @0.55")
    assert price_exits(position(), mark("0.59"), rules, NOW) is None


def test_the_high_water_mark_only_rises_on_a_fresh_bid() -> None:
    assert high_water(position(bid_high="0.50"), mark("0.55"), RULES, NOW) == D("0.55")
    assert high_water(position(bid_high="0.50"), mark("0.50"), RULES, NOW) is None
    assert high_water(position(), mark("0.41"), RULES, NOW) == D("0.41")
    assert high_water(position(), mark("0.90", age_s=500), RULES, NOW) is None


# ------------------------------------------------------------------------------------- market and cull


def test_a_uma_proposal_or_dispute_comes_before_every_other_rule() -> None:
    proposed = MARKET.model_copy(update={"uma_status": "proposed"})
    found = scheduled_exits([position()], {MARKET.condition_id: proposed}, {TOKEN: mark("0.20")}, {}, RULES, NOW)
    assert [(s.reason, s.trigger) for s in found] == [(ExitReason.RESOLUTION_DISPUTE, "uma proposed @0.15")]
    history = MARKET.model_copy(update={"uma_statuses": ("proposed", "disputed")})
    found = scheduled_exits([position()], {MARKET.condition_id: history}, {TOKEN: mark("0.50")}, {}, RULES, NOW)
    assert [s.trigger for s in found] == ["uma disputed @0.45"]
    resolved = MARKET.model_copy(update={"uma_status": "resolved"})
    assert scheduled_exits([position()], {MARKET.condition_id: resolved}, {TOKEN: mark("0.5")}, {}, RULES, NOW) == []


def test_we_leave_three_hours_before_the_end_date() -> None:
    soon = MARKET.model_copy(update={"end_time": NOW + timedelta(hours=2, minutes=59)})
    later = MARKET.model_copy(update={"end_time": NOW + timedelta(hours=3, minutes=1)})
    found = scheduled_exits([position()], {MARKET.condition_id: soon}, {TOKEN: mark("0.5")}, {}, RULES, NOW)
    assert [s.reason for s in found] == [ExitReason.TIME_TO_END]
    assert scheduled_exits([position()], {MARKET.condition_id: later}, {TOKEN: mark("0.5")}, {}, RULES, NOW) == []


def test_a_closed_market_or_no_fresh_bid_yields_nothing_in_the_scan() -> None:
    closed = MARKET.model_copy(update={"closed": True, "uma_status": "proposed"})
    assert scheduled_exits([position()], {MARKET.condition_id: closed}, {TOKEN: mark("0.2")}, {}, RULES, NOW) == []
    assert scheduled_exits([position()], {MARKET.condition_id: MARKET}, {}, {}, RULES, NOW) == []


@pytest.mark.parametrize(
    ("policy", "bid", "expected"),
    [
        (CullPolicy.EXIT, "0.45", D(75)),  # A's 30 of 40 pUSD: 75 of 100 shares
        (CullPolicy.EXIT_IF_LOSING, "0.38", D(75)),  # below the average 0.40, above the stop 0.34
        (CullPolicy.EXIT_IF_LOSING, "0.45", None),  # in profit: held
        (CullPolicy.HOLD, "0.38", None),
    ],
)
def test_a_culled_whales_part_is_sold_as_the_policy_says(policy: CullPolicy, bid: str, expected: D | None) -> None:
    rules = ExitRules(cull_policy=policy)
    statuses = {A: WhaleStatus.CULLED, B: WhaleStatus.ACTIVE}
    found = scheduled_exits([position()], {MARKET.condition_id: MARKET}, {TOKEN: mark(bid)}, statuses, rules, NOW)
    if expected is None:
        assert found == []
    else:
        assert [(s.reason, s.shares, s.whale) for s in found] == [(ExitReason.WHALE_CULLED, expected, A)]


# ------------------------------------------------------------------------------------------- mirror


def test_our_shares_are_attributed_to_each_whale_by_its_part_of_the_cost() -> None:
    assert attributed_shares(D(100), D(40), D(30)) == 75
    assert attributed_shares(D(100), D(40), D(10)) == 25
    assert attributed_shares(D(100), D(40), None) == 100  # no parts recorded: all of it
    assert attributed_shares(D(100), D(40), D(0)) == 0


def test_a_whale_selling_a_quarter_makes_us_sell_a_quarter_of_its_part() -> None:
    assert mirror_fraction(D(400), D(100)) == D("0.25")
    assert mirror_sale(D(100), D(40), D(10), D(400), D(100)) == D("6.25")  # 25 shares x 0.25
    assert mirror_sale(D(100), D(40), D(30), D(300), D(100)) == D(25)  # 75 x 1/3 = 25 exactly
    assert mirror_sale(D(100), D(40), D(30), D(900), D(100)) == D("8.33")  # 75 / 9 = 8.333.., floored


def test_an_unknown_or_smaller_whale_position_is_a_full_exit_of_its_part() -> None:
    assert mirror_fraction(None, D(100)) == 1
    assert mirror_fraction(D(80), D(100)) == 1  # we missed some of its buys
    assert mirror_fraction(D(100), D(100)) == 1  # flat
    assert mirror_sale(D(100), D(40), D(10), None, D(5)) == D(25)


# -------------------------------------------------------------------------------------- the signal


def test_exit_limit_stays_inside_the_price_range() -> None:
    assert exit_limit(D("0.03"), D("0.05"), D("0.01")) == D("0.01")
    assert exit_limit(D("0.999"), D("0.05"), D("0.01")) == D("0.94")
    assert exit_limit(D("0.5"), D("0.05"), D("0.001")) == D("0.450")


def test_the_key_is_one_per_lot_rule_trigger_and_held_shares() -> None:
    first = price_exits(position(), mark("0.30"), RULES, NOW)
    again = price_exits(position(), mark("0.30"), RULES, NOW + timedelta(seconds=30))  # later, the same bid
    lower = price_exits(position(), mark("0.20"), RULES, NOW)  # the first did not fill: a retry at the new bid
    reduced = price_exits(position(shares="60", basis="24"), mark("0.30"), RULES, NOW)  # after a partial fill
    assert first is not None and again is not None and reduced is not None
    assert lower is not None and first.key == again.key
    assert len({first.key, lower.key, reduced.key}) == 3
    tampered = first.model_dump(mode="json") | {"trigger": "stop 0.5"}
    with pytest.raises(ValidationError, match="key does not match"):
        ExitSignal.model_validate(tampered)
    assert ExitSignal.model_validate_json(first.model_dump_json()) == first


def test_the_data_api_position_counts_the_sale_only_when_its_last_event_is_not_older() -> None:
    sold_at = NOW
    # the API saw the sale: 300 left + 100 sold = 400 before; a quarter
    assert whale_before_from_positions(D(300), NOW, D(100), sold_at) == D(400)
    assert whale_before_from_positions(D(300), None, D(100), sold_at) == D(400)
    # the API's whole second of a sale made 0.7 s into it
    assert whale_before_from_positions(D(300), NOW, D(100), sold_at + timedelta(milliseconds=700)) == D(400)
    # its last event is older than the sale: it has not seen it, 300 is the position before
    assert whale_before_from_positions(D(300), NOW - timedelta(seconds=1), D(100), sold_at) == D(300)
    assert mirror_fraction(whale_before_from_positions(D(0), NOW, D(100), sold_at), D(100)) == 1  # flat now
