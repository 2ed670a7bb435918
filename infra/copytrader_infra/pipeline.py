"""The copy pipeline: trade queue -> EventBridge Pipe -> Express state machine (score -> size -> risk_check -> execute).

The state machine's definition is `copytrader/workflows/copy/definition.asl.json`, shared with local mode;
CDK only fills its `${...FunctionArn}` placeholders. The pipe reads one message at a time (FIFO order
within a market) and waits for the Express execution to finish (REQUEST_RESPONSE): a failed execution
leaves the message on the queue to be received again, and after three receives it moves to the
dead-letter queue. Pipes always send a JSON array of records to Step Functions, so the definition starts
with a Map over `$` and the pipe needs no input template.
"""

from __future__ import annotations

import jsii
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from copytrader.runtime.env import ALERT_TOPIC_ARN, SETTINGS_SSM, VENUE_SECRET_ARN
from copytrader.settings import ENV_PREFIX, Mode
from copytrader.workflows import COPY
from copytrader_infra.alerts import Alerts
from copytrader_infra.configuration import Configuration
from copytrader_infra.constants import LOG_RETENTION
from copytrader_infra.credentials import Credentials
from copytrader_infra.functions import PIPELINE_FUNCTIONS, FunctionSpec, PipelineFunction
from copytrader_infra.layers import PipelineLayers
from copytrader_infra.messaging import Messaging
from copytrader_infra.nag import acknowledge
from copytrader_infra.naming import pascal_case
from copytrader_infra.roles import service_role
from copytrader_infra.state_machines import asl_state_machine
from copytrader_infra.storage import Access, Storage

RECONCILE_EVERY = Duration.minutes(5)
RECONCILE_LIMIT = 100  # entries per sweep (copytrader.workflows.copy.sweep caps it at 1,000)
# The settings' `mode` as an environment variable, which overrides the settings parameter (copytrader.settings)
MODE_ENV = f"{ENV_PREFIX}MODE"


class CopyPipeline(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        messaging: Messaging,
        alerts: Alerts,
        credentials: Credentials,
        configuration: Configuration,
        layers: PipelineLayers,
        mode: Mode = Mode.PAPER,
    ) -> None:
        super().__init__(scope, construct_id)
        self._mode = mode
        self._storage = storage
        self._alerts = alerts
        self._credentials = credentials
        self._configuration = configuration
        self._layers = layers
        declared = {spec.name for spec in PIPELINE_FUNCTIONS}
        if declared != set(COPY.steps):
            raise ValueError(f"functions {sorted(declared)} do not match the ASL's {dict(COPY.functions)}")
        self.functions = {spec.name: self._function(spec) for spec in PIPELINE_FUNCTIONS}
        self.state_machine = self._state_machine()
        self.pipe = self._pipe(messaging.trade_queue)
        self.reconcile_schedule = self._reconcile_schedule()

    def _function(self, spec: FunctionSpec) -> PipelineFunction:
        return wired_function(
            self,
            pascal_case(spec.name),
            spec,
            storage=self._storage,
            configuration=self._configuration,
            alerts=self._alerts,
            layers=self._layers,
            mode=self._mode,
            credentials=self._credentials,
        )

    def _state_machine(self) -> sfn.StateMachine:
        # The ASL's Task states name each function's unqualified ARN; exactly those are granted (no `:*` for every
        # version).
        state_machine = asl_state_machine(
            self,
            workflow=COPY,
            log_name="copy-pipeline",
            machine_type=sfn.StateMachineType.EXPRESS,
            substitutions={
                placeholder: self.functions[name].invoke_arn for placeholder, name in COPY.functions.items()
            },
            invokes=[step.invoke_arn for step in self.functions.values()],
        )
        acknowledge(
            state_machine,
            "AwsSolutions-SF2",
            "X-Ray is off for the whole hot path (see functions.py): tracing costs ~230-280 ms per cold start "
            "against a sub-second decision target; per-state timing is in the ALL-level execution log.",
        )
        return state_machine

    def _reconcile_schedule(self) -> scheduler.Schedule:
        """Every RECONCILE_EVERY, the execute function settles UNKNOWN and PENDING orders from the venue
        (`copytrader.workflows.copy.sweep`). It runs in execute because execute's role is the venue secret's one reader;
        the sweep never places an order. The schedule's role may invoke that function and nothing else. Every five
        minutes it also keeps an execute environment in use, so the first copy after a quiet spell rarely starts one."""
        role = service_role(
            self, "ReconcileScheduleRole", "scheduler.amazonaws.com", "copytrader reconcile sweep schedule"
        )
        execute = self.functions["execute"].function
        role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[execute.function_arn]))
        return scheduler.Schedule(
            self,
            "ReconcileSweep",
            description="copytrader: settle UNKNOWN orders from the venue's orders and trades",
            schedule=scheduler.ScheduleExpression.rate(RECONCILE_EVERY),
            target=_InvokeOnly(
                execute.function_arn,
                role,
                payload=scheduler.ScheduleTargetInput.from_object({"sweep": {"limit": RECONCILE_LIMIT}}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_retry_attempts=0,  # the next sweep is minutes away; a failed one shows as reconcile_error
                    maximum_event_age_in_seconds=int(Duration.minutes(5).to_seconds()),
                ),
            ),
        )

    def _pipe(self, queue: sqs.IQueue) -> pipes.CfnPipe:
        role = service_role(self, "PipeRole", "pipes.amazonaws.com", "copytrader trade queue -> copy pipeline pipe")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                resources=[queue.queue_arn],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["states:StartSyncExecution"], resources=[self.state_machine.state_machine_arn])
        )
        # Errors only (a target that failed, a role that lacks a right): no trade payloads in the logs
        log_group = logs.LogGroup(self, "PipeLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        log_group.grant_write(role)
        pipe = pipes.CfnPipe(
            self,
            "Pipe",
            description="copytrader: whale trades into the copy pipeline, one at a time per market",
            role_arn=role.role_arn,
            source=queue.queue_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                sqs_queue_parameters=pipes.CfnPipe.PipeSourceSqsQueueParametersProperty(batch_size=1)
            ),
            target=self.state_machine.state_machine_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                step_function_state_machine_parameters=pipes.CfnPipe.PipeTargetStateMachineParametersProperty(
                    invocation_type="REQUEST_RESPONSE"
                )
            ),
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level="ERROR",
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=log_group.log_group_arn
                ),
            ),
        )
        pipe.node.add_dependency(role)  # the role's policy must exist before the pipe starts polling
        return pipe


@jsii.implements(scheduler.IScheduleTarget)
class _InvokeOnly:
    """A schedule target that invokes one function with the role as granted by the caller. Scheduler's `LambdaInvoke`
    target grants the role `<function>:*` (every version and alias) besides the function; this one adds nothing."""

    def __init__(
        self,
        arn: str,
        role: iam.IRole,
        *,
        payload: scheduler.ScheduleTargetInput,
        retry_policy: scheduler.CfnSchedule.RetryPolicyProperty,
    ) -> None:
        self._config = scheduler.ScheduleTargetConfig(arn=arn, role=role, input=payload, retry_policy=retry_policy)

    def bind(self, _schedule: scheduler.ISchedule) -> scheduler.ScheduleTargetConfig:
        return self._config


def wired_function(
    scope: Construct,
    construct_id: str,
    spec: FunctionSpec,
    *,
    storage: Storage,
    configuration: Configuration,
    alerts: Alerts,
    layers: PipelineLayers,
    mode: Mode,
    credentials: Credentials | None = None,
    purpose: str = "copy pipeline",
) -> PipelineFunction:
    """A function on the pipeline's layers with what its spec says it touches: its tables (environment and grants),
    the settings, the venue secret, the alert topic, the SDK's layer; and a paper deployment's pin to paper mode."""
    environment = {
        SETTINGS_SSM: configuration.settings.parameter_name,
        **storage.environment(*spec.reads, *spec.writes),
    }
    if spec.reads_venue_secret:
        if credentials is None:
            raise ValueError(f"{spec.name} reads the venue secret: pass the credentials")
        environment[VENUE_SECRET_ARN] = credentials.venue_secret.secret_arn
    if spec.publishes_alerts:
        environment[ALERT_TOPIC_ARN] = alerts.topic.topic_arn
    if mode is Mode.PAPER:
        # A paper deployment stays paper whatever the settings parameter says: live trading needs a deployment
        # made for it (`-c copytrader:mode=live`), which is refused outside a region Polymarket allows.
        environment[MODE_ENV] = Mode.PAPER.value
    step = PipelineFunction(
        scope, construct_id, spec=spec, layers=layers.for_spec(spec), environment=environment, purpose=purpose
    )
    storage.grant(step.role, Access.READ, *spec.reads)
    storage.grant(step.role, Access.READ_WRITE, *spec.writes)
    configuration.settings.grant_read(step.role)
    if spec.reads_venue_secret and credentials is not None:
        credentials.restrict_venue_secret_to(step.role)
    if spec.publishes_alerts:
        alerts.grant_publish(step.role)
    acknowledge(
        step.function,
        "AwsSolutions-L1",
        "python3.12 on purpose: the dependency layer's wheels are resolved for cp312 and its bytecode "
        "compiled by python3.12; a runtime upgrade is a deliberate change of both (constants.py).",
    )
    return step
