"""Listener integration fixtures: a small simulated world served over loopback HTTP, and the name of the
high-water marks table (created by LocalAws from `copytrader.store.tables`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copytrader.local.aws import LocalAws
from copytrader.sim.config import SimConfig
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from copytrader.store.tables import WatermarkModel

CONFIG = SimConfig(
    seed=11,
    n_wallets=80,
    n_skilled=4,
    n_makers=2,
    n_lucky=2,
    n_markets_live=16,
    n_markets_per_history_day=12,
    history_days=3,
)


@pytest.fixture(scope="module")
def world() -> SimWorld:
    return build_world(CONFIG)


@pytest.fixture
def sim(world: SimWorld) -> Iterator[SimPolymarketServer]:
    with SimPolymarketServer(world) as server:
        yield server


@pytest.fixture
def marks_table(aws: LocalAws) -> str:
    return str(WatermarkModel.Meta.table_name)
