"""High-water marks: the floor, same-second rows, the overlap window, trimming, and stores that never rewind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.listener.high_water import HighWaterMark, InMemoryHighWaterMarks
from copytrader.listener.high_water_dynamo import mark_from_item, mark_to_item
from copytrader.store.observed_tables import WatermarkModel


def test_a_fresh_mark_takes_rows_from_its_cutoff_on() -> None:
    mark = HighWaterMark.starting_at(1000)
    assert mark.is_behind(999) and not mark.is_behind(1000)
    assert mark.is_new("a", 1000) and not mark.is_new("a", 999)


def test_without_overlap_the_mark_is_the_newest_second_and_its_rows() -> None:
    mark = HighWaterMark.starting_at(1000).advanced([("a", 1005), ("b", 1005), ("c", 1003)], overlap_s=0)
    assert (mark.floor, mark.newest) == (1005, 1005)
    assert dict(mark.recent) == {"a": 1005, "b": 1005}
    assert not mark.is_new("a", 1005) and not mark.is_new("c", 1003)
    assert mark.is_new("d", 1005), "a fill of the newest second indexed after the last poll is still new"


def test_overlap_keeps_late_indexed_older_rows_new_and_recognises_the_rest() -> None:
    mark = HighWaterMark.starting_at(1000).advanced([("a", 1040), ("b", 1025), ("c", 1005)], overlap_s=30)
    assert (mark.floor, mark.newest) == (1010, 1040)
    assert set(mark.recent) == {"a", "b"}
    assert mark.is_new("late", 1015) and not mark.is_new("b", 1025) and mark.is_behind(1009)


def test_the_floor_never_moves_back() -> None:
    mark = HighWaterMark.starting_at(1000).advanced([("a", 1003)], overlap_s=60)
    assert mark.floor == 1000 and mark.newest == 1003
    assert mark.advanced([], overlap_s=60) == mark


def test_trimming_recent_raises_the_floor_to_the_oldest_kept_row() -> None:
    observed = [(f"k{i}", 1000 + i) for i in range(10)]
    mark = HighWaterMark.starting_at(1000).advanced(observed, overlap_s=100, max_recent=4)
    assert mark.floor == 1006 and sorted(mark.recent) == ["k6", "k7", "k8", "k9"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(990, 1100)), max_size=8), max_size=6),
    st.integers(0, 60),
)
def test_rows_observed_at_or_after_the_floor_are_never_new_again(
    polls: list[list[tuple[str, int]]], overlap_s: int
) -> None:
    mark = HighWaterMark.starting_at(1000)
    for rows in polls:
        observed = [(f"{letter}@{ts}", ts) for letter, ts in rows]  # an identity has one timestamp
        previous = mark
        mark = mark.advanced(observed, overlap_s)
        assert mark.floor >= previous.floor and mark.newest >= previous.newest
        for identity, ts in observed:
            if ts >= previous.floor:
                assert not mark.is_new(identity, ts)


def test_in_memory_store_round_trips_and_never_rewinds() -> None:
    store = InMemoryHighWaterMarks()
    ahead = HighWaterMark.starting_at(1000).advanced([("a", 1050)], overlap_s=0)
    behind = HighWaterMark.starting_at(1000).advanced([("b", 1020)], overlap_s=0)

    async def scenario() -> HighWaterMark | None:
        await store.save({"w": ahead})
        await store.save({"w": behind})  # a lagging second listener
        return await store.load("w")

    assert asyncio.run(scenario()) == ahead
    assert asyncio.run(store.load("unknown")) is None


def test_dynamodb_item_round_trip() -> None:
    mark = HighWaterMark.starting_at(1000).advanced([("a" * 32, 1050), ("row:" + "b" * 32, 1040)], overlap_s=30)
    item = mark_to_item("0xw", mark, datetime(2026, 11, 2, tzinfo=UTC))
    raw = item.serialize()  # what DynamoDB stores
    assert raw["wallet"] == {"S": "0xw"} and raw["newest"] == {"N": "1050"}
    assert raw["recent"]["M"]["a" * 32] == {"N": "1050"}
    assert mark_from_item(WatermarkModel.from_raw_data(raw)) == mark
    assert mark_from_item(item) == mark
    empty = mark_to_item("0xw", HighWaterMark.starting_at(5), datetime(2026, 11, 2, tzinfo=UTC))
    assert mark_from_item(empty) == HighWaterMark.starting_at(5)
