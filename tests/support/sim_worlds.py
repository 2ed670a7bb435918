"""Simulated-world sizes shared by the test tiers (one definition, so every tier tests the same world)."""

from copytrader.sim.config import SimConfig

SMALL_WORLD = SimConfig(
    seed=11,
    n_wallets=80,
    n_skilled=4,
    n_makers=2,
    n_lucky=2,
    n_markets_live=16,
    n_markets_per_history_day=12,
    history_days=3,
)
