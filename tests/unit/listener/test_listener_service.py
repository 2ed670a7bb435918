"""`Listener`: watch-list refresh without restart, chores, graceful stop, a source that dies, and the heartbeat file."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import pytest

from copytrader.errors import SourceEnded
from copytrader.listener.outbox import Outbox
from copytrader.listener.ports import TradeSink
from copytrader.listener.service import Listener, ListenerSettings
from copytrader.model import WhaleTrade
from tests.support.clock import Clock
from tests.support.listener_fakes import FakeClaims, FakePublisher, trade

SETTINGS = ListenerSettings(
    flush_interval_s=0.1,
    refresh_interval_s=5.0,
    checkpoint_interval_s=2.0,
    stats_interval_s=10.0,
    shutdown_grace_s=0.05,
)


class ScriptedSource:
    name = "scripted"

    def __init__(
        self, batches: Sequence[Sequence[WhaleTrade]] = (), ignore_stop: bool = False, end_early: bool = False
    ):
        self.batches, self.ignore_stop, self.end_early = batches, ignore_stop, end_early
        self.tracked: list[frozenset[str]] = []
        self.checkpoints = 0

    def track(self, wallets: frozenset[str]) -> None:
        self.tracked.append(wallets)

    async def run(self, sink: TradeSink, stop: asyncio.Event) -> None:
        for batch in self.batches:
            await sink.accept(batch)
        if self.end_early:
            raise ConnectionError("feed socket closed")
        if self.ignore_stop:
            await asyncio.Event().wait()
        await stop.wait()

    async def checkpoint(self) -> None:
        self.checkpoints += 1


class ChangingWatchList:
    def __init__(self, *answers: frozenset[str] | Exception) -> None:
        self.answers = list(answers)
        self.reads = 0

    async def wallets(self) -> frozenset[str]:
        answer = self.answers[min(self.reads, len(self.answers) - 1)]
        self.reads += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


def make(source: ScriptedSource, watch: ChangingWatchList) -> tuple[Listener, FakePublisher, Clock]:
    clock, publisher = Clock(), FakePublisher()
    outbox = Outbox(FakeClaims(), publisher, wall=clock, monotonic=clock.monotonic)
    return Listener([source], outbox, watch, SETTINGS, sleep=clock.sleep), publisher, clock


async def run_until(listener: Listener, clock: Clock, seconds: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(listener.run(stop))
    while clock.monotonic() < seconds and not task.done():
        await asyncio.sleep(0)
    stop.set()
    await task


def test_the_watch_list_is_refreshed_without_a_restart_and_trades_are_flushed_on_the_tick() -> None:
    source = ScriptedSource(batches=[[trade(1), trade(2)]])
    watch = ChangingWatchList(frozenset({"0xa"}), frozenset({"0xa", "0xb"}))
    listener, publisher, clock = make(source, watch)
    asyncio.run(run_until(listener, clock, 12.0))
    assert source.tracked[0] == {"0xa"} and source.tracked[-1] == {"0xa", "0xb"}
    assert watch.reads >= 3  # first read, then every 5 s of the clock
    assert publisher.queued == [trade(1).key, trade(2).key]
    assert source.checkpoints >= 2  # on the checkpoint tick, and once more at shutdown


def test_the_first_watch_list_is_retried_until_it_can_be_read() -> None:
    source = ScriptedSource()
    listener, _, clock = make(source, ChangingWatchList(TimeoutError("dynamodb"), frozenset({"0xa"})))
    asyncio.run(run_until(listener, clock, 8.0))
    assert source.tracked[0] == {"0xa"}


def test_a_source_that_ignores_stop_is_cancelled_after_the_grace_and_the_outbox_still_drains() -> None:
    source = ScriptedSource(batches=[[trade(1)]], ignore_stop=True)
    listener, publisher, clock = make(source, ChangingWatchList(frozenset({"0xa"})))
    asyncio.run(run_until(listener, clock, 0.05))
    assert publisher.queued == [trade(1).key] and source.checkpoints >= 1


def test_a_source_that_dies_stops_the_listener_cleanly_and_the_error_surfaces() -> None:
    source = ScriptedSource(batches=[[trade(1)]], end_early=True)
    listener, publisher, clock = make(source, ChangingWatchList(frozenset({"0xa"})))
    with pytest.raises(SourceEnded) as raised:
        asyncio.run(run_until(listener, clock, 1000.0))
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert publisher.queued == [trade(1).key] and source.checkpoints >= 1


def test_a_listener_needs_a_source() -> None:
    with pytest.raises(ValueError):
        Listener([], Outbox(FakeClaims(), FakePublisher()), ChangingWatchList(frozenset()))


def test_the_running_loop_keeps_the_heartbeat_file_fresh_for_the_container_health_check(tmp_path) -> None:
    from copytrader.runtime import heartbeat

    path = tmp_path / "heartbeat"
    clock, publisher = Clock(), FakePublisher()
    settings = ListenerSettings(heartbeat_file=str(path), heartbeat_interval_s=10.0, shutdown_grace_s=0.05)
    outbox = Outbox(FakeClaims(), publisher, wall=clock, monotonic=clock.monotonic)
    listener = Listener(
        [ScriptedSource()], outbox, ChangingWatchList(frozenset({"0xa"})), settings, wall=clock, sleep=clock.sleep
    )
    asyncio.run(run_until(listener, clock, 35.0))
    # beaten at start and on every 10 s tick: never older than one interval while the loop runs
    assert heartbeat.age_s(path, clock()) is not None and heartbeat.age_s(path, clock()) <= 10.0
    assert heartbeat.healthy(path, heartbeat.STALE_AFTER_S, clock())
    assert not heartbeat.healthy(path, heartbeat.STALE_AFTER_S, clock() + timedelta(seconds=61))  # a stuck loop


def test_no_heartbeat_file_is_written_unless_one_is_configured(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = ScriptedSource()
    listener, _, clock = make(source, ChangingWatchList(frozenset({"0xa"})))
    asyncio.run(run_until(listener, clock, 35.0))
    assert list(tmp_path.iterdir()) == []
