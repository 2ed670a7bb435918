"""Conflicts between whales: direction, groups, which pairs oppose and the three policies, with exact values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.copying.conflicts import (
    FLAT,
    LONG,
    SHORT,
    Stance,
    assess,
    conflict_group,
    direction,
    opposes,
    stance_of,
)
from copytrader.reasons import Reason
from copytrader.settings import ConflictPolicy, FilterSettings
from tests.support import builders as b

D = Decimal
NOW = b.T0
WINDOW = FilterSettings().conflict_window_s
PLAIN = b.market("plain")
X = b.market("x", neg_risk=True, neg_risk_market_id="0xgroup", event_id="e")
Y = b.market("y", neg_risk=True, neg_risk_market_id="0xgroup", event_id="e")


def st(market, who: str, d: int, score: str = "1", age_s: int = 60) -> Stance:
    return Stance(
        group=conflict_group(market),
        condition_id=market.condition_id,
        wallet=b.wallet(who),
        direction=d,
        score=D(score),
        at=NOW - timedelta(seconds=age_s),
    )


def test_direction_is_long_for_the_first_outcome_short_for_the_other_and_flat_for_a_sell():
    assert direction(b.trade(PLAIN, outcome_index=0), PLAIN) == LONG
    assert direction(b.trade(PLAIN, outcome_index=1), PLAIN) == SHORT
    assert direction(b.trade(PLAIN, side="SELL", outcome_index=0), PLAIN) == FLAT
    assert direction(b.trade(PLAIN, side="SELL", outcome_index=1), PLAIN) == FLAT


def test_groups_are_the_neg_risk_group_else_the_market_alone():
    assert conflict_group(X) == conflict_group(Y) == "negrisk:0xgroup"
    assert conflict_group(PLAIN) == f"market:{PLAIN.condition_id}"
    # an event without neg-risk does not group its markets: two of them can both resolve YES
    assert conflict_group(b.market("a", event_id="same")) != conflict_group(b.market("c", event_id="same"))


def test_stance_of_carries_group_direction_score_and_the_trade_time():
    whale = b.whale("w1", score=D("0.7"))
    trade = b.trade(X, "w1", outcome_index=1)
    s = stance_of(trade, X, whale)
    assert (s.group, s.condition_id, s.wallet, s.direction, s.score, s.at) == (
        "negrisk:0xgroup",
        X.condition_id,
        trade.wallet,
        SHORT,
        D("0.7"),
        trade.timestamp,
    )


def test_only_the_opposite_side_of_the_same_market_opposes():
    assert opposes(st(X, "a", SHORT), st(X, "b", LONG)) is True
    assert opposes(st(X, "a", LONG), st(X, "b", SHORT)) is True
    assert opposes(st(X, "a", LONG), st(X, "b", LONG)) is False
    # another member of the neg-risk group: no direction there opposes (see the module docstring's prices)
    for theirs in (LONG, SHORT):
        for ours in (LONG, SHORT):
            assert opposes(st(X, "a", theirs), st(Y, "b", ours)) is False


@pytest.mark.parametrize(
    ("other", "new", "conflicts"),
    [
        ((PLAIN, LONG), (PLAIN, SHORT), True),  # opposite sides of one market
        ((PLAIN, SHORT), (PLAIN, LONG), True),
        ((PLAIN, LONG), (PLAIN, LONG), False),
        ((X, LONG), (X, SHORT), True),  # opposite sides of one neg-risk member
        ((X, SHORT), (X, LONG), True),
        ((X, LONG), (Y, LONG), False),  # YES X at 0.30 and YES Y at 0.25: both underpriced, they agree
        ((X, LONG), (Y, SHORT), False),  # NO Y holds YES X through the conversion: agreement
        ((X, SHORT), (Y, LONG), False),  # NO X holds YES Y: agreement
        ((X, SHORT), (Y, SHORT), False),  # a third member can win: both right
    ],
)
def test_skip_policy_on_each_pair_of_stances(other, new, conflicts):
    theirs = st(other[0], "a", other[1])
    ours = st(new[0], "b", new[1], age_s=0)
    verdict = assess(ours, [theirs], ConflictPolicy.SKIP, NOW, WINDOW)
    if conflicts:
        assert verdict is not None and verdict.reason is Reason.CONFLICTING_WHALES
        assert theirs.wallet[:10] in verdict.detail
    else:
        assert verdict is None


def test_two_skilled_whales_buying_yes_on_two_members_of_one_neg_risk_group_are_not_a_conflict():
    # the demo's decision error (seed 20: 73 of 225 fills skipped): long X "implied short Y" and blocked long Y
    z = b.market("z", neg_risk=True, neg_risk_market_id="0xgroup", event_id="e")
    ours = st(Y, "b", LONG, age_s=0)
    others = [st(X, "a", LONG, score="3"), st(z, "c", LONG, score="3"), st(X, "d", SHORT, score="3")]
    for policy in ConflictPolicy:
        assert assess(ours, others, policy, NOW, WINDOW) is None


def test_own_flat_stale_and_foreign_group_stances_do_not_count():
    ours = st(PLAIN, "b", LONG, age_s=0)
    ignored = [
        st(PLAIN, "b", SHORT),  # the same wallet changing its mind
        st(PLAIN, "a", FLAT),  # a whale that sold: flat
        st(PLAIN, "c", SHORT, age_s=WINDOW + 1),  # older than the window
        st(X, "d", SHORT),  # another group
    ]
    assert assess(ours, ignored, ConflictPolicy.SKIP, NOW, WINDOW) is None
    # exactly at the window's edge it still counts
    edge = st(PLAIN, "c", SHORT, age_s=WINDOW)
    assert assess(ours, [edge], ConflictPolicy.SKIP, NOW, WINDOW) is not None


def test_a_sell_is_never_stopped_by_a_conflict():
    ours = st(PLAIN, "b", FLAT, age_s=0)
    assert assess(ours, [st(PLAIN, "a", SHORT)], ConflictPolicy.SKIP, NOW, WINDOW) is None


def test_follow_higher_copies_only_a_strictly_higher_score():
    theirs = st(PLAIN, "a", SHORT, score="0.8")
    assert (
        assess(st(PLAIN, "b", LONG, score="0.81", age_s=0), [theirs], ConflictPolicy.FOLLOW_HIGHER, NOW, WINDOW) is None
    )
    tie = assess(st(PLAIN, "b", LONG, score="0.8", age_s=0), [theirs], ConflictPolicy.FOLLOW_HIGHER, NOW, WINDOW)
    assert tie is not None and tie.reason is Reason.CONFLICT_LOWER_SCORE
    lower = assess(st(PLAIN, "b", LONG, score="0.5", age_s=0), [theirs], ConflictPolicy.FOLLOW_HIGHER, NOW, WINDOW)
    assert lower is not None and lower.reason is Reason.CONFLICT_LOWER_SCORE and "0.8" in lower.detail


def test_net_weighs_every_stance_by_score_including_this_one():
    # long 1.0 (this) + long 0.3 (agrees) - short 0.6 (opposes) = +0.7: copy
    ours = st(PLAIN, "b", LONG, score="1.0", age_s=0)
    stances = [st(PLAIN, "a", SHORT, score="0.6"), st(PLAIN, "c", LONG, score="0.3")]
    assert assess(ours, stances, ConflictPolicy.NET, NOW, WINDOW) is None
    # long 0.5 - short 0.4 - short 0.4 = -0.3: skip
    ours = st(PLAIN, "b", LONG, score="0.5", age_s=0)
    stances = [st(PLAIN, "a", SHORT, score="0.4"), st(PLAIN, "c", SHORT, score="0.4")]
    verdict = assess(ours, stances, ConflictPolicy.NET, NOW, WINDOW)
    assert verdict is not None and verdict.reason is Reason.CONFLICTING_WHALES and "-0.3" in verdict.detail
    # a tie skips
    tie = assess(
        st(PLAIN, "b", LONG, score="0.4", age_s=0),
        [st(PLAIN, "a", SHORT, score="0.4")],
        ConflictPolicy.NET,
        NOW,
        WINDOW,
    )
    assert tie is not None
    # negative scores weigh nothing: long 0.2 against short -5 is +0.2
    assert (
        assess(
            st(PLAIN, "b", LONG, score="0.2", age_s=0),
            [st(PLAIN, "a", SHORT, score="-5")],
            ConflictPolicy.NET,
            NOW,
            WINDOW,
        )
        is None
    )


def test_net_in_a_neg_risk_group_weighs_only_stances_on_the_same_member():
    # this whale: long Y (0.5). On Y: short 0.3 (opposes), long 0.1 (agrees). On X and Z, of any direction and
    # any score, nothing counts: 0.5 - 0.3 + 0.1 = +0.3, copy
    z = b.market("z", neg_risk=True, neg_risk_market_id="0xgroup", event_id="e")
    ours = st(Y, "b", LONG, score="0.5", age_s=0)
    others = [
        st(Y, "a", SHORT, score="0.3"),
        st(Y, "c", LONG, score="0.1"),
        st(X, "d", LONG, score="9"),
        st(z, "e", LONG, score="9"),
        st(X, "f", SHORT, score="9"),
    ]
    assert assess(ours, others, ConflictPolicy.NET, NOW, WINDOW) is None
    others.append(st(Y, "g", SHORT, score="0.4"))  # 0.5 - 0.3 + 0.1 - 0.4 = -0.1: skip
    verdict = assess(ours, others, ConflictPolicy.NET, NOW, WINDOW)
    assert verdict is not None and verdict.reason is Reason.CONFLICTING_WHALES and "-0.1" in verdict.detail
    assert b.wallet("d")[:10] not in verdict.detail and b.wallet("a")[:10] in verdict.detail
