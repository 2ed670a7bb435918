"""Simulated markets scored by the single-machine scorer, built once per process and shared by the tests."""

from __future__ import annotations

from functools import lru_cache

from copytrader.scoring.engine import ScoreRun, score_rows
from copytrader.scoring_settings import ScoringSettings
from copytrader.sim import SimConfig, SimWorld, build_world


@lru_cache(maxsize=4)
def scored_world(seed: int, wallets: int, skilled: int, days: int) -> tuple[SimWorld, ScoreRun]:
    """The world of `SimConfig(seed, wallets, skilled, days)` and its scoring run as of the world's day start
    (default settings). Cached: treat both as read-only."""
    world = build_world(SimConfig(seed=seed, n_wallets=wallets, n_skilled=skilled, history_days=days))
    run = score_rows(
        world.history_trade_rows(),
        world.history_markets_gamma(),
        ScoringSettings(),
        as_of=int(world.day_start.timestamp()),
    )
    return world, run
