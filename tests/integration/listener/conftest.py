"""Listener integration fixtures: a small simulated world served over loopback HTTP, and the name of the
high-water marks table (created by LocalAws from `copytrader.store.tables`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from copytrader.local.aws import LocalAws
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.world import SimWorld, build_world
from copytrader.store.observed_tables import WatermarkModel
from tests.support.clob_market_server import ClobMarketServer
from tests.support.sim_worlds import SMALL_WORLD

CONFIG = SMALL_WORLD


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


@pytest.fixture
def server() -> Iterator[ClobMarketServer]:
    """The loopback CLOB market channel (price marks, fast stops)."""
    with ClobMarketServer() as running_server:
        yield running_server
