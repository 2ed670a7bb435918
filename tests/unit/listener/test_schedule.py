"""Polling order: round robin under load, one interval between polls of a wallet, one poll in flight each."""

from __future__ import annotations

import math

from copytrader.listener.schedule import WalletSchedule


def test_nothing_tracked_means_wait_forever() -> None:
    assert WalletSchedule(1.0).take(0.0) == math.inf


def test_when_every_wallet_is_overdue_the_order_is_round_robin() -> None:
    schedule = WalletSchedule(0.0)
    schedule.track(["c", "a", "b"], now=0.0)
    order = []
    for step in range(9):
        wallet = schedule.take(float(step))
        assert isinstance(wallet, str)
        order.append(wallet)
        schedule.release(wallet, float(step))
    assert order == ["a", "b", "c"] * 3


def test_a_wallet_is_polled_at_most_once_per_interval_and_never_twice_at_once() -> None:
    schedule = WalletSchedule(2.0)
    schedule.track(["a"], now=0.0)
    assert schedule.take(0.0) == "a"
    assert schedule.take(0.0) == math.inf, "a is in flight"
    schedule.release("a", 0.5)
    assert schedule.take(1.0) == 1.5
    assert schedule.take(2.5) == "a"


def test_tracking_changes_take_effect_at_once() -> None:
    schedule = WalletSchedule(5.0)
    schedule.track(["a", "b"], now=0.0)
    assert schedule.take(0.0) == "a"
    schedule.track(["b", "c"], now=1.0)
    assert schedule.wallets == {"b", "c"}
    assert schedule.take(1.0) == "b" and schedule.take(1.0) == "c"
    schedule.release("a", 2.0)  # the poll of a dropped wallet ends: it is not scheduled again
    assert schedule.wallets == {"b", "c"}
