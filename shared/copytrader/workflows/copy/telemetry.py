"""The copy workflow's own metrics: one per outcome and per reason code (`count`), and the copy-gap figures of every
copy (detection and decision latency, our price vs the whale's, fill ratio).

The copy-gap arithmetic is a pure function (`copy_gap`); `emit_copy_gap` turns it into EMF metrics. The logger,
the metrics object and the step runner every handler shares are in `copytrader.runtime.observability`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from copytrader.workflows.copy.branches import is_routed


def count(metrics: Metrics, step: str, outcome: str, reason: str | None, *, stopped: bool = False) -> None:
    """`<step>_<outcome>` always, plus `<step>_reason_<reason>` for skips and rejections.

    A stop (`stopped`: the copy ends at this step) whose reason the state machine does not route to a named
    branch (`copytrader.workflows.copy.branches`) also counts `<step>_unrouted_reason`: it ended in the default
    branch, StoppedOtherReason, and the mapping needs the new reason.
    """
    metrics.add_metric(name=f"{step}_{outcome.lower()}", unit=MetricUnit.Count, value=1)
    if reason:
        metrics.add_metric(name=f"{step}_reason_{reason}", unit=MetricUnit.Count, value=1)
    if stopped and not is_routed(reason):
        metrics.add_metric(name=f"{step}_unrouted_reason", unit=MetricUnit.Count, value=1)


# ------------------------------------------------------------------------------------------ copy gap
@dataclass(frozen=True)
class CopyGap:
    """How far one copy trailed the whale's fill (ANCHORS §9). None where the outcome does not define it.

    detection_latency_ms = listener `detected_at` - the whale's fill time (`trade.timestamp`: block time for
        chain logs and RTDS/Data API times in seconds, so it is exact to about a second);
    decision_latency_ms  = the moment execute starts placing (before signing and the ledger entry) - `detected_at`:
        the queue, score, size and risk_check;
    price_gap            = our average fill price - the whale's price for a BUY, the whale's - ours for a SELL,
        in pUSD per share: positive means we paid more (or received less) than the whale, i.e. adverse;
    price_gap_ticks      = price_gap / the market's tick size;
    fill_ratio           = filled shares / ordered shares (0 when nothing filled).
    The price gap needs a fill; the fill ratio needs a definite answer (FILLED, PARTIAL, UNFILLED).
    """

    detection_latency_ms: float
    decision_latency_ms: float
    price_gap: Decimal | None
    price_gap_ticks: Decimal | None
    fill_ratio: Decimal | None


_DEFINITE = frozenset({"FILLED", "PARTIAL", "UNFILLED"})


def copy_gap(
    *,
    side: str,
    whale_price: Decimal,
    whale_filled_at: datetime,
    detected_at: datetime,
    order_sent_at: datetime,
    ordered_shares: Decimal,
    tick_size: Decimal,
    status: str,
    filled_shares: Decimal,
    avg_price: Decimal | None,
) -> CopyGap:
    """The copy-gap figures of one execution (see `CopyGap` for the formulas and signs)."""
    price_gap = price_gap_ticks = None
    if avg_price is not None and filled_shares > 0:
        price_gap = avg_price - whale_price if side == "BUY" else whale_price - avg_price
        price_gap_ticks = price_gap / tick_size if tick_size > 0 else None
    fill_ratio = None
    if status in _DEFINITE and ordered_shares > 0:
        fill_ratio = filled_shares / ordered_shares
    return CopyGap(
        detection_latency_ms=(detected_at - whale_filled_at).total_seconds() * 1000,
        decision_latency_ms=(order_sent_at - detected_at).total_seconds() * 1000,
        price_gap=price_gap,
        price_gap_ticks=price_gap_ticks,
        fill_ratio=fill_ratio,
    )


def copy_gap_of(state: dict[str, Any], result: dict[str, Any], order_sent_at: datetime) -> CopyGap | None:
    """The copy gap of an execute step's input `state` and output `result` (JSON, as in the state machine).

    None for a redelivery (`duplicate`: its copy was measured when it ran) and for a state without a trade.
    """
    trade = (state.get("signal") or {}).get("trade")
    if result.get("duplicate") or not trade:
        return None
    order = state["order"]
    avg_price = result.get("avg_price")
    return copy_gap(
        side=str(order.get("side") or trade["side"]),
        whale_price=Decimal(str(trade["price"])),
        whale_filled_at=_utc(trade["timestamp"]),
        detected_at=_utc(trade["detected_at"]),
        order_sent_at=order_sent_at,
        ordered_shares=Decimal(str(order["shares"])),
        tick_size=Decimal(str(order.get("tick_size") or "0.01")),
        status=str(result["status"]),
        filled_shares=Decimal(str(result.get("filled_shares") or 0)),
        avg_price=Decimal(str(avg_price)) if avg_price not in (None, "") else None,
    )


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def emit_copy_gap(metrics: Metrics, gap: CopyGap) -> dict[str, float]:
    """Add the copy gap as EMF metrics (`copy_*`); returns what was added (also for the log line)."""
    values: dict[str, float] = {
        "copy_detection_latency_ms": gap.detection_latency_ms,
        "copy_decision_latency_ms": gap.decision_latency_ms,
    }
    if gap.price_gap is not None:
        values["copy_price_gap_pusd"] = float(gap.price_gap)
    if gap.price_gap_ticks is not None:
        values["copy_price_gap_ticks"] = float(gap.price_gap_ticks)
    if gap.fill_ratio is not None:
        values["copy_fill_ratio"] = float(gap.fill_ratio)
    for name, value in values.items():
        unit = MetricUnit.Milliseconds if name.endswith("_ms") else MetricUnit.NoUnit
        metrics.add_metric(name=name, unit=unit, value=value)
    return values
