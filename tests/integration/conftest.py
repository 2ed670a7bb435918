"""Integration tier: handlers against moto server over real HTTP on 127.0.0.1, and loopback Polymarket.

One moto server per session (start-up costs ~1.5 s); every test starts from a wiped server with the
resources created again (`LocalAws.reset`, ~5 ms for the wipe).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from copytrader.local.aws import LocalAws
from copytrader.settings import load_settings
from copytrader.workflows import wiring
from tests.support.clock import Clock
from tests.support.fake_polymarket import FakePolymarket, fake_polymarket

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


@pytest.fixture
def aws(local_aws: LocalAws) -> LocalAws:
    local_aws.reset()
    return local_aws


@pytest.fixture
def polymarket() -> Iterator[FakePolymarket]:
    with fake_polymarket() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()  # reads T0 until a test sets or advances it


@pytest.fixture
def make_deps(aws: LocalAws, polymarket: FakePolymarket, clock: Clock) -> Iterator[Any]:
    """Build and install pipeline dependencies against moto and the loopback Polymarket."""

    def make(**overrides: Any) -> wiring.Deps:
        settings = load_settings(
            environ={},
            overrides={"clob_url": f"{polymarket.url}/clob", "gamma_url": f"{polymarket.url}/gamma", **overrides},
        )
        built = wiring.Deps(settings, clock=clock)
        wiring.install(built)
        return built

    yield make
    wiring.install(None)
