"""The alarms, every one notifying the alert topic, and the dashboard beside them (`copytrader_infra.dashboard`).

The pipeline alarms watch for a trade that was not handled: parked in the dead-letter queue, an execution
that failed or timed out, a step that raised, or a queue whose oldest trade is older than a copy is worth.
Missing data (no traffic) is not an alarm there. An execution whose outcome is UNKNOWN (the venue call ended
ambiguously: timeout, 5xx, dropped connection) alarms at once: its reservation is held and nothing retries it
until reconciliation has asked the venue.

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
from copytrader_infra.alerts import Alerts
from copytrader_infra.books import Books
from copytrader_infra.constants import TRADE_QUEUE_MAX_AGE, TRADE_QUEUE_MAX_RECEIVES
from copytrader_infra.dashboard import add_dashboard
from copytrader_infra.exits import Exits
from copytrader_infra.listener import Listener
from copytrader_infra.messaging import Messaging
from copytrader_infra.metrics import LIVE_FEEDS, PipelineMetrics, listener_metric, pipeline_metric
from copytrader_infra.naming import pascal_case
from copytrader_infra.pipeline import CopyPipeline
from copytrader_infra.scoring import WhaleScoring

_FIVE_MINUTES = Duration.minutes(5)
UNRESOLVED_ALARM_S = 1800  # an order UNKNOWN for half an hour after a sweep needs a person
_HOUR = Duration.hours(1)
STALE_MINUTES = 3
MISSES_PER_15_MINUTES = 5


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
        books: Books | None = None,
        exits: Exits | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._action = cloudwatch_actions.SnsAction(alerts.topic)
        metrics = PipelineMetrics.of(messaging, pipeline)
        queue_age, parked, failed, timed_out, errors = (
            metrics.queue_age,
            metrics.parked,
            metrics.failed,
            metrics.timed_out,
            metrics.errors,
        )

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
            *(self._books_alarms(books) if books is not None else []),
            *(self._exits_alarms(exits) if exits is not None else []),
        ]

        add_dashboard(self, messaging=messaging, pipeline=pipeline, listener=listener, alarms=alarms, scoring=scoring)

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

    def _books_alarms(self, books: Books) -> list[cloudwatch.Alarm]:
        return [
            self._alarm(
                "BooksAuditViolations",
                pipeline_metric("books_audit_violations", statistic="Maximum", period=_HOUR, labelled=False),
                1,
                "The hourly audit found an account invariant broken (cash, shares, reservations, exposure or a "
                "day's P&L do not add up): run `copytrader audit` for the figures before trading on.",
            ),
            self._alarm(
                "BooksAuditMissing",
                pipeline_metric("books_audit_checks", period=_HOUR, labelled=False),
                1,
                "No audit of the books has run for two hours (the books workflow is failing or not scheduled).",
                periods=2,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._alarm(
                "BooksExecutionsFailed",
                books.state_machine.metric_failed(period=_HOUR, statistic="Sum"),
                1,
                "The hourly books workflow failed: resolved markets may be unsettled (see the execution's history).",
            ),
            self._alarm(
                "BooksVenueSyncDifferences",
                pipeline_metric("books_venue_sync_differences", statistic="Maximum", period=_HOUR, labelled=False),
                1,
                "Our positions or cash differ from the venue's or the chain's: `copytrader audit --venue` shows the "
                "figures. Nothing was corrected.",
            ),
            self._alarm(
                "BooksVenueSyncFailed",
                pipeline_metric("books_venue_sync_failed", statistic="Maximum", period=_HOUR, labelled=False),
                1,
                "The venue sync could not read the venue or the chain completely (an HTTP error, a missing page, "
                "data:null while we hold positions): it was not taken as 'no positions'.",
            ),
            self._alarm(
                "BooksRedemptionBurnedNothing",
                pipeline_metric(
                    "books_settle_redemption_burned_nothing", statistic="Maximum", period=_HOUR, labelled=False
                ),
                1,
                "A live redemption transaction succeeded but burned no tokens: nothing was booked, the position is "
                "kept (see the alert's transaction hash).",
            ),
        ]

    def _exits_alarms(self, exits: Exits) -> list[cloudwatch.Alarm]:
        return [
            self._alarm(
                "ExitsScanFailing",
                exits.scan.function.metric_errors(period=_FIVE_MINUTES, statistic="Sum"),
                1,
                "The every-minute exits scan raised twice in a row: time exits, culled-whale exits and the stops' "
                "safety net are not running (the listener's fast stops still fire on price updates).",
                periods=2,
            ),
            self._alarm(
                "ExitsScanMissing",
                pipeline_metric("exits_scan_positions", statistic="SampleCount", period=_FIVE_MINUTES, labelled=False),
                1,
                "No exits scan has completed for ten minutes (the schedule or the function is not running).",
                periods=2,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
            ),
            self._alarm(
                "ExitsPublishFailed",
                pipeline_metric("exits_scan_publish_failed", period=_FIVE_MINUTES, labelled=False),
                1,
                "The exits scan could not send exit signals to the copy queue (they are sent again next minute).",
                periods=2,
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
