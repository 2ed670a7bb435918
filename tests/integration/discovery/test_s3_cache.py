"""The S3 cache store against moto server over HTTP, and a fetch that refreshes through it."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import pytest

from copytrader.discovery.cache import DiscoveryCache
from copytrader.discovery.cache_s3 import S3CacheStore
from copytrader.discovery.endpoints import Endpoint
from copytrader.discovery.histories import HistoryPlan
from copytrader.discovery.run import FetchPlan, Readers, run_fetch
from copytrader.local.aws import LocalAws
from tests.support.builders import hex_id
from tests.support.clock import Clock
from tests.support.data_api_rows import EPOCH0, gamma_market, position_row, trade_row
from tests.support.fake_data_api import FakeDataApi

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

WHALE = hex_id("wallet:s3", 20)
CONDITION = hex_id("condition:s3", 32)


@pytest.fixture
def s3_store(local_aws: LocalAws) -> S3CacheStore:
    s3 = local_aws.client("s3")
    bucket = f"discovery-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    return S3CacheStore(bucket, "scoring/cache/", client=s3)


def test_objects_live_under_the_prefix_and_missing_keys_read_as_none(s3_store: S3CacheStore) -> None:
    s3_store.put_many({"a/1": b"one", "a/2": b"two"})
    assert s3_store.get("a/1") == b"one" and s3_store.get("a/3") is None
    assert s3_store.get_many(["a/2", "a/3", "a/1"]) == {"a/2": b"two", "a/1": b"one"}
    listed = s3_store._s3.list_objects_v2(Bucket=s3_store.bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == ["scoring/cache/a/1.json.gz", "scoring/cache/a/2.json.gz"]


def test_a_refresh_through_s3_reads_only_what_is_new(
    s3_store: S3CacheStore, api: FakeDataApi, over_http: Any, time: Clock
) -> None:
    # GIVEN a wallet with 50 fills in one resolved market and a position
    api.add_trades([trade_row(WHALE, EPOCH0 + 600 * i, n=i, condition_id=CONDITION) for i in range(50)])
    api.positions[WHALE] = [position_row(WHALE, 1)]
    api.markets[CONDITION] = gamma_market(CONDITION, closed=True, prices=("0", "1"))
    plan = FetchPlan(wallets=(WHALE,), history=HistoryPlan((Endpoint.TRADES, Endpoint.POSITIONS)))

    def fetch(readers: Readers) -> Any:
        return run_fetch(plan, readers, cache=DiscoveryCache(s3_store), now=time)

    # WHEN fetched twice, one new fill in between
    first = over_http(fetch)
    api.add_trades([trade_row(WHALE, EPOCH0 + 600 * 50, n=50, condition_id=CONDITION)])
    api.requests.clear()
    second = over_http(fetch)

    # THEN the second run asks from the high-water mark, takes the market from S3, and has all 51 fills
    assert len(first.rows(Endpoint.TRADES)) == 50 and len(second.rows(Endpoint.TRADES)) == 51
    (trades,) = api.requests_to("/data/trades")
    assert trades["start"] == [str(EPOCH0 + 600 * 49 - 3600)]
    assert api.requests_to("/gamma/markets") == [] and second.markets.from_cache == 1
    body = s3_store.get(f"history/{WHALE}/trades")
    assert body is not None
    document = json.loads(gzip.decompress(body))
    assert document["high_water"] == EPOCH0 + 600 * 50 and len(document["rows"]) == 51
    assert api.url not in gzip.decompress(body).decode(), "the cache never holds a base URL"
