"""Legs of one (transaction, wallet, token, side) are one trade: exact sums, and the pending-legs rules
that decide when a trade is complete and keep a fill from being emitted twice."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from copytrader.listener.chain_legs import Added, PendingLegs, Withdrawn, trade_price, whale_trade
from copytrader.model import Side, Source
from copytrader.polymarket.chain import CTF_EXCHANGE, DecodedFill, SummedFill, sum_legs
from copytrader.polymarket.tokens import TokenInfo

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
WHALE = "0x" + "ab" * 20
TOKEN = "1234567890123456789012345678901234567890"
TX = "0x" + "11" * 32
CONDITION = "0x" + "cc" * 32


def leg(
    shares: str, pusd: str, *, index: int = 0, block: int = 100, tx: str = TX, side: Side = Side.BUY, fee: str = "0"
) -> DecodedFill:
    return DecodedFill(
        exchange=CTF_EXCHANGE,
        order_hash="0x" + f"{index:064x}",
        maker=WHALE,
        taker=CTF_EXCHANGE,
        side=side,
        token_id=TOKEN,
        shares=Decimal(shares),
        pusd=Decimal(pusd),
        fee=Decimal(fee),
        block_number=block,
        block_hash="0x" + f"{block:064x}",
        tx_hash=tx,
        log_index=index,
    )


# ------------------------------------------------------------------------------------------------ sum_legs


def test_legs_sum_exactly_and_price_is_total_pusd_over_total_shares() -> None:
    summed = sum_legs([leg("7.575758", "5", index=3, fee="0.085"), leg("10", "6.6", index=1, fee="0.1122")])
    assert summed == SummedFill(
        tx_hash=TX,
        wallet=WHALE,
        token_id=TOKEN,
        side=Side.BUY,
        block_number=100,
        first_log_index=1,
        shares=Decimal("17.575758"),
        pusd=Decimal("11.6"),
        fee=Decimal("0.1972"),
        legs=2,
    )
    assert summed.price == Decimal("11.6") / Decimal("17.575758")
    assert summed.key == leg("1", "0.5").key


def test_legs_of_different_trades_are_not_summed() -> None:
    with pytest.raises(ValueError, match="different trades"):
        sum_legs([leg("1", "0.5"), leg("1", "0.5", side=Side.SELL)])
    with pytest.raises(ValueError, match="no legs"):
        sum_legs([])


def test_trade_price_rounds_to_a_micro_and_stays_inside_the_open_interval() -> None:
    assert trade_price(sum_legs([leg("7.575758", "5")])) == Decimal("0.660000")
    assert trade_price(sum_legs([leg("1000000", "0.000001")])) == Decimal("0.000001")
    assert trade_price(sum_legs([leg("1000000", "999999.9999")])) == Decimal("0.999999")


def test_a_group_becomes_one_canonical_chain_trade() -> None:
    pending = PendingLegs()
    pending.add(leg("6", "3", index=1, fee="0.075"), {"raw": 1}, T0, 0.0)
    pending.add(leg("4", "2.4", index=2, fee="0.0432"), {"raw": 2}, T0 + timedelta(seconds=1), 0.1)
    [group] = pending.groups.values()
    block_time = T0 - timedelta(seconds=2)
    trade = whale_trade(group, TokenInfo(TOKEN, CONDITION, "No", 1), block_time)
    assert (trade.wallet, trade.side, trade.token_id, trade.tx_hash) == (WHALE, Side.BUY, TOKEN, TX)
    assert trade.size == Decimal(10) and trade.price == Decimal("0.54")
    assert (trade.condition_id, trade.outcome, trade.outcome_index) == (CONDITION, "No", 1)
    assert trade.timestamp == block_time and trade.detected_at == T0 and trade.source is Source.CHAIN
    assert trade.key == group.key and group.raw == [{"raw": 1}, {"raw": 2}]
    assert trade.fee == Decimal("0.1182")  # the whale's taker fee, summed over its legs


# ------------------------------------------------------------------------------------------------ PendingLegs


def test_legs_of_one_trade_wait_in_one_group_until_a_header_at_or_after_their_block() -> None:
    pending = PendingLegs()
    assert pending.add(leg("1", "0.5", index=0), None, T0, 0.0) is Added.ADDED
    assert pending.add(leg("2", "1", index=1), None, T0, 0.0) is Added.ADDED
    assert pending.add(leg("3", "1", index=2, tx="0x" + "22" * 32), None, T0, 0.0) is Added.ADDED
    assert pending.add(leg("1", "0.5", index=0, block=101, tx="0x" + "33" * 32), None, T0, 0.0) is Added.ADDED
    assert pending.through(99, 0.0) == []
    ready = pending.through(100, 0.0)
    assert [len(g.legs) for g in ready] == [2, 1] and {g.block_number for g in ready} == {100}
    assert pending.oldest_block == 100
    pending.settle(ready, emitted=True)
    assert pending.oldest_block == 101


def test_a_block_is_flushed_once_it_got_no_new_leg_for_the_delay() -> None:
    pending = PendingLegs()
    pending.add(leg("1", "0.5", index=0), None, T0, 10.0)
    assert pending.next_due(0.25) == 10.25
    pending.add(leg("1", "0.5", index=1), None, T0, 10.2)  # a second leg restarts the wait for its block
    assert pending.quiet(10.3, 0.25) == [] and pending.next_due(0.25) == pytest.approx(10.45)
    [group] = pending.quiet(10.45, 0.25)
    assert len(group.legs) == 2


def test_a_log_seen_twice_is_a_duplicate_and_a_leg_after_its_trade_was_emitted_is_late() -> None:
    pending = PendingLegs()
    first = leg("1", "0.5", index=0)
    assert pending.add(first, None, T0, 0.0) is Added.ADDED
    assert pending.add(first, None, T0, 0.0) is Added.DUPLICATE  # e.g. the subscription, then eth_getLogs
    pending.settle(pending.through(100, 0.0), emitted=True)
    assert pending.add(first, None, T0, 1.0) is Added.DUPLICATE
    assert pending.add(leg("1", "0.5", index=5), None, T0, 1.0) is Added.LATE
    assert pending.groups == {}


def test_a_rejected_group_is_not_remembered_as_emitted() -> None:
    pending = PendingLegs()
    pending.add(leg("1", "0.5", index=0), None, T0, 0.0)
    pending.settle(pending.through(100, 0.0), emitted=False)
    assert pending.add(leg("1", "0.5", index=1), None, T0, 0.0) is Added.ADDED


def test_a_reorg_withdraws_a_pending_leg_and_reports_one_already_emitted() -> None:
    pending = PendingLegs()
    kept, undone = leg("1", "0.5", index=0), leg("2", "1", index=1)
    pending.add(kept, None, T0, 0.0)
    pending.add(undone, None, T0, 0.0)
    assert pending.withdraw(replace(undone, removed=True)) is Withdrawn.PENDING
    [group] = pending.groups.values()
    assert group.legs == [kept]
    assert pending.withdraw(kept) is Withdrawn.PENDING and pending.groups == {} and pending.next_due(0.1) is None
    assert pending.withdraw(kept) is Withdrawn.UNKNOWN
    pending.add(kept, None, T0, 0.0)  # forgotten by the withdrawal: the re-included log is new again
    pending.settle(pending.through(100, 0.0), emitted=True)
    assert pending.withdraw(kept) is Withdrawn.EMITTED


def test_postponed_groups_wait_for_their_retry_time() -> None:
    pending = PendingLegs()
    pending.add(leg("1", "0.5"), None, T0, 0.0)
    pending.postpone(pending.through(100, 0.0), until=5.0)
    assert pending.through(100, 4.0) == [] and pending.quiet(4.0, 0.25) == []
    assert pending.next_due(0.25) == 5.0
    assert len(pending.through(100, 5.0)) == 1


def test_memory_of_old_blocks_is_forgotten() -> None:
    pending = PendingLegs()
    old = leg("1", "0.5", block=10)
    pending.add(old, None, T0, 0.0)
    pending.settle(pending.through(10, 0.0), emitted=True)
    pending.forget_below(10)
    assert pending.add(old, None, T0, 0.0) is Added.DUPLICATE
    pending.forget_below(11)
    assert pending.add(old, None, T0, 0.0) is Added.ADDED
