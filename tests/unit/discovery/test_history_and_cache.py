"""Refresh rules (where a refresh starts, how it merges, what it remembers) and the cache's freshness rules,
on the in-memory store and the SQLite store (a local file: no socket)."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest

from copytrader.discovery.cache import CacheStore, DiscoveryCache, MemoryCacheStore, encode, is_resolved
from copytrader.discovery.cache_s3 import parse_s3_url
from copytrader.discovery.cache_sqlite import SqliteCacheStore, default_cache_path
from copytrader.discovery.endpoints import SPECS, Endpoint
from copytrader.discovery.history import HistoryPart, WalletHistory, combine, refresh_since
from copytrader.discovery.leaderboard import LeaderboardQuery
from copytrader.discovery.paging import Completion, WindowedPager
from copytrader.discovery.rows import order_newest_first, trade_identity
from copytrader.polymarket.data_api.rows import Row
from tests.support.builders import T0, hex_id
from tests.support.data_api_rows import EPOCH0, position_row, trade_row
from tests.support.handbook import load_json

WALLET = hex_id("wallet:whale", 20)
TRADES, POSITIONS = SPECS[Endpoint.TRADES], SPECS[Endpoint.POSITIONS]
HOUR = timedelta(hours=1)
FIXTURES = "nautilus-polymarket-fixtures"


def trades(seconds: range) -> tuple[Row, ...]:
    return tuple(order_newest_first([trade_row(WALLET, EPOCH0 + s, n=s) for s in seconds]))


def pager_after(rows: list[Row], *, since: int | None = None, fail: str = "") -> WindowedPager:
    pager = WindowedPager(limit=1000, max_offset=10_000, windowed=True, identity=trade_identity, since=since)
    pager.next_request()
    pager.accept(rows)
    if fail:
        pager.fail(fail)
    return pager


def test_a_refresh_starts_an_overlap_before_the_high_water_mark() -> None:
    cached = HistoryPart(Endpoint.TRADES, trades(range(0, 7200, 60)), T0)
    assert refresh_since(cached, TRADES, HOUR) == EPOCH0 + 7140 - 3600
    assert refresh_since(None, TRADES, HOUR) is None
    assert refresh_since(HistoryPart(Endpoint.TRADES, (), T0), TRADES, HOUR) is None  # nothing yet: read it all
    positions = HistoryPart(Endpoint.POSITIONS, (position_row(WALLET, 1),), T0)
    assert refresh_since(positions, POSITIONS, HOUR) is None  # a snapshot is read whole


def test_a_part_cut_at_a_row_cap_is_read_again_whole_only_when_the_cap_was_raised() -> None:
    capped = HistoryPart(Endpoint.TRADES, trades(range(100)), T0, Completion.ROW_CAP, "cap 100")
    assert refresh_since(capped, TRADES, HOUR, max_rows=100) == EPOCH0 + 99 - 3600
    assert refresh_since(capped, TRADES, HOUR, max_rows=1000) is None
    assert refresh_since(capped, TRADES, HOUR, max_rows=None) is None


def test_a_refresh_merges_by_identity_and_keeps_an_older_truncation() -> None:
    # GIVEN a cached history truncated at the offset ceiling long ago, and a refresh re-reading its last rows
    cached = HistoryPart(Endpoint.TRADES, trades(range(0, 100)), T0, Completion.OFFSET_CEILING, "old gap")
    pager = pager_after(list(trades(range(90, 120))), since=EPOCH0 + 90)

    # WHEN combined
    part = combine(cached, pager, TRADES, T0 + HOUR)

    # THEN 120 rows, the 10 re-read ones once, the old gap still reported
    assert len(part.rows) == 120 and part.repeated_rows == 10 and part.cached_rows == 100
    assert part.completion is Completion.OFFSET_CEILING and part.detail == "old gap"
    assert part.high_water == EPOCH0 + 119 and part.fetched_at == T0 + HOUR


def test_a_failed_refresh_returns_what_it_has_marked_failed() -> None:
    cached = HistoryPart(Endpoint.TRADES, trades(range(0, 10)), T0)
    part = combine(cached, pager_after(list(trades(range(5, 12))), since=EPOCH0 + 5, fail="HTTP 503"), TRADES, T0)
    assert part.completion is Completion.REQUEST_FAILED and len(part.rows) == 12


def test_a_failed_snapshot_falls_back_to_the_cached_one_and_says_so() -> None:
    cached = HistoryPart(Endpoint.POSITIONS, (position_row(WALLET, 1),), T0)
    pager = WindowedPager(limit=500, max_offset=10_000, windowed=False, identity=POSITIONS.identity)
    pager.fail("GET /positions: HTTP 503 after 5 attempts")
    part = combine(cached, pager, POSITIONS, T0 + HOUR)
    assert part.rows == cached.rows and part.completion is Completion.REQUEST_FAILED
    assert T0.isoformat() in part.detail


def test_a_wallet_history_says_whether_every_part_is_whole() -> None:
    history = WalletHistory(
        WALLET,
        T0,
        {
            Endpoint.TRADES: HistoryPart(Endpoint.TRADES, trades(range(3)), T0),
            Endpoint.POSITIONS: HistoryPart(Endpoint.POSITIONS, (), T0, Completion.ROW_CAP, "stopped"),
        },
    )
    assert len(history.trades) == 3 and history.activity == () and not history.complete
    assert history.summary()["positions"]["completion"] == "row_cap"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> CacheStore:
    return MemoryCacheStore() if request.param == "memory" else SqliteCacheStore(tmp_path / "cache" / "d.sqlite3")


def test_parts_round_trip_and_failed_parts_are_refused(store: CacheStore) -> None:
    cache = DiscoveryCache(store)
    part = HistoryPart(Endpoint.TRADES, trades(range(5)), T0, Completion.ROW_CAP, "stopped after 5 rows (cap 5)")
    cache.save_part(WALLET, part)
    loaded = cache.part(WALLET.upper().replace("0X", "0x"), Endpoint.TRADES)
    assert loaded is not None and loaded.rows == part.rows and loaded.completion is Completion.ROW_CAP
    assert loaded.fetched_at == T0 and loaded.high_water == EPOCH0 + 4
    assert cache.part(WALLET, Endpoint.ACTIVITY) is None
    with pytest.raises(ValueError):
        cache.save_part(WALLET, HistoryPart(Endpoint.TRADES, (), T0, Completion.REQUEST_FAILED))


def test_leaderboard_pages_are_fresh_for_an_hour(store: CacheStore) -> None:
    cache, query = DiscoveryCache(store), LeaderboardQuery("OVERALL", "MONTH", "PNL")
    cache.save_leaderboard_page(query, 0, 50, [{"rank": "1"}], T0)
    assert cache.leaderboard_page(query, 0, 50, T0 + timedelta(minutes=59)) == [{"rank": "1"}]
    assert cache.leaderboard_page(query, 0, 50, T0 + HOUR) is None
    assert cache.leaderboard_page(query, 50, 50, T0) is None


def test_resolved_markets_are_kept_for_good_and_open_ones_for_15_minutes(store: CacheStore) -> None:
    # GIVEN real Gamma markets: resolved, open, and closed with ["0","0"] prices (not a definite payout)
    resolved = load_json(f"{FIXTURES}/gamma_market_closed_binary_accepting_false.json")
    open_market = load_json(f"{FIXTURES}/gamma_market.json")
    zero_zero = load_json(f"{FIXTURES}/gamma_market_closed_zero_zero_legacy.json")
    assert is_resolved(resolved) and not is_resolved(open_market) and not is_resolved(zero_zero)
    cache = DiscoveryCache(store)
    markets = {m["conditionId"]: m for m in (resolved, open_market, zero_zero)}
    cache.save_markets(markets, T0)

    # THEN all are fresh at first; a year later only the resolved one is
    assert cache.markets(markets, T0 + timedelta(minutes=14)) == markets
    assert set(cache.markets(markets, T0 + timedelta(minutes=15))) == {resolved["conditionId"]}
    assert set(cache.markets(markets, T0 + timedelta(days=365))) == {resolved["conditionId"]}


def test_unreadable_and_foreign_entries_read_as_absent(store: CacheStore) -> None:
    store.put("history/" + WALLET + "/trades", b"not gzip")
    store.put("history/" + WALLET + "/activity", gzip.compress(json.dumps({"format": 99}).encode()))
    store.put("history/" + WALLET + "/positions", encode({"rows": "nope"}))
    cache = DiscoveryCache(store)
    assert cache.part(WALLET, Endpoint.TRADES) is None
    assert cache.part(WALLET, Endpoint.ACTIVITY) is None
    assert cache.part(WALLET, Endpoint.POSITIONS) is None


def test_the_same_document_encodes_to_the_same_bytes() -> None:
    assert encode({"b": 1, "a": [1.5]}) == encode({"a": [1.5], "b": 1})


def test_sqlite_store_reads_many_keys_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    SqliteCacheStore(path).put_many({f"k/{i}": bytes([i % 256]) for i in range(1200)})
    reopened = SqliteCacheStore(path)
    found = reopened.get_many([f"k/{i}" for i in range(0, 1300, 3)])
    assert len(found) == 400 and found["k/3"] == b"\x03"
    assert reopened.get("k/missing") is None


def test_the_default_cache_lives_under_the_user_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_path() == Path.home() / ".cache" / "copytrader" / "discovery.sqlite3"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_path() == tmp_path / "copytrader" / "discovery.sqlite3"


def test_s3_locations_are_parsed() -> None:
    assert parse_s3_url("s3://bucket/some/prefix/") == ("bucket", "some/prefix/")
    assert parse_s3_url("s3://bucket") == ("bucket", "")
    for bad in ("bucket/prefix", "s3:///prefix"):
        with pytest.raises(ValueError):
            parse_s3_url(bad)
