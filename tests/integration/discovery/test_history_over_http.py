"""Wallet histories over real HTTP: a history deeper than the 10,000 offset bound read in `end` windows,
429 with `Retry-After` and 503 answered on the wire, and an incremental refresh through the SQLite cache
that asks only for the new pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.cache_sqlite import SqliteCacheStore
from copytrader.discovery.discover import DiscoveryPlan, leaderboard_queries
from copytrader.discovery.endpoints import Endpoint
from copytrader.discovery.histories import HistoryPlan, WalletHistories
from copytrader.discovery.paging import Completion
from copytrader.discovery.rows import trade_identity
from copytrader.discovery.run import FetchPlan, Readers, run_fetch
from tests.support.builders import hex_id
from tests.support.clock import Clock
from tests.support.data_api_rows import EPOCH0, activity_row, gamma_market, leaderboard_row, trade_row
from tests.support.fake_data_api import FakeDataApi

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

WHALE = hex_id("wallet:deep", 20)
CONDITIONS = sorted(hex_id(f"condition:{i}", 32) for i in range(4))


def deep_history(rows: int) -> list[dict[str, Any]]:
    """`rows` fills, two per second (ties across window boundaries), spread over four markets."""
    return [
        trade_row(WHALE, EPOCH0 + i // 2, n=i, condition_id=CONDITIONS[i % 4], size=float(1 + i % 50))
        for i in range(rows)
    ]


def test_a_history_deeper_than_the_offset_bound_is_read_whole_in_end_windows(api: FakeDataApi, over_http: Any) -> None:
    # GIVEN 24,000 taker fills and 500 maker fills, newest first behind offsets capped at 10,000
    taker = deep_history(24_000)
    maker = [trade_row(WHALE, EPOCH0 + 20_000 + i, n=10**6 + i, side="SELL") for i in range(500)]
    api.add_trades(taker)
    api.add_trades(maker, maker=True)

    # WHEN the wallet's trades are read
    plan = HistoryPlan((Endpoint.TRADES,))
    history = over_http(lambda r: WalletHistories(r.data_api, plan, now=Clock()).fetch(WHALE))

    # THEN every fill once, newest first, complete; windows were used and no offset went past the bound
    part = history.parts[Endpoint.TRADES]
    assert part.completion is Completion.COMPLETE
    read = [trade_identity(row) for row in part.rows]
    assert len(read) == len(set(read)) and set(read) == {trade_identity(row) for row in taker + maker}
    stamps = [row["timestamp"] for row in part.rows]
    assert stamps == sorted(stamps, reverse=True)
    asked = api.requests_to("/data/trades")
    assert max(int(q["offset"][0]) for q in asked) == 10_000
    ends = [int(q["end"][0]) for q in asked if "end" in q]
    assert len(set(ends)) >= 2, "at least two `end` windows after the first"
    assert part.repeated_rows >= len(set(ends)), "each window re-reads its boundary second and drops it"
    assert len(asked) == part.requests <= 30


def test_429_with_retry_after_and_503_are_answered_over_the_wire(api: FakeDataApi, over_http: Any, time: Clock) -> None:
    # GIVEN a throttled then unavailable `/trades` and a failing `/activity`
    api.add_trades(deep_history(30))
    api.activity[WHALE] = [activity_row(WHALE, EPOCH0 + i, n=i) for i in range(3)]
    api.fail("/data/trades", 429, {"Retry-After": "3"})
    api.fail("/data/trades", 503)
    api.fail("/data/activity", 503, times=5)
    plan = HistoryPlan((Endpoint.TRADES, Endpoint.ACTIVITY))

    # WHEN read
    history = over_http(lambda r: WalletHistories(r.data_api, plan, now=time).fetch(WHALE))

    # THEN the trades arrived after waiting the server's 3 s and a backoff; the activity is reported failed
    assert history.parts[Endpoint.TRADES].complete and len(history.trades) == 30
    assert 3.0 in time.sleeps
    activity = history.parts[Endpoint.ACTIVITY]
    assert (
        activity.completion is Completion.REQUEST_FAILED
        and "GET /activity: HTTP 503 after 5 attempts" in activity.detail
    )
    assert "127.0.0.1" not in activity.detail


def test_a_daily_refresh_asks_only_for_the_new_pages(
    api: FakeDataApi, over_http: Any, time: Clock, tmp_path: Path
) -> None:
    # GIVEN a discovered whale with 3,000 fills a minute apart in four markets (two resolved), a cache on disk
    api.add_trades([trade_row(WHALE, EPOCH0 + 60 * i, n=i, condition_id=CONDITIONS[i % 4]) for i in range(3000)])
    api.leaderboards[("OVERALL", "MONTH", "PNL")] = [leaderboard_row(1, WHALE, 99_000.0, 1e6, "deep")]
    for i, cid in enumerate(CONDITIONS):
        api.markets[cid] = gamma_market(cid, closed=i < 2, prices=("1", "0") if i < 2 else ("0.4", "0.6"))
    plan = FetchPlan(
        discovery=DiscoveryPlan(queries=tuple(leaderboard_queries(["OVERALL"], ["MONTH"], ["PNL"])), depth=50),
        history=HistoryPlan((Endpoint.TRADES,)),
    )

    def fetch(readers: Readers) -> Any:
        cache = DiscoveryCache(SqliteCacheStore(tmp_path / "cache.sqlite3"))
        return run_fetch(plan, readers, cache=cache, now=time)

    first = over_http(fetch)
    first_requests = {path: len(api.requests_to(path)) for path in ("/data/trades", "/gamma/markets")}

    # WHEN a day later 20 new fills arrive and the fetch runs again
    time.advance(timedelta(days=1))
    news = [trade_row(WHALE, EPOCH0 + 60 * (3000 + i), n=9000 + i, condition_id=CONDITIONS[0]) for i in range(20)]
    api.add_trades(news)
    api.requests.clear()
    second = over_http(fetch)

    # THEN one trades request from high-water - 1 h; the resolved markets come from the cache, the open
    # ones (and the leaderboard, older than its hour) are asked again
    assert first_requests == {"/data/trades": 4, "/gamma/markets": 1}
    (trades,) = api.requests_to("/data/trades")
    assert trades["start"] == [str(EPOCH0 + 60 * 2999 - 3600)]
    assert len(second.rows(Endpoint.TRADES)) == 3020 and second.complete
    (markets,) = api.requests_to("/gamma/markets")
    assert markets["condition_ids"] == CONDITIONS[2:]
    assert second.markets.from_cache == 2 and len(second.markets.found) == 4
    assert len(api.requests_to("/data/v1/leaderboard")) == 1
    assert first.discovery is not None and [c.wallet for c in first.discovery.candidates] == [WHALE]
