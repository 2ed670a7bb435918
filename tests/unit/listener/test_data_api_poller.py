"""`DataApiPoller`: lookback for new wallets, marks across polls and restarts, gaps, rejects, round robin."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest

from copytrader.listener.data_api_poller import DataApiPoller, DataApiPollerSettings
from copytrader.listener.high_water import HighWaterMark, InMemoryHighWaterMarks
from copytrader.polymarket.data_api.rows import row_content_identity
from tests.support.builders import hex_id
from tests.support.clock import Clock
from tests.support.listener_fakes import EPOCH0, OTHER_WALLET, WALLET, FakeDataApi, RecordingSink, v1_row

SETTINGS = DataApiPollerSettings(page_size=4, poll_interval_s=1.0, initial_lookback_s=60, overlap_s=0)


def make(
    api: FakeDataApi,
    clock: Clock,
    store: InMemoryHighWaterMarks | None = None,
    attempts: int = 4,
    **overrides: Any,
) -> DataApiPoller:
    settings = DataApiPollerSettings(**{**SETTINGS.__dict__, **overrides})
    return DataApiPoller(
        api.client(clock, attempts=attempts),
        store or InMemoryHighWaterMarks(),
        settings,
        wall=clock,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
    )


def poll(poller: DataApiPoller, sink: RecordingSink, wallet: str = WALLET) -> list[str]:
    return [t.tx_hash for t in asyncio.run(poller.poll_wallet(wallet, sink))]


def tx(n: int) -> str:
    return hex_id(f"tx:{n}", 32)


def feed(*offsets: int) -> list[dict[str, Any]]:
    """Rows at EPOCH0 + offset (one fill each), newest first as the API serves them."""
    return [v1_row(n) for n in sorted(offsets, reverse=True)]


def test_a_new_wallet_starts_at_the_initial_lookback_and_gets_trades_oldest_first() -> None:
    clock = Clock()  # the wall clock reads EPOCH0
    api = FakeDataApi(rows={WALLET: feed(-200, -61, -60, -30, -1)})
    sink = RecordingSink()
    assert poll(make(api, clock), sink) == [tx(-60), tx(-30), tx(-1)]
    assert [t.timestamp.timestamp() for t in sink.accepted] == [EPOCH0 - 60, EPOCH0 - 30, EPOCH0 - 1]
    assert all(t.detected_at == clock() for t in sink.accepted)


def test_later_polls_hand_over_only_new_rows_including_late_rows_of_the_newest_second() -> None:
    clock = Clock()
    rows = feed(-10, -5)
    api = FakeDataApi(rows={WALLET: rows})
    poller, sink = make(api, clock), RecordingSink()
    assert poll(poller, sink) == [tx(-10), tx(-5)]
    assert poll(poller, sink) == []
    late_same_second = v1_row(-5, transactionHash=hex_id("tx:late", 32))
    rows[:0] = [v1_row(3), v1_row(2), late_same_second]
    assert poll(poller, sink) == [hex_id("tx:late", 32), tx(2), tx(3)]
    assert poll(poller, sink) == []
    mark = poller.mark(WALLET)
    assert mark is not None and mark.floor == EPOCH0 + 3 and set(mark.recent) == {row_content_identity(v1_row(3))}


def test_overlap_window_picks_up_rows_indexed_late_with_older_timestamps() -> None:
    clock = Clock()
    rows = feed(-10, 20)
    api = FakeDataApi(rows={WALLET: rows})
    poller, sink = make(api, clock, overlap_s=30), RecordingSink()
    assert poll(poller, sink) == [tx(-10), tx(20)]
    rows.insert(1, v1_row(5))  # indexed after the poll that saw the newer row at +20
    assert poll(poller, sink) == [tx(5)]
    assert poll(poller, sink) == []


def test_a_restart_resumes_from_the_checkpointed_mark_and_backfills_the_gap_across_pages() -> None:
    clock = Clock()
    rows = feed(-20, -10)
    api, store = FakeDataApi(rows={WALLET: rows}), InMemoryHighWaterMarks()
    first, sink = make(api, clock, store), RecordingSink()
    assert poll(first, sink) == [tx(-20), tx(-10)]
    asyncio.run(first.checkpoint())
    rows[:0] = feed(*range(1, 11))  # ten trades while no listener ran: three pages of four
    clock.advance(3600)  # an hour later: the initial lookback alone would miss all of them
    second = make(api, clock, store)
    requests_before = len(api.requests)
    assert poll(second, sink) == [tx(n) for n in range(1, 11)]
    assert len(api.requests) - requests_before == 3


def test_a_failed_hand_over_keeps_the_mark_so_the_next_poll_offers_the_trades_again() -> None:
    clock = Clock()
    api = FakeDataApi(rows={WALLET: feed(-3, -2)})
    poller, sink = make(api, clock), RecordingSink()
    sink.fail = True
    with pytest.raises(RuntimeError, match="claim failed"):
        poll(poller, sink)
    assert poller.mark(WALLET) == HighWaterMark.starting_at(EPOCH0 - 60)
    sink.fail = False
    assert poll(poller, sink) == [tx(-3), tx(-2)]


def test_rejected_rows_are_counted_once_by_reason_and_wallet_mismatches_are_not_trades() -> None:
    clock = Clock()
    api = FakeDataApi(
        rows={
            WALLET: [
                v1_row(-1, price=1.0),
                v1_row(-2, transactionHash=None),
                v1_row(-3, proxyWallet=OTHER_WALLET),
                v1_row(-4),
            ]
        }
    )
    poller, sink = make(api, clock), RecordingSink()
    assert poll(poller, sink) == [tx(-4)]
    assert poll(poller, sink) == []
    rejected = {k: v for k, v in sink.counters.items() if ".reject." in k}
    assert rejected == {
        "data-api.reject.price_out_of_range": 1,
        "data-api.reject.missing_tx_hash": 1,
        "data-api.reject.wallet_mismatch": 1,
    }
    # each reject keeps its raw row for inspection
    kept = {reason: raw for _, reason, raw in sink.rejected}
    assert kept["price_out_of_range"]["row"]["price"] == 1.0


@pytest.mark.parametrize("timestamp", [-5, 10**30, 10**400, float("inf"), float("nan"), "99999999999999999999", "x"])
def test_a_row_whose_timestamp_cannot_be_a_time_is_counted_and_dropped_and_the_poll_goes_on(timestamp: Any) -> None:
    clock = Clock()
    api = FakeDataApi(rows={WALLET: [v1_row(-1, timestamp=timestamp), v1_row(-2)]})
    poller, sink = make(api, clock), RecordingSink()
    assert poll(poller, sink) == [tx(-2)]
    assert sink.counters["data-api.reject.malformed_timestamp"] == 1
    assert sink.rejected[0][2]["row"]["transactionHash"] == tx(-1)


def test_legs_of_one_fill_on_one_page_become_one_trade() -> None:
    clock = Clock()
    api = FakeDataApi(rows={WALLET: [v1_row(-1, size=10, price=0.5), v1_row(-1, size=30, price=0.6)]})
    poller, sink = make(api, clock), RecordingSink()
    assert poll(poller, sink) == [tx(-1)]
    assert (sink.accepted[0].size, sink.accepted[0].price) == (Decimal(40), Decimal("0.575000"))


def test_legs_of_one_fill_split_by_a_page_boundary_still_become_one_trade() -> None:
    """Page size 4, newest first: three single fills, then the first leg of a fill end page one and its second leg
    opens page two. Deduplicating pages by the bare trade key would drop that leg (30 of the fill's 40 shares)."""
    clock = Clock()
    legs = [v1_row(-5, size=10, price=0.5), v1_row(-5, size=30, price=0.6)]
    api = FakeDataApi(rows={WALLET: [*feed(-2, -3, -4), *legs]})
    poller, sink = make(api, clock), RecordingSink()
    assert poll(poller, sink) == [tx(-5), tx(-4), tx(-3), tx(-2)]
    assert (sink.accepted[0].size, sink.accepted[0].price) == (Decimal(40), Decimal("0.575000"))
    assert len(api.requests) == 2


class FailingStore(InMemoryHighWaterMarks):
    def __init__(self) -> None:
        super().__init__()
        self.fail = True

    async def save(self, marks: Mapping[str, HighWaterMark]) -> None:
        if self.fail:
            raise RuntimeError("dynamodb unavailable")
        await super().save(marks)


def test_checkpoint_saves_moved_marks_and_keeps_them_when_the_store_fails() -> None:
    clock = Clock()
    store = FailingStore()
    api = FakeDataApi(rows={WALLET: feed(-1), OTHER_WALLET: []})
    poller, sink = make(api, clock, store), RecordingSink()
    poll(poller, sink)
    with pytest.raises(RuntimeError, match="dynamodb unavailable"):
        asyncio.run(poller.checkpoint())
    assert store.marks == {}
    store.fail = False
    asyncio.run(poller.checkpoint())
    assert store.marks == {WALLET: poller.mark(WALLET)}


def test_run_polls_every_tracked_wallet_round_robin_and_survives_feed_errors() -> None:
    clock = Clock()
    wallets = [hex_id(f"wallet:{i}", 20) for i in range(5)]
    api = FakeDataApi(rows={w: [] for w in wallets}, responders={3: lambda: httpx.Response(500)})
    poller = make(api, clock, attempts=1, poll_interval_s=0.5, concurrency=2)  # one failed request fails a poll
    poller.track(frozenset(wallets))
    sink, stop = RecordingSink(), asyncio.Event()

    async def scenario() -> None:
        task = asyncio.create_task(poller.run(sink, stop))
        while min(poller.polls[w] for w in wallets) < 3:
            await asyncio.sleep(0)
        poller.track(frozenset(wallets[:2]))  # the watch list shrinks without a restart
        seen = {w: poller.polls[w] for w in wallets}
        while min(poller.polls[w] for w in wallets[:2]) < seen[wallets[0]] + 3:
            await asyncio.sleep(0)
        stop.set()
        await task
        assert all(poller.polls[w] <= seen[w] + 1 for w in wallets[2:]), "dropped wallets are no longer polled"

    asyncio.run(scenario())
    assert sink.counters["data-api.poll_error.transient"] == 1
    users = [r["user"] for r in api.requests[:10]]
    assert sorted(users[:5]) == sorted(wallets), "the first five polls cover every wallet once"


def test_only_moved_or_new_marks_are_written_and_a_quiet_wallets_cutoff_survives_a_restart() -> None:
    clock = Clock()
    rows: list[dict[str, Any]] = []
    api, store = FakeDataApi(rows={WALLET: rows}), InMemoryHighWaterMarks()
    poller, sink = make(api, clock, store), RecordingSink()
    poll(poller, sink)  # a quiet wallet: nothing to hand over, but its starting cutoff is persisted
    asyncio.run(poller.checkpoint())
    assert store.marks == {WALLET: HighWaterMark.starting_at(EPOCH0 - 60)}
    saved = store.marks[WALLET]
    poll(poller, sink)
    store.marks.clear()
    asyncio.run(poller.checkpoint())
    assert store.marks == {}, "an unchanged mark is not written again"
    store.marks[WALLET] = saved

    rows.append(v1_row(600))  # the wallet trades while no listener runs; the restart comes an hour later
    clock.advance(3600)
    assert poll(make(api, clock, store), sink) == [tx(600)]


def test_the_poller_reconciles_slowly_while_a_stream_is_healthy_and_falls_back_at_full_speed() -> None:
    # GIVEN two wallets, a healthy stream, polling every 1 s as fallback and every 30 s as reconciliation
    clock, api = Clock(), FakeDataApi(rows={WALLET: [], OTHER_WALLET: []})
    streams = {"down": False}
    poller = DataApiPoller(
        api.client(clock),
        InMemoryHighWaterMarks(),
        DataApiPollerSettings(**{**SETTINGS.__dict__, "reconcile_interval_s": 30.0}),
        wall=clock,
        monotonic=clock.monotonic,
        sleep=clock.sleep,
        streams_down=lambda: streams["down"],
    )
    poller.track(frozenset({WALLET, OTHER_WALLET}))
    sink, stop = RecordingSink(), asyncio.Event()

    async def scenario() -> tuple[int, int]:
        task = asyncio.create_task(poller.run(sink, stop))
        while clock.monotonic() < 90:  # 90 simulated seconds with the stream healthy
            await asyncio.sleep(0)
        slow = poller.polls[WALLET]
        streams["down"] = True  # WHEN every stream goes down
        mark = clock.monotonic()
        while clock.monotonic() < mark + 10:
            await asyncio.sleep(0)
        fast = poller.polls[WALLET] - slow
        stop.set()
        await task
        return slow, fast

    slow, fast = asyncio.run(scenario())
    # THEN about one poll per 30 s while healthy, about one per second in fallback, and it switched once
    assert 3 <= slow <= 5 and 8 <= fast <= 12
    assert poller.fallback and sink.counters["data-api.fallback_on"] == 1
