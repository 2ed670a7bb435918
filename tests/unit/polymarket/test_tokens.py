"""`TokenResolver`: Gamma look-ups cached (LRU, sibling tokens, negative TTL), shared by concurrent callers,
nothing cached on failure; the offline constructor; the httpx fetcher's error mapping."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest

from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.tokens import GammaMarket, TokenInfo, TokenResolver, gamma_fetcher
from tests.support.clock import Clock

YES, NO = "1" * 70, "2" * 70
CONDITION = "0x" + "cc" * 32


def gamma_market(condition: str = CONDITION, tokens: Sequence[str] = (YES, NO), **extra: Any) -> dict[str, Any]:
    """A Gamma `/markets` object with the fields the resolver reads (layout as REFERENCE.md section e)."""
    return {
        "conditionId": condition,
        "question": "Will it happen?",
        "clobTokenIds": json.dumps(list(tokens)),
        "outcomes": json.dumps(["Yes", "No"][: len(tokens)]),
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        **extra,
    }


class FakeGamma:
    """A fetcher over a list of markets; counts calls, can fail, and can hold answers until released."""

    def __init__(self, markets: list[dict[str, Any]]) -> None:
        self.markets = markets
        self.calls: list[str] = []
        self.fail: Exception | None = None
        self.gate: asyncio.Event | None = None

    async def __call__(self, token_id: str) -> Sequence[GammaMarket]:
        self.calls.append(token_id)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [m for m in self.markets if token_id in json.loads(m["clobTokenIds"])]


def test_a_token_resolves_to_its_condition_and_outcome_and_its_sibling_is_cached_too() -> None:
    gamma = FakeGamma([gamma_market()])
    resolver = TokenResolver(gamma)

    async def scenario() -> None:
        assert await resolver.resolve(NO) == TokenInfo(NO, CONDITION, "No", 1)
        assert await resolver.resolve(YES) == TokenInfo(YES, CONDITION, "Yes", 0)
        assert await resolver.resolve(NO) == TokenInfo(NO, CONDITION, "No", 1)

    asyncio.run(scenario())
    assert gamma.calls == [NO] and resolver.requests == 1 and len(resolver) == 2


def test_an_unknown_token_is_remembered_for_the_negative_ttl_only() -> None:
    gamma, clock = FakeGamma([]), Clock()
    resolver = TokenResolver(gamma, negative_ttl_s=60, clock=clock.monotonic)

    async def scenario() -> None:
        assert await resolver.resolve(YES) is None
        clock.advance(59.9)
        assert await resolver.resolve(YES) is None
        assert gamma.calls == [YES]
        clock.advance(0.1)  # 60 s after the miss: it has expired
        gamma.markets.append(gamma_market())  # listed since
        assert await resolver.resolve(YES) == TokenInfo(YES, CONDITION, "Yes", 0)

    asyncio.run(scenario())
    assert gamma.calls == [YES, YES]


def test_concurrent_lookups_of_one_token_share_one_request() -> None:
    gamma = FakeGamma([gamma_market()])
    gamma.gate = asyncio.Event()
    resolver = TokenResolver(gamma)

    async def scenario() -> list[TokenInfo | None]:
        waiting = [asyncio.ensure_future(resolver.resolve(YES)) for _ in range(20)]
        await asyncio.sleep(0)
        assert gamma.gate is not None
        gamma.gate.set()
        return await asyncio.gather(*waiting)

    results = asyncio.run(scenario())
    assert gamma.calls == [YES] and set(results) == {TokenInfo(YES, CONDITION, "Yes", 0)}


def test_a_failed_lookup_reaches_every_waiter_and_caches_nothing() -> None:
    gamma = FakeGamma([gamma_market()])
    gamma.fail, gamma.gate = TransientError("gamma down"), asyncio.Event()
    resolver = TokenResolver(gamma)

    async def scenario() -> None:
        waiting = [asyncio.ensure_future(resolver.resolve(YES)) for _ in range(3)]
        await asyncio.sleep(0)
        assert gamma.gate is not None
        gamma.gate.set()
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        assert all(isinstance(o, TransientError) for o in outcomes)
        gamma.fail = None
        assert await resolver.resolve(YES) == TokenInfo(YES, CONDITION, "Yes", 0)

    asyncio.run(scenario())
    assert gamma.calls == [YES, YES]


def test_only_the_token_fields_are_read_so_drift_elsewhere_does_not_matter() -> None:
    drifted = gamma_market("0x" + CONDITION[2:].upper(), endDate="soon", orderPriceMinTickSize=5, feeSchedule="?")
    assert asyncio.run(TokenResolver(FakeGamma([drifted])).resolve(NO)) == TokenInfo(NO, CONDITION, "No", 1)


@pytest.mark.parametrize(
    "broken",
    [
        gamma_market(condition="not-a-condition"),
        gamma_market(clobTokenIds="[not json"),
        gamma_market(outcomes=json.dumps(["Yes"])),
        gamma_market(clobTokenIds=json.dumps([YES, "0xabc"])),
    ],
)
def test_an_unusable_gamma_market_is_an_upstream_error(broken: dict[str, Any]) -> None:
    async def fetch(token_id: str) -> Sequence[GammaMarket]:
        return [broken]

    with pytest.raises(UpstreamError, match="unusable Gamma market"):
        asyncio.run(TokenResolver(fetch).resolve(YES))


def test_the_cache_evicts_the_least_recently_used_token() -> None:
    gamma = FakeGamma([gamma_market(f"0x{n:064x}", [str(10**70 + n), str(2 * 10**70 + n)]) for n in range(1, 4)])
    resolver = TokenResolver(gamma, capacity=4)
    first, second, third = (str(10**70 + n) for n in range(1, 4))

    async def scenario() -> None:
        await resolver.resolve(first)
        await resolver.resolve(second)  # 4 tokens cached: first's pair, second's pair
        assert resolver.cached(first) is not None  # first is now the most recently used
        await resolver.resolve(third)  # evicts second's pair
        assert resolver.cached(second) is None and resolver.cached(first) is not None
        await resolver.resolve(second)

    asyncio.run(scenario())
    assert gamma.calls == [first, second, third, second] and len(resolver) == 4


def test_an_offline_resolver_answers_from_the_given_markets_and_never_fetches() -> None:
    other = "0x" + "dd" * 32
    resolver = TokenResolver.from_gamma_markets(
        [gamma_market(), gamma_market(other, ["3" * 70, "4" * 70]), {"conditionId": "broken"}]
    )
    assert resolver.cached("4" * 70) == TokenInfo("4" * 70, other, "No", 1)
    assert asyncio.run(resolver.resolve(YES)) == TokenInfo(YES, CONDITION, "Yes", 0)
    assert asyncio.run(resolver.resolve("9" * 70)) is None
    assert resolver.requests == 0 and len(resolver) == 4


# ---------------------------------------------------------------------------------------------- the fetcher


def fetch_with(handler: Any) -> Any:
    async def run() -> Any:
        async with httpx.AsyncClient(base_url="https://gamma.test", transport=httpx.MockTransport(handler)) as http:
            return await gamma_fetcher(http)(YES)

    return asyncio.run(run())


def test_the_fetcher_asks_gamma_by_clob_token_id() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json=[gamma_market(), "junk"])

    assert fetch_with(handler) == [gamma_market()]
    assert seen[0].path == "/markets" and seen[0].params["clob_token_ids"] == YES


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(503), TransientError),
        (httpx.Response(429), TransientError),
        (httpx.Response(400), UpstreamError),
        (httpx.Response(200, content=b"<html>"), UpstreamError),
        (httpx.Response(200, json={"error": "x"}), UpstreamError),
    ],
)
def test_the_fetcher_maps_failures(response: httpx.Response, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        fetch_with(lambda request: response)
    assert "gamma.test" not in str(raised.value)


def test_the_fetcher_maps_transport_errors_to_transient_and_404_to_none_found() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(TransientError):
        fetch_with(refuse)
    assert fetch_with(lambda request: httpx.Response(404)) == []
