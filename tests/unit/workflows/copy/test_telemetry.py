"""Copy-gap telemetry (pure arithmetic, then EMF metrics) and the per-reason counters of the pipeline steps."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copytrader.workflows.copy.telemetry import CopyGap, copy_gap, copy_gap_of, count, emit_copy_gap
from tests.support import builders as b

T0 = b.T0
TICK = Decimal("0.01")


class RecordingMetrics:
    """Duck-typed Powertools Metrics: keeps (name, unit, value) for each added metric."""

    def __init__(self) -> None:
        self.added: list[tuple[str, str, float]] = []

    def add_metric(self, name: str, unit: Any, value: float) -> None:
        self.added.append((name, getattr(unit, "value", unit), value))

    @property
    def names(self) -> list[str]:
        return [name for name, _, _ in self.added]


def _gap(**overrides: Any) -> CopyGap:
    fields: dict[str, Any] = {
        "side": "BUY",
        "whale_price": Decimal("0.50"),
        "whale_filled_at": T0,
        "detected_at": T0 + timedelta(milliseconds=1500),
        "order_sent_at": T0 + timedelta(milliseconds=1820),
        "ordered_shares": Decimal(100),
        "tick_size": TICK,
        "status": "FILLED",
        "filled_shares": Decimal(100),
        "avg_price": Decimal("0.515"),
    }
    fields.update(overrides)
    return copy_gap(**fields)


def test_a_buy_filled_above_the_whale_is_an_adverse_gap_in_pusd_and_ticks():
    gap = _gap()
    assert gap == CopyGap(
        detection_latency_ms=1500.0,
        decision_latency_ms=320.0,
        price_gap=Decimal("0.015"),
        price_gap_ticks=Decimal("1.5"),
        fill_ratio=Decimal(1),
    )


def test_a_sell_filled_below_the_whale_is_adverse_and_above_it_favourable():
    assert _gap(side="SELL", avg_price=Decimal("0.48")).price_gap == Decimal("0.02")
    assert _gap(side="SELL", avg_price=Decimal("0.53")).price_gap_ticks == Decimal(-3)


def test_a_partial_fill_has_its_ratio_and_an_unfilled_order_has_zero_and_no_price():
    assert _gap(status="PARTIAL", filled_shares=Decimal(40)).fill_ratio == Decimal("0.4")
    unfilled = _gap(status="UNFILLED", filled_shares=Decimal(0), avg_price=None)
    assert (unfilled.fill_ratio, unfilled.price_gap, unfilled.price_gap_ticks) == (Decimal(0), None, None)


@pytest.mark.parametrize("status", ["UNKNOWN", "REJECTED"])
def test_without_a_definite_answer_only_the_latencies_are_known(status):
    gap = _gap(status=status, filled_shares=Decimal(0), avg_price=None)
    assert (gap.detection_latency_ms, gap.decision_latency_ms) == (1500.0, 320.0)
    assert (gap.price_gap, gap.fill_ratio) == (None, None)


prices = st.integers(min_value=1, max_value=99).map(lambda n: Decimal(n) / 100)


@given(side=st.sampled_from(["BUY", "SELL"]), whale=prices, ours=prices, filled=st.integers(1, 1000))
def test_the_gap_is_adverse_exactly_when_we_traded_at_a_worse_price(side, whale, ours, filled):
    gap = _gap(
        side=side, whale_price=whale, avg_price=ours, filled_shares=Decimal(filled), ordered_shares=Decimal(1000)
    )
    worse = ours > whale if side == "BUY" else ours < whale
    assert gap.price_gap is not None and gap.price_gap_ticks is not None
    assert (gap.price_gap > 0) is worse
    assert abs(gap.price_gap) == abs(ours - whale)
    assert gap.price_gap_ticks * TICK == gap.price_gap
    assert gap.fill_ratio is not None and 0 < gap.fill_ratio <= 1


def _state(side: str = "BUY") -> dict[str, Any]:
    market = b.market("m1")
    trade = b.trade(market, side=side, price="0.50", size="200")
    return {
        "signal": {"action": "COPY", "trade": json.loads(trade.model_dump_json())},
        "order": {"action": "PLACE", "side": side, "shares": "80", "tick_size": "0.01"},
    }


def _result(**overrides: Any) -> dict[str, Any]:
    result = {"status": "PARTIAL", "filled_shares": "60", "avg_price": "0.51", "duplicate": False}
    result.update(overrides)
    return result


def test_copy_gap_of_reads_the_state_machine_state():
    state = _state()
    detected = b.trade(b.market("m1"), price="0.50", size="200").detected_at
    gap = copy_gap_of(state, _result(), detected + timedelta(milliseconds=250))
    assert gap is not None
    assert gap.decision_latency_ms == 250.0
    assert gap.price_gap == Decimal("0.01") and gap.price_gap_ticks == Decimal(1)
    assert gap.fill_ratio == Decimal("0.75")


def test_a_redelivery_or_a_state_without_a_trade_is_not_measured_again():
    assert copy_gap_of(_state(), _result(duplicate=True), T0) is None
    assert copy_gap_of({"signal": {"action": "SKIP"}, "order": {}}, _result(), T0) is None


def test_emit_copy_gap_adds_one_metric_per_known_figure_with_units():
    metrics = RecordingMetrics()
    emitted = emit_copy_gap(metrics, _gap())  # type: ignore[arg-type]
    assert metrics.added == [
        ("copy_detection_latency_ms", "Milliseconds", 1500.0),
        ("copy_decision_latency_ms", "Milliseconds", 320.0),
        ("copy_price_gap_pusd", "None", 0.015),
        ("copy_price_gap_ticks", "None", 1.5),
        ("copy_fill_ratio", "None", 1.0),
    ]
    assert emitted["copy_price_gap_ticks"] == 1.5
    unknown = RecordingMetrics()
    emit_copy_gap(unknown, _gap(status="UNKNOWN", filled_shares=Decimal(0), avg_price=None))  # type: ignore[arg-type]
    assert unknown.names == ["copy_detection_latency_ms", "copy_decision_latency_ms"]


def test_a_stop_counts_its_outcome_and_reason_and_an_unrouted_reason_is_counted_too():
    routed, unrouted, passed = RecordingMetrics(), RecordingMetrics(), RecordingMetrics()
    count(routed, "score", "SKIP", "untracked_wallet", stopped=True)  # type: ignore[arg-type]
    count(unrouted, "size", "SKIP", "a_reason_from_the_future", stopped=True)  # type: ignore[arg-type]
    count(passed, "score", "COPY", None)  # type: ignore[arg-type]
    assert routed.names == ["score_skip", "score_reason_untracked_wallet"]
    assert unrouted.names == ["size_skip", "size_reason_a_reason_from_the_future", "size_unrouted_reason"]
    assert passed.names == ["score_copy"]
