"""Markets: identifiers, neg-risk events, categories and fees, and a lifecycle that follows the truth."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.sim.config import SimConfig
from copytrader.sim.world import SimWorld

HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
ADDRESS = re.compile(r"^0x[0-9a-f]{40}$")
TOKEN = re.compile(r"^[1-9][0-9]{69,76}$")


def test_identifiers_have_polymarket_formats(world: SimWorld) -> None:
    conditions = world.condition_ids
    assert all(HASH32.match(c) for c in conditions)
    tokens = [t for c in conditions for t in world.token_ids(c)]
    assert all(TOKEN.match(t) for t in tokens)
    assert all(ADDRESS.match(w.address) for w in world.wallets)
    assert all(HASH32.match(t.tx_hash) for t in world.day_trades)
    assert len(set(conditions)) == len(conditions)
    assert len(set(tokens)) == len(tokens)
    assert len({t.tx_hash for t in world.day_trades}) == len(world.day_trades)


def test_neg_risk_events_are_exclusive_with_one_winner(scoring_world: SimWorld) -> None:
    groups: dict[str, list[str]] = defaultdict(list)
    for condition_id in scoring_world.condition_ids:
        market = scoring_world.market_at(condition_id, scoring_world.day_start)
        if market.neg_risk:
            assert market.neg_risk_market_id is not None
            groups[market.neg_risk_market_id].append(condition_id)
    assert len(groups) > 50
    for members in groups.values():
        truths = [scoring_world.truth(c) for c in members]
        markets = [scoring_world.market_at(c, scoring_world.day_start) for c in members]
        assert 3 <= len(members) <= 5
        assert sum(t.probability for t in truths) == pytest.approx(1.0, abs=1e-12)
        assert sum(t.winning_token == m.tokens[0].token_id for t, m in zip(truths, markets, strict=True)) == 1
        assert len({t.end_at for t in truths}) == 1
        assert len({m.event_id for m in markets}) == 1


def test_fees_and_ticks_follow_the_config(world: SimWorld) -> None:
    rates = {c.name: Decimal(repr(c.fee_rate)) for c in world.config.categories}
    markets = [world.market_at(c, world.day_start) for c in world.condition_ids]
    assert all(m.taker_fee_rate == rates[m.category] for m in markets)
    assert {m.tick_size for m in markets} == {Decimal("0.01"), Decimal("0.001")}
    assert {m.category for m in markets} == set(rates)
    assert all(m.min_order_size == 5 for m in markets)


def test_live_markets_open_at_day_start(world: SimWorld) -> None:
    assert len(world.markets) == world.config.n_markets_live
    assert all(m.accepting_orders and not m.closed and m.payouts is None for m in world.markets)


def test_resolutions_pay_the_true_winner_shortly_after_the_end(world: SimWorld) -> None:
    assert 0.6 * len(world.markets) <= len(world.resolutions) < len(world.markets)
    assert world.resolutions == sorted(world.resolutions, key=lambda r: (r.resolve_at, r.condition_id))
    for resolution in world.resolutions:
        truth = world.truth(resolution.condition_id)
        assert resolution.payouts[truth.winning_token] == 1
        assert sorted(resolution.payouts.values()) == [0, 1]
        assert resolution.resolve_at == truth.resolve_at < world.day_end
        assert timedelta(minutes=5) <= truth.resolve_at - truth.end_at <= timedelta(minutes=30)


def test_market_lifecycle(world: SimWorld) -> None:
    for resolution in world.resolutions:
        truth = world.truth(resolution.condition_id)
        before = world.market_at(resolution.condition_id, truth.end_at - timedelta(seconds=1))
        ended = world.market_at(resolution.condition_id, truth.end_at)
        resolved = world.market_at(resolution.condition_id, truth.resolve_at)
        assert before.accepting_orders and not before.closed and before.payouts is None
        assert not ended.accepting_orders and not ended.closed and ended.payouts is None
        assert resolved.closed and not resolved.accepting_orders and resolved.payouts == resolution.payouts


def test_markets_ending_after_the_day_stay_open(world: SimWorld) -> None:
    resolved = {r.condition_id for r in world.resolutions}
    later = [m for m in world.markets if m.condition_id not in resolved]
    assert later
    for market in later:
        at_day_end = world.market_at(market.condition_id, world.day_end)
        assert not at_day_end.closed and at_day_end.payouts is None


def test_history_markets_resolved_before_the_day(world: SimWorld) -> None:
    history = world.history.markets
    assert history.n == world.config.history_days * world.config.n_markets_per_history_day
    assert all(world.market_at(c, world.day_start).resolved for c in history.condition_id)


def test_unknown_market_is_a_key_error(world: SimWorld) -> None:
    with pytest.raises(KeyError):
        world.market_at("0x" + "0" * 64, world.day_start)


@pytest.mark.parametrize(
    "changes",
    [
        {"n_skilled": 300, "n_lucky": 100},
        {"n_markets_live": 0},
        {"neg_risk_group_sizes": (1, 3)},
        {"neg_risk_share": 1.5},
    ],
)
def test_invalid_configs_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SimConfig(**changes)  # type: ignore[arg-type]


def test_a_retagged_market_changes_event_and_category_from_its_time_on_and_keeps_its_fee(small_config) -> None:
    from copytrader.polymarket.gamma import market_from_gamma
    from copytrader.sim.world import build_world

    world = build_world(small_config)  # its own world: the session's are shared
    market = next(m for m in world.markets if not m.neg_risk)
    other = next(c.name for c in small_config.categories if c.name != market.category)
    at = world.day_start + timedelta(hours=6)
    world.retag(market.condition_id, "990001", other, at)
    before, after = at - timedelta(seconds=1), at
    assert (
        world.market_at(market.condition_id, before).event_id,
        world.market_at(market.condition_id, before).category,
    ) == (
        market.event_id,
        market.category,
    )
    moved = world.market_at(market.condition_id, after)
    assert (moved.event_id, moved.category, moved.taker_fee_rate) == ("990001", other, market.taker_fee_rate)
    # Gamma says the same, and the copy pipeline's parser reads it so
    parsed = market_from_gamma(world.gamma_market(market.condition_id, after))
    assert (parsed.event_id, parsed.category, parsed.taker_fee_rate) == ("990001", other, market.taker_fee_rate)
    unmoved = market_from_gamma(world.gamma_market(market.condition_id, before))
    assert (unmoved.event_id, unmoved.category) == (market.event_id, market.category)
    with pytest.raises(ValueError, match="unknown category"):
        world.retag(market.condition_id, "990002", "astrology", at)
