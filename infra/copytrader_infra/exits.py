"""The exits job: one function EventBridge Scheduler invokes every minute (copytrader.workflows.exits.steps.scan).

    EventBridge Scheduler (rate 1 minute) -> exits_scan -> exit signals on the copy FIFO queue -> the copy pipeline

Who may do what:
- exits_scan: read our positions and write only their bid high-water mark (a conditional update), read the risk
  items (each whale's part of a position) and write the account's marked equity and the halts it trips
  (`settlement.mark_account`, conditional updates), read the price marks (the listener's), the orders' status
  index (a SELL not yet settled), the whales table (culled or not); the markets table (the Gamma read-through
  cache, which writes back); send messages to the copy queue (nothing else on it). Calls Gamma and the CLOB's
  public book (a missing or stale mark). Never reads the venue secret, never places an order: the copy pipeline
  does, once per signal.
- the schedule's role: invoke that function, nothing else.
Metrics: `exits_scan_reason_<exit reason>` per signal published, `exits_scan_signals`, `exits_scan_publish_failed`,
`exits_scan_unavailable`, `exits_scan_marks_from_book`, `exits_scan_stale_marks`, `exits_scan_error`. Alarms
(`monitoring`): the scan failing, no scan for ten minutes, signals the queue refused.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from copytrader.runtime.env import TRADE_QUEUE_URL
from copytrader.settings import Mode
from copytrader.workflows import EXITS
from copytrader_infra.alerts import Alerts
from copytrader_infra.configuration import Configuration
from copytrader_infra.functions import FunctionSpec
from copytrader_infra.layers import PipelineLayers
from copytrader_infra.messaging import Messaging
from copytrader_infra.pipeline import _InvokeOnly, wired_function
from copytrader_infra.roles import service_role
from copytrader_infra.storage import Storage

SCAN_EVERY = Duration.minutes(1)

SCAN = FunctionSpec(
    "scan",
    memory_mb=1024,
    timeout=Duration.seconds(50),  # under the minute, so two scans never overlap for long
    reads=("orders", "whales", "marks"),
    writes=("positions", "markets", "risk"),
    publishes_alerts=True,  # a halt tripped by marked equity alerts once
    workflow=EXITS,
)


class Exits(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        messaging: Messaging,
        alerts: Alerts,
        configuration: Configuration,
        layers: PipelineLayers,
        mode: Mode = Mode.PAPER,
    ) -> None:
        super().__init__(scope, construct_id)
        self.scan = wired_function(
            self,
            "ExitsScan",
            SCAN,
            storage=storage,
            configuration=configuration,
            alerts=alerts,
            layers=layers,
            mode=mode,
            purpose="exits",
        )
        function = self.scan.function
        function.add_environment(TRADE_QUEUE_URL, messaging.trade_queue.queue_url)
        messaging.trade_queue.grant_send_messages(self.scan.role)
        role = service_role(self, "ScheduleRole", "scheduler.amazonaws.com", "copytrader exits scan schedule")
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function.function_arn]))
        self.schedule = scheduler.Schedule(
            self,
            "EveryMinute",
            description="copytrader: evaluate the exit rules on every open position and publish the exits",
            schedule=scheduler.ScheduleExpression.rate(SCAN_EVERY),
            target=_InvokeOnly(
                function.function_arn,
                role,
                payload=scheduler.ScheduleTargetInput.from_object({}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=0,  # the next scan is a minute away
                    maximum_event_age_in_seconds=60,
                ),
            ),
        )
