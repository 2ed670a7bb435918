"""The dashboard and the alarms; every alarm notifies the alert topic.

The alarms watch for a trade that was not handled: parked in the dead-letter queue, an execution that
failed or timed out, a step that raised, or a queue whose oldest trade is older than a copy is worth.
Missing data (no traffic) is not an alarm.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from constructs import Construct

from copytrader_infra.alerts import Alerts
from copytrader_infra.constants import TRADE_QUEUE_MAX_AGE, TRADE_QUEUE_MAX_RECEIVES
from copytrader_infra.listener import Listener
from copytrader_infra.messaging import Messaging
from copytrader_infra.naming import pascal_case
from copytrader_infra.pipeline import CopyPipeline

_MINUTE = Duration.minutes(1)
_WIDTH = 12  # two widgets per dashboard row


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
                "TradeQueueBacklog",
                queue_age,
                TRADE_QUEUE_MAX_AGE.to_seconds(),
                f"The oldest queued whale trade is over {TRADE_QUEUE_MAX_AGE.to_seconds()} s old.",
            ),
            *(
                self._alarm(f"{pascal_case(name)}Errors", metric, 1, f"The {name} function raised an error.")
                for name, metric in errors.items()
            ),
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
        ]
        for row in rows:
            dashboard.add_widgets(*row)

    def _alarm(
        self, construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm


def _graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=metrics, width=_WIDTH)
