"""The metrics the alarms and the dashboard read beyond AWS's own: the listener's and the handlers' EMF metrics.

The listener's (`copytrader.listener.telemetry`) carry the dimension service=listener; the pipeline handlers'
(`copytrader.workflows.copy.telemetry`) and the scoring steps' (`copytrader.workflows.scoring.telemetry`) carry
the dimension service=<SERVICE_NAME>, all in one namespace. A named branch of the copy state machine is the sum
of the `<step>_reason_<code>` counts of its reasons (`copytrader.workflows.copy.branches`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

from copytrader.model import Source
from copytrader.runtime.env import METRICS_NAMESPACE, SERVICE_NAME
from copytrader.workflows.copy.branches import STOP_BRANCHES

if TYPE_CHECKING:
    from copytrader_infra.messaging import Messaging
    from copytrader_infra.pipeline import CopyPipeline

MINUTE = Duration.minutes(1)
DAY = Duration.days(1)
LIVE_FEEDS = (Source.CHAIN.value, Source.RTDS.value)
ALL_FEEDS = (*LIVE_FEEDS, Source.DATA_API.value)


def listener_metric(name: str, statistic: str, period: Duration = MINUTE) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": "listener"},
        statistic=statistic,
        period=period,
    )


def pipeline_metric(
    name: str, statistic: str = "Sum", period: Duration = MINUTE, *, labelled: bool = True
) -> cloudwatch.Metric:
    """A pipeline handler's own EMF metric (copytrader.workflows.copy.telemetry: Powertools, dimension service).

    Unlabelled for an alarm: a label makes CloudFormation describe the alarm's metric as a metric query.
    """
    label = (name if statistic == "Sum" else f"{name} {statistic}") if labelled else None
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=period,
        label=label,
    )


# which handlers count the reasons of a kind of stop: skips come from score or size, rejections from risk_check
# (whose metrics are named risk_*); a reason counted by neither shows up as <step>_unrouted_reason
_SKIP_STEPS, _REJECT_STEPS = ("score", "size"), ("risk",)


def branch_expression(branch: str, period: Duration = MINUTE) -> cloudwatch.MathExpression:
    """Copies that ended in `branch` per period: the sum of its reasons' `<step>_reason_<code>` counts."""
    steps = _REJECT_STEPS if branch.startswith("Rejected") else _SKIP_STEPS
    names = [
        f"{step}_reason_{reason.value}" for reason, kind in STOP_BRANCHES.items() if kind == branch for step in steps
    ]
    # ids are unique across a graph: prefix them with the branch
    using = {f"{branch.lower()}_{i}": pipeline_metric(name, period=period) for i, name in enumerate(names)}
    return cloudwatch.MathExpression(
        expression=" + ".join(f"FILL({key}, 0)" for key in using), using_metrics=using, label=branch, period=period
    )


def scoring_metric(name: str, statistic: str = "Sum", period: Duration = DAY) -> cloudwatch.Metric:
    """A scoring step's own metric (copytrader.workflows.scoring.telemetry): the same namespace and dimension as the
    pipeline's, summed per day by default."""
    return pipeline_metric(name, statistic, period)


@dataclass(frozen=True)
class PipelineMetrics:
    """AWS's own per-minute metrics of the copy pipeline: the trade queue, its dead-letter queue, the state machine's
    executions and each function's errors (read by the alarms and the dashboard alike)."""

    queue_depth: cloudwatch.IMetric
    queue_in_flight: cloudwatch.IMetric
    queue_age: cloudwatch.IMetric
    parked: cloudwatch.IMetric
    succeeded: cloudwatch.IMetric
    failed: cloudwatch.IMetric
    timed_out: cloudwatch.IMetric
    errors: dict[str, cloudwatch.IMetric]

    @classmethod
    def of(cls, messaging: Messaging, pipeline: CopyPipeline) -> PipelineMetrics:
        queue, dead_letters, machine = messaging.trade_queue, messaging.dead_letter_queue, pipeline.state_machine
        return cls(
            queue_depth=queue.metric_approximate_number_of_messages_visible(period=MINUTE, statistic="Maximum"),
            queue_in_flight=queue.metric_approximate_number_of_messages_not_visible(period=MINUTE, statistic="Maximum"),
            queue_age=queue.metric_approximate_age_of_oldest_message(period=MINUTE, statistic="Maximum"),
            parked=dead_letters.metric_approximate_number_of_messages_visible(period=MINUTE, statistic="Maximum"),
            succeeded=machine.metric_succeeded(period=MINUTE, statistic="Sum"),
            failed=machine.metric_failed(period=MINUTE, statistic="Sum"),
            timed_out=machine.metric_timed_out(period=MINUTE, statistic="Sum"),
            errors={
                name: step.function.metric_errors(period=MINUTE, statistic="Sum")
                for name, step in pipeline.functions.items()
            },
        )


# marked equity (copytrader.risk.marking), reported by every books run (hourly) as books_settle_<name>
HOUR = Duration.hours(1)
MARKED_EQUITY_METRICS = ("books_settle_equity_marked", "books_settle_unrealized_pnl")
MARK_QUALITY_METRICS = ("books_settle_stale_marks", "books_settle_unmarked_positions")


def marked_metric(name: str, statistic: str = "Maximum", period: Duration = HOUR) -> cloudwatch.Metric:
    """A marked-equity figure of the books run (`MARKED_EQUITY_METRICS`, `MARK_QUALITY_METRICS`)."""
    return pipeline_metric(name, statistic, period)
