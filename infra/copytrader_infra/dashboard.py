"""The dashboard: the trade queues, the copy pipeline, its Lambdas, the listener's feeds and the alarms' status.

The pipeline widgets show where copies end, one line per named branch of the state machine (the sum of the
`<step>_reason_<code>` metrics of its reasons, `copytrader.workflows.copy.branches`), reasons the state machine does not
route yet (`<step>_unrouted_reason`), the execution outcomes, and the copy gap per copy
(`copytrader.workflows.copy.telemetry`: detection and decision latency, our price vs the whale's, fill ratio).
The account widgets show marked equity, unrealized P&L and how many marks were stale (hourly, from the books run).
The scoring widgets show the daily workflow's executions, its failed evidence batches (a tolerated failure is not an
alarm: `whales_evidence_error`) and how many wallets each step kept.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from copytrader.listener.telemetry import metric_name
from copytrader.workflows.copy.branches import OUTCOME_BRANCHES, STOP_BRANCHES
from copytrader_infra.listener import Listener
from copytrader_infra.messaging import Messaging
from copytrader_infra.metrics import (
    ALL_FEEDS,
    DAY,
    MARK_QUALITY_METRICS,
    MARKED_EQUITY_METRICS,
    MINUTE,
    PipelineMetrics,
    branch_expression,
    listener_metric,
    marked_metric,
    pipeline_metric,
    scoring_metric,
)
from copytrader_infra.pipeline import CopyPipeline
from copytrader_infra.scoring import WhaleScoring

_WIDTH = 12  # two widgets per dashboard row


def add_dashboard(
    scope: Construct,
    *,
    messaging: Messaging,
    pipeline: CopyPipeline,
    listener: Listener,
    alarms: list[cloudwatch.Alarm],
    scoring: WhaleScoring | None = None,
) -> cloudwatch.Dashboard:
    """The dashboard (construct id "Dashboard" under `scope`), its widgets two to a row."""
    m = PipelineMetrics.of(messaging, pipeline)
    machine = pipeline.state_machine
    functions = {name: step.function for name, step in pipeline.functions.items()}
    queue_depth, queue_in_flight, queue_age, parked = m.queue_depth, m.queue_in_flight, m.queue_age, m.parked
    succeeded, failed, timed_out, errors = m.succeeded, m.failed, m.timed_out, m.errors

    dashboard = cloudwatch.Dashboard(scope, "Dashboard", default_interval=Duration.hours(6))
    rows = [
        (
            _graph("Trade queue (messages)", [queue_depth, queue_in_flight]),
            _graph("Trade queue: oldest message (s)", [queue_age]),
        ),
        (
            _graph("Dead-letter queue (messages)", [parked]),
            _graph("Copy pipeline executions", [succeeded, failed, timed_out]),
        ),
        (
            _graph(
                "Copy pipeline duration (ms)",
                [machine.metric_time(period=MINUTE, statistic=stat, label=stat) for stat in ("p50", "p99")],
            ),
            _graph("Lambda errors", [metric.with_(label=name) for name, metric in errors.items()]),
        ),
        (
            _graph(
                "Lambda duration p99 (ms)",
                [fn.metric_duration(period=MINUTE, statistic="p99", label=name) for name, fn in functions.items()],
            ),
            _graph(
                "Lambda throttles",
                [fn.metric_throttles(period=MINUTE, statistic="Sum", label=name) for name, fn in functions.items()],
            ),
        ),
        (
            _graph(
                "Listener utilization (%)",
                [
                    listener.service.metric_cpu_utilization(period=MINUTE),
                    listener.service.metric_memory_utilization(period=MINUTE),
                ],
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=_WIDTH),
        ),
        (
            _graph(
                "Listener feeds: seconds since the last payload",
                [listener_metric(metric_name(feed, "payload_age_s"), "Maximum") for feed in ALL_FEEDS],
            ),
            _graph(
                "Listener: trades published, duplicates, rejects",
                [
                    listener_metric(metric_name(name), "Sum")
                    for name in ("published", *(f"{feed}.duplicates" for feed in ALL_FEEDS))
                ],
            ),
        ),
        (
            _graph(
                "Listener: lag behind the first source (ms, p50)",
                [listener_metric(metric_name(feed, "lag_ms"), "p50") for feed in ALL_FEEDS],
            ),
            _graph(
                "Listener: trades missed per source",
                [listener_metric(metric_name(feed, "missed"), "Sum") for feed in ALL_FEEDS],
            ),
        ),
    ]
    rows.extend(_pipeline_widgets())
    rows.append(
        (
            _graph(
                "Account: marked equity and unrealized P&L (pUSD)", [marked_metric(n) for n in MARKED_EQUITY_METRICS]
            ),
            _graph("Account: stale marks and unmarked positions", [marked_metric(n) for n in MARK_QUALITY_METRICS]),
        )
    )
    if scoring is not None:
        rows.append(_scoring_widgets(scoring))
    for row in rows:
        dashboard.add_widgets(*row)
    return dashboard


def _pipeline_widgets() -> list[tuple[cloudwatch.GraphWidget, cloudwatch.GraphWidget]]:
    period = Duration.minutes(5)
    stop_branches = list(dict.fromkeys(STOP_BRANCHES.values()))
    outcomes = {status.lower(): branch for status, branch in OUTCOME_BRANCHES.items()}
    return [
        (
            cloudwatch.GraphWidget(
                title="Copies stopped per named branch (per 5 min)",
                left=[branch_expression(branch, period) for branch in stop_branches],
                width=_WIDTH,
            ),
            _graph(
                "Execution outcomes, redeliveries, unrouted reasons (per 5 min)",
                [
                    *(
                        pipeline_metric(f"execute_{status}", period=period).with_(label=b)
                        for status, b in outcomes.items()
                    ),
                    pipeline_metric("execute_redelivered", period=period),
                    *(pipeline_metric(f"{step}_unrouted_reason", period=period) for step in ("score", "size", "risk")),
                ],
            ),
        ),
        (
            _graph(
                "Copy gap: detection and decision latency (ms)",
                [
                    pipeline_metric(name, statistic, period)
                    for name in ("copy_detection_latency_ms", "copy_decision_latency_ms")
                    for statistic in ("p50", "p99")
                ],
            ),
            _graph(
                "Copy gap: our price vs the whale's (ticks, adverse > 0) and fill ratio",
                [
                    pipeline_metric("copy_price_gap_ticks", "p50", period),
                    pipeline_metric("copy_price_gap_ticks", "p90", period),
                    pipeline_metric("copy_fill_ratio", "Average", period),
                ],
            ),
        ),
        (
            _graph(
                "Reconcile sweep: UNKNOWN orders settled, by outcome (per 5 min)",
                [
                    pipeline_metric(f"reconcile_settled_{status}", period=period)
                    for status in ("filled", "partial", "unfilled", "rejected")
                ],
            ),
            _graph(
                "Reconcile sweep: orders still unresolved, and the oldest one's age (s)",
                [
                    pipeline_metric("reconcile_unresolved", "Maximum", period),
                    pipeline_metric("reconcile_oldest_unresolved_s", "Maximum", period),
                    pipeline_metric("reconcile_error", period=period),
                ],
            ),
        ),
    ]


def _scoring_widgets(scoring: WhaleScoring) -> tuple[cloudwatch.GraphWidget, cloudwatch.GraphWidget]:
    machine = scoring.state_machine
    return (
        _graph(
            "Whale scoring: executions and failed evidence batches (per day)",
            [
                machine.metric_succeeded(period=DAY, statistic="Sum"),
                machine.metric_failed(period=DAY, statistic="Sum"),
                machine.metric_timed_out(period=DAY, statistic="Sum"),
                scoring_metric("whales_evidence_error"),
            ],
        ),
        _graph(
            "Whale scoring: candidates, scored, discovered (FDR), selected (per day)",
            [
                scoring_metric("whales_discover_candidates"),
                scoring_metric("whales_select_wallets_scored"),
                scoring_metric("whales_select_discovered"),
                scoring_metric("whales_select_selected"),
            ],
        ),
    )


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=_WIDTH)
