"""`ChainBlocks` on block headers: a head whose timestamp cannot be a time is counted and its time dropped; the
source goes on (the head still advances), instead of an OverflowError ending the connection."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from copytrader.listener.chain_blocks import ChainBlocks
from copytrader.listener.chain_rpc import Note, RpcSession
from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.polymarket.tokens import TokenResolver
from tests.support.builders import T0
from tests.support.listener_fakes import RecordingSink

HEADS = "0xheads"


def _blocks() -> ChainBlocks:
    return ChainBlocks(TokenResolver(None), ChainSourceSettings(), "node", wall=lambda: T0, monotonic=lambda: 0.0)


def _head(number: int, timestamp: object) -> Note:
    return Note(HEADS, {"number": hex(number), "timestamp": timestamp}, T0, 0.0)


def _on_head(blocks: ChainBlocks, sink: RecordingSink, note: Note) -> None:
    asyncio.run(blocks.on_note(cast(RpcSession, None), sink, note, HEADS))


@pytest.mark.parametrize(
    "timestamp",
    [
        hex(2**70),  # OverflowError in the time conversion
        hex(10**20),
        hex(253_402_300_800),  # one second past 9999-12-31T23:59:59Z
        "0xnot-hex",
        None,
    ],
)
def test_a_head_whose_timestamp_is_not_a_time_is_counted_and_the_source_goes_on(timestamp: Any) -> None:
    blocks, sink = _blocks(), RecordingSink()
    _on_head(blocks, sink, _head(100, timestamp))
    assert sink.counters["chain.heads"] == 1 and blocks.head == 100
    assert sink.counters["chain.reject.malformed_head"] == 1
    assert sink.rejected[0][2]["head"]["timestamp"] == timestamp  # the raw head is kept for inspection
    # the next good head is read as usual
    _on_head(blocks, sink, _head(101, hex(int(T0.timestamp()))))
    assert sink.counters["chain.heads"] == 2 and blocks.head == 101
    assert sink.counters["chain.reject.malformed_head"] == 1
