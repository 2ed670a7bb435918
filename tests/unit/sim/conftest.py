"""Worlds shared by the simulator tests (built once per session: a default world takes well under a second)."""

from __future__ import annotations

import pytest

from copytrader.sim.config import SimConfig
from copytrader.sim.world import SimWorld, build_world
from tests.support.sim_worlds import SMALL_WORLD

SMALL = SMALL_WORLD


@pytest.fixture(scope="session")
def world() -> SimWorld:
    """The default world (the demo's scale)."""
    return build_world(SimConfig())


@pytest.fixture(scope="session")
def scoring_world() -> SimWorld:
    """The whale-scoring scale: 1000 wallets, 20 skilled, 30 history days."""
    return build_world(SimConfig(seed=5, n_wallets=1000, n_skilled=20))


@pytest.fixture(scope="session")
def seed_worlds(world: SimWorld) -> list[SimWorld]:
    """The default world and three more default-config worlds: statistical checks pool or repeat over them."""
    return [world, *(build_world(SimConfig(seed=seed)) for seed in (1, 2, 3))]


@pytest.fixture(scope="session")
def small_config() -> SimConfig:
    """A small world's config: 80 wallets, 16 live markets, 3 history days."""
    return SMALL
