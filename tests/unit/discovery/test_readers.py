"""The Data API and Gamma reads on `httpx.MockTransport` (no socket), against the fake that speaks the
documented protocols: request shapes, per-endpoint limiters, retries, Gamma batching, and the cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx
import pytest

from copytrader.discovery.cache import DiscoveryCache, MemoryCacheStore
from copytrader.discovery.discover import DiscoveryPlan, discover, leaderboard_queries
from copytrader.discovery.endpoints import SPECS, DataApiLimiters, Endpoint
from copytrader.discovery.gamma_markets import (
    batches,
    condition_ids_of,
    index_markets,
    lookup_markets,
    markets_params,
)
from copytrader.discovery.histories import HistoryPlan, WalletHistories
from copytrader.discovery.leaderboard import SkipReason
from copytrader.discovery.paging import Completion
from copytrader.discovery.run import Readers, connect
from copytrader.errors import UpstreamError
from copytrader.polymarket.data_api.client import DataApiClient
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from tests.support.builders import hex_id
from tests.support.clock import Clock
from tests.support.data_api_rows import EPOCH0, activity_row, gamma_market, leaderboard_row, position_row, trade_row
from tests.support.fake_data_api import FakeDataApi

T = TypeVar("T")
WALLET = hex_id("wallet:whale", 20)
CONDITIONS = [hex_id(f"condition:{i}", 32) for i in range(5)]


def run(fake: FakeDataApi, clock: Clock, work: Callable[[Readers], Awaitable[T]], **kwargs: Any) -> T:
    async def main() -> T:
        options: dict[str, Any] = {"jitter": lambda: 0.0, "transport": fake.transport(), **kwargs}
        async with connect(
            "http://fake/data", "http://fake/gamma", clock=clock.monotonic, sleep=clock.sleep, **options
        ) as readers:
            return await work(readers)

    return asyncio.run(main())


# --------------------------------------------------------------------------------------------- Data API


def test_history_requests_ask_for_everything_the_endpoint_documents() -> None:
    # GIVEN a wallet with taker and maker fills, activity of two types, and positions
    fake, clock = FakeDataApi(), Clock()
    fake.add_trades([trade_row(WALLET, EPOCH0 + s, n=s) for s in range(3)])
    fake.add_trades([trade_row(WALLET, EPOCH0 + 10, n=10, side="SELL")], maker=True)
    fake.activity[WALLET] = [activity_row(WALLET, EPOCH0, kind="REDEEM"), activity_row(WALLET, EPOCH0 + 1)]
    fake.positions[WALLET] = [position_row(WALLET, i) for i in range(3)]
    fake.closed_positions[WALLET] = [position_row(WALLET, 9, closed=True, timestamp=EPOCH0)]

    # WHEN the whole history is read (the wallet given in upper case)
    history = run(fake, clock, lambda r: WalletHistories(r.data_api, HistoryPlan(), now=clock).fetch(WALLET.upper()))

    # THEN maker fills are there, every part is complete, and the requests carry the documented parameters
    assert len(history.trades) == 4 and history.trades[0]["side"] == "SELL"
    assert len(history.activity) == 2 and len(history.positions) == 3 and len(history.closed_positions) == 1
    assert history.complete and history.wallet == WALLET
    trades = fake.requests_to("/data/trades")[0]
    assert trades["user"] == [WALLET] and trades["takerOnly"] == ["false"] and trades["start"] == ["1"]
    assert trades["limit"] == ["1000"] and "_" in trades, "every request carries the cache buster"
    activity = fake.requests_to("/data/activity")[0]
    assert activity["type"] == ["TRADE,SPLIT,MERGE,REDEEM,CONVERSION,REWARD,MAKER_REBATE"]
    assert (
        activity["sortBy"] == ["TIMESTAMP"] and activity["sortDirection"] == ["DESC"] and activity["limit"] == ["500"]
    )
    assert fake.requests_to("/data/positions")[0]["limit"] == ["500"]
    assert "start" not in fake.requests_to("/data/positions")[0]
    assert fake.requests_to("/data/closed-positions")[0]["limit"] == ["50"]


def test_each_path_takes_its_own_limiter_and_the_general_one() -> None:
    limiters = DataApiLimiters.documented()
    assert limiters.for_path("/trades") == (limiters.trades, limiters.general)
    assert limiters.for_path("/positions") == (limiters.positions, limiters.general)
    assert limiters.for_path("/closed-positions") == (limiters.closed_positions, limiters.general)
    assert limiters.for_path("/activity") == (limiters.general,)
    assert [lim.limit for lim in (limiters.general, limiters.trades, limiters.positions)] == [1000, 200, 150]


def test_a_429_waits_for_retry_after_and_a_503_backs_off_then_the_read_goes_on() -> None:
    fake, clock = FakeDataApi(), Clock()
    fake.add_trades([trade_row(WALLET, EPOCH0 + s, n=s) for s in range(3)])
    fake.fail("/data/trades", 429, {"Retry-After": "7"})
    fake.fail("/data/trades", 503)
    part = run(
        fake, clock, lambda r: WalletHistories(r.data_api, HistoryPlan((Endpoint.TRADES,)), now=clock).fetch(WALLET)
    )
    assert part.complete and len(part.trades) == 3
    assert clock.sleeps[0] == 7.0 and 0 < clock.sleeps[1] < 7.0  # Retry-After, then the exponential backoff
    assert len(fake.requests_to("/data/trades")) == 3


def test_a_request_that_keeps_failing_costs_its_part_not_the_wallet() -> None:
    fake, clock = FakeDataApi(), Clock()
    fake.add_trades([trade_row(WALLET, EPOCH0)])
    fake.fail("/data/activity", 503, times=5)
    plan = HistoryPlan((Endpoint.TRADES, Endpoint.ACTIVITY))
    history = run(fake, clock, lambda r: WalletHistories(r.data_api, plan, now=clock).fetch(WALLET))
    assert history.parts[Endpoint.TRADES].complete
    activity = history.parts[Endpoint.ACTIVITY]
    assert activity.completion is Completion.REQUEST_FAILED and "after 5 attempts" in activity.detail
    assert "fake" not in activity.detail, "errors name the path, never the base URL"


def test_a_body_that_is_not_a_list_is_an_upstream_error() -> None:
    fake, clock = FakeDataApi(), Clock()

    fake.fail("/data/trades", 200)  # a 200 whose body is an error object

    async def work(readers: Readers) -> None:
        with pytest.raises(UpstreamError, match="expected a JSON list"):
            await readers.data_api.rows("/trades", {"user": WALLET})

    run(fake, clock, work)


def test_page_sizes_outside_the_documented_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        HistoryPlan(page_sizes={Endpoint.CLOSED_POSITIONS: 51})
    with pytest.raises(ValueError):
        SPECS[Endpoint.ACTIVITY].page_size(501)


# ---------------------------------------------------------------------------------- refresh through a cache


def test_a_refresh_reads_from_the_high_water_mark_and_merges() -> None:
    # GIVEN a wallet read once into the cache
    fake, clock, cache = FakeDataApi(), Clock(), DiscoveryCache(MemoryCacheStore())
    fake.add_trades([trade_row(WALLET, EPOCH0 + 60 * s, n=s) for s in range(100)])
    plan = HistoryPlan((Endpoint.TRADES, Endpoint.POSITIONS))
    fake.positions[WALLET] = [position_row(WALLET, 1)]

    def fetch(readers: Readers) -> Any:
        return WalletHistories(readers.data_api, plan, now=clock, cache=cache).fetch(WALLET)

    first = run(fake, clock, fetch)

    # WHEN three new fills arrive (one of them in the past hour: the Data API published it late) and it runs again
    late = trade_row(WALLET, EPOCH0 + 60 * 99 - 600, n=1000)
    fake.add_trades([trade_row(WALLET, EPOCH0 + 60 * s, n=s) for s in (100, 101)] + [late])
    fake.requests.clear()
    second = run(fake, clock, fetch)

    # THEN one request from high-water - 1 h, all 103 rows once, the snapshot read whole again
    (request,) = fake.requests_to("/data/trades")
    assert request["start"] == [str(EPOCH0 + 60 * 99 - 3600)]
    assert len(first.trades) == 100 and len(second.trades) == 103 and late in second.trades
    assert second.parts[Endpoint.TRADES].cached_rows == 100
    assert len(fake.requests_to("/data/positions")) == 1


def test_a_failed_refresh_is_not_cached_so_the_next_run_repeats_it() -> None:
    fake, clock, cache = FakeDataApi(), Clock(), DiscoveryCache(MemoryCacheStore())
    fake.add_trades([trade_row(WALLET, EPOCH0)])
    fake.fail("/data/trades", 400)
    plan = HistoryPlan((Endpoint.TRADES,))
    history = run(fake, clock, lambda r: WalletHistories(r.data_api, plan, now=clock, cache=cache).fetch(WALLET))
    assert history.parts[Endpoint.TRADES].completion is Completion.REQUEST_FAILED
    assert cache.part(WALLET, Endpoint.TRADES) is None


# ---------------------------------------------------------------------------------------------- discovery


def test_discovery_reads_each_ranking_to_its_depth_and_caches_its_pages() -> None:
    # GIVEN a 120-row ranking (with one malformed row) and a 3-row one
    fake, clock, cache = FakeDataApi(), Clock(), DiscoveryCache(MemoryCacheStore())
    wallets = [hex_id(f"wallet:{i}", 20) for i in range(120)]
    rows: list[Any] = [leaderboard_row(i + 1, w, 1000.0 - i, 5.0) for i, w in enumerate(wallets)]
    rows[5] = {**rows[5], "proxyWallet": "nobody"}
    fake.leaderboards[("OVERALL", "MONTH", "PNL")] = rows
    fake.leaderboards[("OVERALL", "ALL", "PNL")] = rows[:3]
    plan = DiscoveryPlan(queries=tuple(leaderboard_queries(["OVERALL"], ["MONTH", "ALL"], ["PNL"])), depth=100)

    def work(readers: Readers) -> Any:
        return discover(readers.data_api, plan, now=clock, cache=cache)

    # WHEN discovered twice within the hour, then once more after it
    found = run(fake, clock, work)
    asked = len(fake.requests)
    again = run(fake, clock, work)
    clock.advance(timedelta(hours=1))
    run(fake, clock, work)

    # THEN 99 + 0 new candidates, two pages and one short page asked, none the second time, all after the TTL
    assert len(found.candidates) == 99 and found.skipped == {SkipReason.MALFORMED_WALLET: 1}
    assert [(q["offset"], q["limit"]) for _, q in fake.requests[:asked] if q["timePeriod"] == ["MONTH"]] == [
        (["0"], ["50"]),
        (["50"], ["50"]),
    ]
    assert asked == 3 and again.requests == 0 and again.cached_pages == 3
    assert again.candidates == found.candidates
    assert len(fake.requests) == 2 * asked


def test_a_failed_ranking_is_reported_and_the_others_still_count() -> None:
    fake, clock = FakeDataApi(), Clock()
    fake.leaderboards[("OVERALL", "WEEK", "PNL")] = [leaderboard_row(1, WALLET, 10.0, 10.0)]
    fake.fail("/data/v1/leaderboard", 500, times=5, when={"timePeriod": "DAY"})
    plan = DiscoveryPlan(queries=tuple(leaderboard_queries(["OVERALL"], ["DAY", "WEEK"], ["PNL"])), depth=10)
    found = run(fake, clock, lambda r: discover(r.data_api, plan, now=clock), attempts=5)
    assert not found.complete and len(found.failures) == 1 and "HTTP 500 after 5 attempts" in found.failures[0]
    assert found.skipped[SkipReason.QUERY_FAILED] == 1


def test_large_trades_ask_the_global_feed_for_cash_filtered_taker_fills() -> None:
    fake, clock = FakeDataApi(), Clock()
    fake.add_trades([trade_row(WALLET, EPOCH0, size=5000.0, price=0.5), trade_row(hex_id("x", 20), EPOCH0, size=1.0)])
    plan = DiscoveryPlan(queries=(), large_trade_usdc=Decimal("2500"), large_trade_limit=200)
    found = run(fake, clock, lambda r: discover(r.data_api, plan, now=clock))
    (request,) = fake.requests_to("/data/trades")
    assert request["filterType"] == ["CASH"] and request["filterAmount"] == ["2500"]
    assert request["takerOnly"] == ["true"] and request["limit"] == ["200"] and "user" not in request
    assert [c.wallet for c in found.candidates] == [WALLET]


# -------------------------------------------------------------------------------------------------- Gamma


def test_gamma_batches_are_repeated_parameters_with_a_matching_limit() -> None:
    assert batches(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]
    with pytest.raises(ValueError):
        batches([], 101)
    assert markets_params(["0x1", "0x2"], "true") == {"condition_ids": ["0x1", "0x2"], "limit": 2, "closed": "true"}
    rows = [trade_row(WALLET, EPOCH0, condition_id=CONDITIONS[1].upper().replace("0X", "0x")), {"conditionId": "0x12"}]
    assert condition_ids_of([*rows, trade_row(WALLET, EPOCH0, condition_id=CONDITIONS[1]), "junk"]) == [CONDITIONS[1]]
    found, skipped = index_markets(
        [gamma_market(CONDITIONS[0]), gamma_market(CONDITIONS[2]), {"x": 1}], {CONDITIONS[0]}
    )
    assert list(found) == [CONDITIONS[0]] and skipped == {"not_requested": 1, "malformed_market": 1}


def test_lookup_finds_closed_markets_gamma_hides_reports_unknown_ones_and_caches() -> None:
    # GIVEN Gamma hiding closed markets unless asked, one resolved, one open, and one id it does not know
    fake, clock, cache = FakeDataApi(), Clock(), DiscoveryCache(MemoryCacheStore())
    fake.hide_closed_by_default = True
    wanted = sorted(CONDITIONS[:3])
    fake.markets[wanted[0]] = gamma_market(wanted[0], closed=True, prices=("1", "0"))
    fake.markets[wanted[1]] = gamma_market(wanted[1])

    def work(readers: Readers) -> Any:
        return lookup_markets(readers.gamma, [*wanted, "0xbad"], cache=cache, now=clock)

    # WHEN looked up
    lookup = run(fake, clock, work)

    # THEN one request per pass (plain, closed=true, closed=false), the ids repeated; unknown reported not invented
    assert sorted(lookup.found) == wanted[:2] and lookup.missing == [wanted[2]] and lookup.complete
    passes = fake.requests_to("/gamma/markets")
    assert [q.get("closed") for q in passes] == [None, ["true"], ["false"]]
    assert passes[0]["condition_ids"] == wanted and passes[0]["limit"] == ["3"]
    assert passes[1]["condition_ids"] == wanted[::2]
    assert lookup.skipped == {"malformed_condition_id": 1}

    # AND a later lookup takes the resolved market from the cache, and the open one too until 15 minutes pass
    fake.requests.clear()
    run(fake, clock, work)
    assert fake.requests_to("/gamma/markets")[0]["condition_ids"] == [wanted[2]]
    fake.requests.clear()
    clock.advance(timedelta(minutes=15))
    later = run(fake, clock, work)
    assert fake.requests_to("/gamma/markets")[0]["condition_ids"] == wanted[1:]
    assert later.from_cache == 1


def test_a_failed_gamma_batch_is_reported_as_not_looked_up() -> None:
    fake, clock = FakeDataApi(), Clock()
    fake.fail("/gamma/markets", 404)
    lookup = run(fake, clock, lambda r: lookup_markets(r.gamma, CONDITIONS[:2], now=clock))
    assert lookup.failed == CONDITIONS[:2] and not lookup.complete and lookup.missing == []
    assert "HTTP 404" in lookup.errors[0]


def test_a_429_pauses_every_limiter_the_request_went_through() -> None:
    # GIVEN a request limited by its endpoint's limiter and the general one, answered 429 with Retry-After: 5
    fake, clock = FakeDataApi(), Clock()
    fake.fail("/data/trades", 429, {"Retry-After": "5"})
    own, general = (SlidingWindowLimiter(100, 10.0, clock=clock.monotonic, sleep=clock.sleep) for _ in range(2))
    paused: list[tuple[bool, bool]] = []

    async def sleep(seconds: float) -> None:
        now = clock.monotonic()
        paused.append((own.reserve(now) > 0, general.reserve(now) > 0))
        await clock.sleep(seconds)

    async def main() -> Any:
        async with httpx.AsyncClient(base_url="http://fake/data", transport=fake.transport()) as http:
            client = DataApiClient(http, own, sleep=sleep, jitter=lambda: 0.0)
            return await client.get_json("/trades", {"user": WALLET}, limiters=(own, general))

    # WHEN it is retried
    assert asyncio.run(main()) == []

    # THEN both limiters held every request back while the client waited the 5 s
    assert paused == [(True, True)] and clock.sleeps == [5.0]
