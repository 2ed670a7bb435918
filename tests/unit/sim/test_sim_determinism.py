"""Same seed, same bytes; another seed, another world; a scoring-scale world is large enough."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta

from copytrader.sim.config import SimConfig
from copytrader.sim.world import SimWorld, build_world


def fingerprint(world: SimWorld) -> str:
    digest = hashlib.sha256()
    for trade in world.day_trades:
        digest.update(trade.model_dump_json().encode())
    h = world.history
    for column in (h.wallet, h.market, h.token, h.side, h.price, h.size, h.timestamp, h.won, h.fee_rate, h.tx):
        digest.update(column.tobytes())
    digest.update(json.dumps(world.history_trade_rows()).encode())
    digest.update(json.dumps(world.history_markets_gamma()).encode())
    noon = world.day_start + timedelta(hours=12)
    for market in world.markets:
        digest.update(json.dumps(world.gamma_market(market.condition_id, noon)).encode())
        digest.update(world.book(market.tokens[1].token_id, noon).model_dump_json().encode())
    digest.update(repr(world.resolutions).encode())
    digest.update(repr(world.wallets).encode())
    return digest.hexdigest()


def test_same_seed_gives_identical_worlds(small_config: SimConfig) -> None:
    assert fingerprint(build_world(small_config)) == fingerprint(build_world(small_config))


def test_another_seed_gives_another_world(small_config: SimConfig) -> None:
    one, other = build_world(small_config), build_world(replace(small_config, seed=small_config.seed + 1))
    assert fingerprint(one) != fingerprint(other)
    assert {w.address for w in one.wallets}.isdisjoint(w.address for w in other.wallets)


def test_history_length_leaves_the_live_day_alone(small_config: SimConfig) -> None:
    """Wallets, history and live day draw from independent streams spawned from the seed."""
    shorter = build_world(replace(small_config, history_days=small_config.history_days - 1))
    assert shorter.day_trades == build_world(small_config).day_trades


def test_a_scoring_scale_world_holds_over_a_hundred_thousand_history_trades() -> None:
    """Its build time is a benchmark (`sim_world_build_1000w_30d_s`, bench/scoring.py), not a timed test."""
    world = build_world(SimConfig(seed=3, n_wallets=1000, n_skilled=20, history_days=30))
    assert world.history.n > 100_000
