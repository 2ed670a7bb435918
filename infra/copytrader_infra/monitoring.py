"""The dashboard and the alarms; every alarm notifies the alert topic.

The pipeline alarms watch for a trade that was not handled: parked in the dead-letter queue, an execution
that failed or timed out, a step that raised, or a queue whose oldest trade is older than a copy is worth.
Missing data (no traffic) is not an alarm there. An execution whose outcome is UNKNOWN (the venue call ended
ambiguously: timeout, 5xx, dropped connection) alarms at once: its reservation is held and nothing retries it
until reconciliation has asked the venue.

The pipeline widgets show where copies end, one line per named branch of the state machine (the sum of the
`<step>_reason_<code>` metrics of its reasons, `copytrader.workflows.copy.branches`), reasons the state machine does not
route yet (`<step>_unrouted_reason`), the execution outcomes, and the copy gap per copy
(`copytrader.workflows.copy.telemetry`: detection and decision latency, our price vs the whale's, fill ratio).

The listener alarms watch its eyes (metrics from `copytrader.listener.telemetry`, dimension
service=listener): a live feed stale for three minutes in a row (the RTDS silent stall, a dead RPC
socket); a live feed missing trades that another source saw; and, when the task is meant to run, the
process's heartbeat missing (there, missing data is the alarm).

The scoring alarms watch the daily workflow: an execution that failed (a step raised after its retries, or
more evidence batches failed than tolerated) or timed out. A tolerated failed batch is not an alarm; it shows
on the dashboard (`whales_evidence_error`) and in the run's universe.json.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from constructs import Construct

from copytrader.listener.telemetry import metric_name
from copytrader.model import Source
from copytrader.runtime.env import METRICS_NAMESPACE, SERVICE_NAME
from copytrader.workflows.copy.branches import OUTCOME_BRANCHES, STOP_BRANCHES
from copytrader_infra.alerts import Alerts
from copytrader_infra.constants import TRADE_QUEUE_MAX_AGE, TRADE_QUEUE_MAX_RECEIVES
from copytrader_infra.listener import Listener
from copytrader_infra.messaging import Messaging
from copytrader_infra.naming import pascal_case
from copytrader_infra.pipeline import CopyPipeline
from copytrader_infra.scoring import WhaleScoring

_MINUTE = Duration.minutes(1)
_FIVE_MINUTES = Duration.minutes(5)
UNRESOLVED_ALARM_S = 1800  # an order UNKNOWN for half an hour after a sweep needs a person
_HOUR = Duration.hours(1)
_DAY = Duration.days(1)
_WIDTH = 12  # two widgets per dashboard row
LIVE_FEEDS = (Source.CHAIN.value, Source.RTDS.value)
ALL_FEEDS = (*LIVE_FEEDS, Source.DATA_API.value)
STALE_MINUTES = 3
MISSES_PER_15_MINUTES = 5


def listener_metric(name: str, statistic: str, period: Duration = _MINUTE) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": "listener"},
        statistic=statistic,
        period=period,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        messaging: Messaging,
        pipeline: CopyPipeline,
        listener: Listener,
        alerts: Alerts,
        listener_running: bool,
        scoring: WhaleScoring | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cloudwatch_actions.SnsAction(alerts.topic)
        queue, dead_letters = messaging.trade_queue, messaging.dead_letter_queue
        machine = pipeline.state_machine
        functions = {name: step.function for name, step in pipeline.functions.items()}

        queue_depth = queue.metric_approximate_number_of_messages_visible(period=_MINUTE, statistic="Maximum")
        queue_in_flight = queue.metric_approximate_number_of_messages_not_visible(period=_MINUTE, statistic="Maximum")
        queue_age = queue.metric_approximate_age_of_oldest_message(period=_MINUTE, statistic="Maximum")
        parked = dead_letters.metric_approximate_number_of_messages_visible(period=_MINUTE, statistic="Maximum")
        succeeded = machine.metric_succeeded(period=_MINUTE, statistic="Sum")
        failed = machine.metric_failed(period=_MINUTE, statistic="Sum")
        timed_out = machine.metric_timed_out(period=_MINUTE, statistic="Sum")
        errors = {name: fn.metric_errors(period=_MINUTE, statistic="Sum") for name, fn in functions.items()}

        alarms = [
            self._alarm(
                "DeadLetterQueueNotEmpty",
                parked,
                1,
                f"A whale trade failed the copy pipeline {TRADE_QUEUE_MAX_RECEIVES} times and was set aside.",
            ),
            self._alarm("PipelineExecutionsFailed", failed, 1, "A copy pipeline execution failed."),
            self._alarm("PipelineExecutionsTimedOut", timed_out, 1, "A copy pipeline execution timed out."),
            self._alarm(
                "ExecutionOutcomeUnknown",
                pipeline_metric("execute_unknown", labelled=False),
                1,
                "An order's outcome is UNKNOWN (timeout, 5xx or dropped connection at the venue): its reservation "
                "is held and nothing retries it until reconciliation against the venue's orders and trades.",
            ),
            self._alarm(
                "OrdersUnresolved",
                pipeline_metric(
                    "reconcile_oldest_unresolved_s", statistic="Maximum", period=_FIVE_MINUTES, labelled=False
                ),
                UNRESOLVED_ALARM_S,
                f"An order has been UNKNOWN for over {UNRESOLVED_ALARM_S // 60} minutes after a reconcile sweep: the "
                "venue still shows it working (a resting GTC/GTD) or cannot be asked; its reservation is held.",
            ),
            self._alarm(
                "ReconcileSweepErrors",
                pipeline_metric("reconcile_error", period=_FIVE_MINUTES, labelled=False),
                1,
                "The reconcile sweep raised (venue or ledger unreachable): UNKNOWN orders are not being settled.",
                periods=2,
            ),
            self._alarm(
                "TradeQueueBacklog",
                queue_age,
                TRADE_QUEUE_MAX_AGE.to_seconds(),
                f"The oldest queued whale trade is over {TRADE_QUEUE_MAX_AGE.to_seconds()} s old.",
            ),
            *(
                self._alarm(f"{pascal_case(name)}Errors", metric, 1, f"The {name} function raised an error.")
                for name, metric in errors.items()
            ),
            *self._listener_alarms(listener_running),
            *(self._scoring_alarms(scoring) if scoring is not None else []),
        ]

        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(6))
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
                    [machine.metric_time(period=_MINUTE, statistic=stat, label=stat) for stat in ("p50", "p99")],
                ),
                _graph("Lambda errors", [metric.with_(label=name) for name, metric in errors.items()]),
            ),
            (
                _graph(
                    "Lambda duration p99 (ms)",
                    [fn.metric_duration(period=_MINUTE, statistic="p99", label=name) for name, fn in functions.items()],
                ),
                _graph(
                    "Lambda throttles",
                    [
                        fn.metric_throttles(period=_MINUTE, statistic="Sum", label=name)
                        for name, fn in functions.items()
                    ],
                ),
            ),
            (
                _graph(
                    "Listener utilization (%)",
                    [
                        listener.service.metric_cpu_utilization(period=_MINUTE),
                        listener.service.metric_memory_utilization(period=_MINUTE),
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
        if scoring is not None:
            rows.append(_scoring_widgets(scoring))
        for row in rows:
            dashboard.add_widgets(*row)

    def _scoring_alarms(self, scoring: WhaleScoring) -> list[cloudwatch.Alarm]:
        machine = scoring.state_machine
        return [
            self._alarm(
                "ScoringExecutionsFailed",
                machine.metric_failed(period=_HOUR, statistic="Sum"),
                1,
                "The daily whale scoring failed: whale statuses were not updated (see the execution's history).",
            ),
            self._alarm(
                "ScoringExecutionsTimedOut",
                machine.metric_timed_out(period=_HOUR, statistic="Sum"),
                1,
                "The daily whale scoring timed out: whale statuses were not updated.",
            ),
        ]

    def _listener_alarms(self, running: bool) -> list[cloudwatch.Alarm]:
        alarms = []
        for feed in LIVE_FEEDS:
            alarms.append(
                self._alarm(
                    f"Listener{pascal_case(feed)}Stale",
                    listener_metric(metric_name(feed, "stale"), "Maximum"),
                    1,
                    f"The {feed} feed has been down or silent for {STALE_MINUTES} minutes; "
                    "the Data API poller is standing in at full speed.",
                    periods=STALE_MINUTES,
                )
            )
            alarms.append(
                self._alarm(
                    f"Listener{pascal_case(feed)}Misses",
                    listener_metric(metric_name(feed, "missed"), "Sum", Duration.minutes(15)),
                    MISSES_PER_15_MINUTES,
                    f"The {feed} feed missed at least {MISSES_PER_15_MINUTES} whale trades in 15 minutes that "
                    "another source reported.",
                )
            )
        if running:
            alarms.append(
                self._alarm(
                    "ListenerHeartbeatMissing",
                    listener_metric(metric_name("heartbeat"), "Sum"),
                    1,
                    "The listener reported no heartbeat for 3 minutes: no whale trade is being seen.",
                    periods=3,
                    comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    missing=cloudwatch.TreatMissingData.BREACHING,
                )
            )
        return alarms

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        description: str,
        *,
        periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            treat_missing_data=missing,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm


def pipeline_metric(
    name: str, statistic: str = "Sum", period: Duration = _MINUTE, *, labelled: bool = True
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


def branch_expression(branch: str, period: Duration = _MINUTE) -> cloudwatch.MathExpression:
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


def scoring_metric(name: str, statistic: str = "Sum", period: Duration = _DAY) -> cloudwatch.Metric:
    """A scoring step's own metric (copytrader.workflows.scoring.telemetry): the same namespace and dimension as the
    pipeline's, summed per day by default."""
    return pipeline_metric(name, statistic, period)


def _scoring_widgets(scoring: WhaleScoring) -> tuple[cloudwatch.GraphWidget, cloudwatch.GraphWidget]:
    machine = scoring.state_machine
    return (
        _graph(
            "Whale scoring: executions and failed evidence batches (per day)",
            [
                machine.metric_succeeded(period=_DAY, statistic="Sum"),
                machine.metric_failed(period=_DAY, statistic="Sum"),
                machine.metric_timed_out(period=_DAY, statistic="Sum"),
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
