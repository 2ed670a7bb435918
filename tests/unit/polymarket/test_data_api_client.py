"""The Data API client on httpx.MockTransport: request shape, retries, Retry-After, and paging to the mark."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.data_api import client as data_api_client
from copytrader.polymarket.data_api.client import MAX_OFFSET, TradeFetch
from copytrader.polymarket.data_api.rate_limit import SlidingWindowLimiter
from copytrader.polymarket.data_api.rows import row_identity
from tests.support.builders import T0
from tests.support.clock import Clock
from tests.support.listener_fakes import EPOCH0, WALLET, FakeDataApi, v1_row


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def rows_newest_first(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [v1_row(start + i) for i in reversed(range(n))]


def fetch_since(api: FakeDataApi, clock: Clock, floor: int, page_size: int = 5, **kwargs: Any) -> TradeFetch:
    client = api.client(clock, **kwargs)
    return run(client.trades_since(WALLET, is_older=lambda ts: ts < floor, page_size=page_size))


def test_request_asks_for_maker_fills_with_a_fresh_cache_buster() -> None:
    api, clock = FakeDataApi(), Clock()
    client = api.client(clock)
    run(client.trades_page(WALLET.upper().replace("0X", "0x"), limit=50, offset=100))
    run(client.trades_page(WALLET, limit=50))
    first, second = api.requests
    assert first["user"] == WALLET and first["takerOnly"] == "false"
    assert (first["limit"], first["offset"]) == ("50", "100")
    assert first["_"] != second["_"], "each request must miss CloudFront's 5-minute cache"


def test_offset_and_limit_beyond_the_api_bounds_are_refused_before_sending() -> None:
    api, clock = FakeDataApi(), Clock()
    with pytest.raises(ValueError):
        run(api.client(clock).trades_page(WALLET, limit=50, offset=MAX_OFFSET + 1))
    assert api.requests == []


def _responses(*statuses: int, headers: dict[str, str] | None = None) -> dict[int, Callable[[], httpx.Response]]:
    return {
        i: (lambda s=s: httpx.Response(s, headers=headers or {}, json={"error": "x"})) for i, s in enumerate(statuses)
    }


def test_429_waits_for_retry_after_and_pauses_the_shared_limiter() -> None:
    clock = Clock()
    api = FakeDataApi(rows={WALLET: [v1_row()]}, responders=_responses(429, headers={"Retry-After": "3"}))
    limiter = SlidingWindowLimiter(10_000, 10.0, clock=clock.monotonic, sleep=clock.sleep)
    rows = run(api.client(clock, limiter=limiter).trades_page(WALLET, limit=10))
    assert rows == [v1_row()] and len(api.requests) == 2
    assert clock.monotonic() == pytest.approx(3.0)
    assert limiter.reserve(clock.monotonic()) == 0.0


def test_retry_after_as_an_http_date_is_honoured() -> None:
    clock = Clock()
    later = format_datetime(clock() + timedelta(seconds=6), usegmt=True)
    api = FakeDataApi(rows={WALLET: []}, responders=_responses(503, headers={"Retry-After": later}))
    run(api.client(clock).trades_page(WALLET, limit=10))
    assert clock.monotonic() == pytest.approx(6.0)


def test_5xx_and_timeouts_back_off_exponentially_then_succeed() -> None:
    clock = Clock()

    def timeout() -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    api = FakeDataApi(rows={WALLET: [v1_row()]}, responders={0: timeout, 1: _responses(502)[0], 2: timeout})
    rows = run(api.client(clock, backoff_s=0.5).trades_page(WALLET, limit=10))
    assert rows == [v1_row()] and len(api.requests) == 4
    assert clock.sleeps == [0.25, 0.5, 1.0]  # half of 0.5 x 2^attempt with the jitter at 0


def test_persistent_failure_raises_transient_error_after_the_attempts() -> None:
    clock = Clock()
    api = FakeDataApi(responders=_responses(500, 500, 500))
    with pytest.raises(TransientError, match="HTTP 500 after 3 attempts"):
        run(api.client(clock, attempts=3).trades_page(WALLET, limit=10))
    assert len(api.requests) == 3


@pytest.mark.parametrize(
    "response",
    [
        lambda: httpx.Response(400, json={"error": "offset too large"}),
        lambda: httpx.Response(200, content=b"<html>"),
        lambda: httpx.Response(200, json={"error": "not a list"}),
    ],
)
def test_client_errors_and_unusable_bodies_are_upstream_errors_without_retry(response: Any) -> None:
    api = FakeDataApi(responders={0: response})
    with pytest.raises(UpstreamError):
        run(api.client(Clock()).trades_page(WALLET, limit=10))
    assert len(api.requests) == 1


def test_v2_envelope_is_unwrapped() -> None:
    api = FakeDataApi(responders={0: lambda: httpx.Response(200, json={"data": [v1_row()], "pagination": {}})})
    assert run(api.client(Clock()).trades_page(WALLET, limit=10)) == [v1_row()]


def test_paging_stops_at_the_first_page_reaching_the_mark() -> None:
    api = FakeDataApi(rows={WALLET: rows_newest_first(30)})
    fetch = fetch_since(api, Clock(), floor=EPOCH0 + 22, page_size=5)
    assert fetch.requests == 2 and [r["offset"] for r in api.requests] == ["0", "5"]
    assert fetch.row_count == 10 and not fetch.truncated


def test_paging_stops_at_a_short_page() -> None:
    api = FakeDataApi(rows={WALLET: rows_newest_first(12)})
    fetch = fetch_since(api, Clock(), floor=0, page_size=5)
    assert fetch.requests == 3 and fetch.row_count == 12


def test_rows_pushed_across_a_page_boundary_by_new_trades_are_dropped() -> None:
    """Two trades arrive between page 1 and page 2: page 2 starts with page 1's last two rows again."""
    rows = rows_newest_first(12)
    api = FakeDataApi(rows={WALLET: rows})

    def two_new_trades(request_number: int) -> None:
        if request_number == 1:
            rows[:0] = [v1_row(101), v1_row(100)]

    api.before_page = two_new_trades
    fetch = fetch_since(api, Clock(), floor=0, page_size=5)
    fetched = [row_identity(r) for page in fetch.pages for r in page.rows]
    assert fetch.repeated_rows == 2
    assert len(fetched) == len(set(fetched)) == 12
    assert set(fetched) == {row_identity(v1_row(i)) for i in range(12)}


def test_pages_record_when_they_were_received() -> None:
    clock = Clock()
    api = FakeDataApi(rows={WALLET: rows_newest_first(8)})
    api.before_page = lambda n: clock.advance(1.5)
    fetch = fetch_since(api, clock, floor=0, page_size=5)
    assert [p.received_at for p in fetch.pages] == [
        T0 + timedelta(seconds=1.5),
        T0 + timedelta(seconds=3),
    ]


def test_history_deeper_than_the_offset_limit_is_paged_by_end_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data_api_client, "MAX_OFFSET", 10)  # the real bound is 10,000; the logic is the same
    rows = [v1_row(i // 2, transactionHash=v1_row(i)["transactionHash"]) for i in reversed(range(60))]  # 2 per s
    api = FakeDataApi(rows={WALLET: rows})
    fetch = run(api.client(Clock()).trades_since(WALLET, is_older=lambda ts: False, page_size=5))
    fetched = [row_identity(r) for page in fetch.pages for r in page.rows]
    assert sorted(fetched) == sorted(row_identity(r) for r in rows)
    assert any("end" in r for r in api.requests) and max(int(r["offset"]) for r in api.requests) <= 10
    assert not fetch.truncated


def test_a_second_holding_more_rows_than_the_offset_limit_is_reported_truncated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(data_api_client, "MAX_OFFSET", 5)
    rows = [v1_row(0, transactionHash=v1_row(i)["transactionHash"]) for i in range(40)]  # 40 fills in one second
    api = FakeDataApi(rows={WALLET: rows})
    fetch = run(api.client(Clock()).trades_since(WALLET, is_older=lambda ts: False, page_size=5))
    assert fetch.truncated and fetch.row_count < 40
