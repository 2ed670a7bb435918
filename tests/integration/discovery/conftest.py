"""Discovery over real HTTP: the fake Data API and Gamma on a loopback port, and a virtual clock for the
limiters and retry waits (a 429's `Retry-After` costs no real time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from copytrader.discovery.run import Readers, connect
from tests.support.clock import Clock
from tests.support.fake_data_api import FakeDataApi, serve

OverHttp = Callable[..., Any]


@pytest.fixture
def api() -> Iterator[FakeDataApi]:
    with serve() as fake:
        yield fake


@pytest.fixture
def time() -> Clock:
    return Clock()


@pytest.fixture
def over_http(api: FakeDataApi, time: Clock) -> OverHttp:
    """`over_http(work, **connect_options)`: run `work(readers)` against the loopback server, the virtual
    clock driving the limiters and the retry waits."""

    def run(work: Callable[[Readers], Awaitable[Any]], **kwargs: Any) -> Any:
        async def main() -> Any:
            async with connect(
                f"{api.url}/data",
                f"{api.url}/gamma",
                clock=time.monotonic,
                sleep=time.sleep,
                jitter=lambda: 0.0,
                **kwargs,
            ) as readers:
                return await work(readers)

        return asyncio.run(main())

    return run
