"""The books workflow: settle resolved markets, then audit the account, hourly (EventBridge Scheduler).

The definition is `copytrader/workflows/books/definition.asl.json`, shared with local mode; CDK fills its two
function ARNs.

    EventBridge Scheduler (hourly, minute 17) -> SettleResolved -> Audit -> books_audit_violations (alarmed)

Who may do what:
- books_settle: read our positions; the markets table (the Gamma read-through cache, which writes back); write
  the risk items, positions and ledger (a redemption is one transaction across them); publish alerts (the
  breaker and drawdown halt it may trip). Calls Gamma.
- books_audit: read the risk, positions, ledger and orders tables (a Scan of the risk table's account items, the
  orders' status index); the markets cache as above. Writes no money table. Calls Gamma.
- the state machine: invoke the two functions, write its logs. The schedule's role: start it, nothing else.
Live redemption (on chain) is not here: in live mode a resolved position is counted `awaiting_redemption`.
"""

from __future__ import annotations

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from copytrader.runtime.env import ALERT_TOPIC_ARN, SETTINGS_SSM
from copytrader.settings import Mode
from copytrader.workflows import BOOKS
from copytrader_infra.alerts import Alerts
from copytrader_infra.configuration import Configuration
from copytrader_infra.functions import FunctionSpec, PipelineFunction
from copytrader_infra.layers import PipelineLayers
from copytrader_infra.nag import acknowledge
from copytrader_infra.naming import pascal_case
from copytrader_infra.pipeline import MODE_ENV
from copytrader_infra.roles import service_role
from copytrader_infra.state_machines import asl_state_machine
from copytrader_infra.storage import Access, Storage

SCHEDULE_MINUTE = "17"  # hourly, away from the top of the hour when markets tend to resolve in bulk

BOOKS_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "settle",
        memory_mb=512,
        timeout=Duration.seconds(120),
        reads=("positions",),
        writes=("markets", "risk", "ledger", "positions"),
        publishes_alerts=True,
        workflow=BOOKS,
    ),
    FunctionSpec(
        "audit",
        memory_mb=512,
        timeout=Duration.seconds(120),
        reads=("risk", "positions", "ledger", "orders"),
        writes=("markets",),
        workflow=BOOKS,
    ),
)


class Books(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        alerts: Alerts,
        configuration: Configuration,
        layers: PipelineLayers,
        mode: Mode = Mode.PAPER,
    ) -> None:
        super().__init__(scope, construct_id)
        self._mode = mode
        declared = {spec.name for spec in BOOKS_FUNCTIONS}
        if declared != set(BOOKS.steps):
            raise ValueError(f"functions {sorted(declared)} do not match the ASL's {dict(BOOKS.functions)}")
        self.functions = {
            spec.name: self._function(spec, storage, alerts, configuration, layers) for spec in BOOKS_FUNCTIONS
        }
        self.state_machine = asl_state_machine(
            self,
            workflow=BOOKS,
            log_name="books",
            machine_type=sfn.StateMachineType.STANDARD,
            substitutions={p: self.functions[n].function.function_arn for p, n in BOOKS.functions.items()},
            invokes=[step.function.function_arn for step in self.functions.values()],
        )
        acknowledge(
            self.state_machine,
            "AwsSolutions-SF2",
            "X-Ray is off as on the other workflows: the layers carry no X-Ray SDK; per-state timing is in the "
            "ALL-level execution log and the steps' own duration metrics.",
        )
        self.schedule = self._schedule()

    def _function(
        self,
        spec: FunctionSpec,
        storage: Storage,
        alerts: Alerts,
        configuration: Configuration,
        layers: PipelineLayers,
    ) -> PipelineFunction:
        environment = {
            SETTINGS_SSM: configuration.settings.parameter_name,
            **storage.environment(*spec.reads, *spec.writes),
        }
        if spec.publishes_alerts:
            environment[ALERT_TOPIC_ARN] = alerts.topic.topic_arn
        if self._mode is Mode.PAPER:  # as the copy functions (pipeline.py): a paper deployment books paper only
            environment[MODE_ENV] = Mode.PAPER.value
        step = PipelineFunction(
            self,
            pascal_case(f"books_{spec.name}"),
            spec=spec,
            layers=layers.all,
            environment=environment,
            purpose="books",
        )
        storage.grant(step.role, Access.READ, *spec.reads)
        storage.grant(step.role, Access.READ_WRITE, *spec.writes)
        configuration.settings.grant_read(step.role)
        if spec.publishes_alerts:
            alerts.grant_publish(step.role)
        acknowledge(
            step.function,
            "AwsSolutions-L1",
            "python3.12 on purpose: the dependency layer's wheels are resolved for cp312 and its bytecode "
            "compiled by python3.12; a runtime upgrade is a deliberate change of both (constants.py).",
        )
        return step

    def _schedule(self) -> scheduler.Schedule:
        role = service_role(self, "ScheduleRole", "scheduler.amazonaws.com", "copytrader hourly books schedule")
        return scheduler.Schedule(
            self,
            "Hourly",
            description=f"copytrader: settle resolved markets and audit the books hourly at minute {SCHEDULE_MINUTE}",
            schedule=scheduler.ScheduleExpression.cron(minute=SCHEDULE_MINUTE, time_zone=TimeZone.ETC_UTC),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                input=scheduler.ScheduleTargetInput.from_object({}),
                role=role,
                retry_attempts=3,
                max_event_age=Duration.minutes(30),
            ),
        )
