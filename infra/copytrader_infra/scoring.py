"""The daily whale-scoring workflow: its bucket, three functions, the Standard state machine and the schedule.

The definition is `copytrader/workflows/scoring/definition.asl.json`, shared with local mode; CDK only fills its
placeholders: the three function ARNs, the bucket, the alert topic, and the Distributed Map's child execution
type (EXPRESS here; local mode fills STANDARD, the only type moto's ASL grammar accepts there).

    EventBridge Scheduler (05:00 UTC) -> Discover -> Map (DISTRIBUTED, ItemReader runs/<run>/items.json,
    MaxConcurrency 5, EXPRESS children: Evidence) -> Select -> [copied set changed] Notify (SNS) -> Succeed

Who may do what (one role each; actions listed, never `s3:*`-style wildcards):
- scoring_discover: Scan the whales table (every tracked wallet is rescored), put `runs/*`, read the settings.
  Calls the Data API (leaderboards, large trades).
- scoring_evidence: get and put `cache/*`, put `runs/*`, list the bucket (so a missing cache entry reads as
  404, not 403), read the settings. Calls the Data API and Gamma. No table.
- scoring_select: Scan and BatchWriteItem on the whales table (the only writer of whale statuses), get and put
  `runs/*`, list the bucket, read the settings. Calls nothing outside AWS.
- the state machine: invoke the three functions, get `runs/*` (the ItemReader), start, describe and stop its
  own child executions, publish to the alert topic (and use its key), write its logs.
- the schedule's role: start this state machine, nothing else.
Lambda functions outside a VPC cannot be kept off the internet by IAM; which function calls out is a property
of its code, stated above.

Sizes: evidence runs numpy and scipy over up to `BATCH_SIZE` wallets' histories (2 GB: the rows of ten
wallets in memory, and 1.2 vCPU for the bootstrap); its timeout is derived from the Evidence state's Retry in the
ASL (`evidence_timeout`): every attempt plus the waits between them must end inside the 5 minutes of an Express
child, or a retry would start only to be cut off. With one retry that is 144 s, against about 95 s of fetching
for a batch on a cold cache (plan.py: 200 /trades pages at 3 requests/s, then the /activity pages). Select holds
every wallet's evidence (thousands of small records) and writes the table in batches of 25.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, TimeZone, Token, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from copytrader.runtime.env import SCORING_BUCKET, SETTINGS_SSM
from copytrader.workflows import (
    SCORING,
    SCORING_ALERT_TOPIC,
    SCORING_CHILD_EXECUTION_TYPE,
    SCORING_CHILD_EXECUTION_TYPE_AWS,
)
from copytrader.workflows import (
    SCORING_BUCKET as SCORING_BUCKET_PLACEHOLDER,
)
from copytrader.workflows.scoring import plan as workflow
from copytrader_infra.alerts import Alerts
from copytrader_infra.configuration import Configuration
from copytrader_infra.functions import FunctionSpec, PipelineFunction
from copytrader_infra.layers import PipelineLayers, ScoringLayers
from copytrader_infra.nag import acknowledge
from copytrader_infra.naming import pascal_case
from copytrader_infra.roles import service_role
from copytrader_infra.state_machines import asl_state_machine
from copytrader_infra.storage import Storage

# The schedule: daily at 05:00 UTC, after US evening markets have resolved and before European trading.
SCHEDULE_HOUR_UTC = "5"
SCHEDULE_MINUTE = "0"

EXPRESS_LIMIT_S = 300  # an Express execution (each Map child) is stopped after 5 minutes
EXPRESS_CHILD_OVERHEAD_S = 10  # the child's start and the state transitions around its one Task


def retry_worst_case(retriers: Sequence[Mapping[str, Any]]) -> tuple[int, float]:
    """(attempts, seconds waited between them) at worst under a Task's `Retry` list, with the States Language's
    defaults; each retrier counts its own errors, so the worst case takes every retrier's attempts in turn."""
    attempts, waited = 1, 0.0
    for retrier in retriers:
        retries = int(retrier.get("MaxAttempts", 3))
        interval, rate = float(retrier.get("IntervalSeconds", 1)), float(retrier.get("BackoffRate", 2.0))
        cap = retrier.get("MaxDelaySeconds")
        attempts += retries
        waited += sum(min(interval * rate**i, float(cap)) if cap else interval * rate**i for i in range(retries))
    return attempts, waited


def evidence_timeout() -> Duration:
    """The longest evidence timeout whose every attempt and wait (the ASL's Retry, the one definition) fits in the
    Express child: floor((300 - 10 - waits) / attempts) seconds."""
    evidence = SCORING.definition()["States"]["ScoreBatches"]["ItemProcessor"]["States"]["Evidence"]
    attempts, waited = retry_worst_case(evidence.get("Retry", []))
    return Duration.seconds(math.floor((EXPRESS_LIMIT_S - EXPRESS_CHILD_OVERHEAD_S - waited) / attempts))


SCORING_FUNCTION_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec("discover", memory_mb=1024, timeout=Duration.seconds(120), workflow=SCORING),
    FunctionSpec("evidence", memory_mb=2048, timeout=evidence_timeout(), workflow=SCORING),
    FunctionSpec("select", memory_mb=2048, timeout=Duration.seconds(600), workflow=SCORING),
)
WHALES_TABLE = "whales"
_GET, _PUT, _LIST = "s3:GetObject", "s3:PutObject", "s3:ListBucket"


class WhaleScoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        alerts: Alerts,
        configuration: Configuration,
        layers: PipelineLayers,
    ) -> None:
        super().__init__(scope, construct_id)
        declared = {spec.name for spec in SCORING_FUNCTION_SPECS}
        if declared != set(SCORING.steps):
            raise ValueError(f"functions {sorted(declared)} do not match the ASL's {dict(SCORING.functions)}")
        self._storage, self._configuration = storage, configuration
        self.bucket = self._bucket()
        self.layers = ScoringLayers(self, "Layers")
        base = [layers.dependencies, layers.domain]
        self.layer_sets: dict[str, list[lambda_.ILayerVersion]] = {
            "discover": [*base, self.layers.http],
            "evidence": [*base, self.layers.quant, self.layers.http],
            "select": [*base, self.layers.quant, self.layers.http],  # the engine imports the row parsers (httpx)
        }
        self.functions = {spec.name: self._function(spec) for spec in SCORING_FUNCTION_SPECS}
        self._grant_functions()
        self.state_machine = self._state_machine(alerts)
        self.schedule = self._schedule()

    # ---------------------------------------------------------------------------------------- bucket
    def _bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            # Everything here is derived data: run outputs are rebuilt by the next run, the cache from the public
            # API. Versions would keep every daily overwrite of every cached history.
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireRunData",
                    prefix=workflow.RUNS_PREFIX,
                    expiration=Duration.days(workflow.RUN_DATA_DAYS),
                ),
                s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            # the history cache took a cold run's worth of requests to fill: keep it if the stack goes
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "Only the scoring workflow's own roles read or write this bucket of public-API-derived data; "
            "CloudTrail data events can audit object access when needed, and an access-log bucket would hold "
            "more than the data it logs.",
        )
        return bucket

    @staticmethod
    def _logical_id(construct: Construct) -> str:
        """The CloudFormation logical id of an L2 construct's resource, as cdk-nag prints it in a finding."""
        stack = Stack.of(construct)
        resolved: str = stack.resolve(stack.get_logical_id(construct.node.default_child))  # type: ignore[arg-type]
        return resolved

    def _objects(self, prefix: str) -> str:
        return self.bucket.arn_for_objects(f"{prefix}*")

    # ------------------------------------------------------------------------------------- functions
    def _function(self, spec: FunctionSpec) -> PipelineFunction:
        environment = {
            SETTINGS_SSM: self._configuration.settings.parameter_name,
            SCORING_BUCKET: self.bucket.bucket_name,
        }
        if spec.name in ("discover", "select"):
            environment.update(self._storage.environment(WHALES_TABLE))
        step = PipelineFunction(
            self,
            pascal_case(f"whales_{spec.name}"),  # the construct ids these functions were deployed under
            spec=spec,
            layers=self.layer_sets[spec.name],
            environment=environment,
            purpose="whale scoring",
        )
        self._configuration.settings.grant_read(step.role)
        acknowledge(
            step.function,
            "AwsSolutions-L1",
            "python3.12 on purpose: every layer's wheels are resolved for cp312 and its bytecode compiled by "
            "python3.12; a runtime upgrade is a deliberate change of all of them (constants.py).",
        )
        return step

    def _grant_functions(self) -> None:
        runs, cache = self._objects(workflow.RUNS_PREFIX), self._objects(workflow.CACHE_PREFIX)
        whales = self._storage.tables[WHALES_TABLE].table_arn
        grants: dict[str, list[tuple[list[str], list[str]]]] = {
            "discover": [([_PUT], [runs]), (["dynamodb:Scan"], [whales])],
            "evidence": [([_GET, _PUT], [cache]), ([_PUT], [runs]), ([_LIST], [self.bucket.bucket_arn])],
            "select": [
                ([_GET, _PUT], [runs]),
                ([_LIST], [self.bucket.bucket_arn]),
                (["dynamodb:Scan", "dynamodb:BatchWriteItem"], [whales]),
            ],
        }
        for name, statements in grants.items():
            role = self.functions[name].role
            for actions, resources in statements:
                iam.Grant.add_to_principal(grantee=role, actions=actions, resource_arns=resources)
            prefixes = sorted({r for _, resources in statements for r in resources if r.endswith("*")})
            self._acknowledge_objects(role, prefixes, SCORING.function(name))

    def _acknowledge_objects(self, role: iam.IRole, prefixes: list[str], name: str) -> None:
        bucket_id = self._logical_id(self.bucket)
        for prefix in (workflow.RUNS_PREFIX, workflow.CACHE_PREFIX):
            if any(p.endswith(f"/{prefix}*") for p in prefixes):
                Validations.of(role).acknowledge(
                    Acknowledgment(
                        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                        reason=f"{name} reads or writes objects named by the run or the wallet under the {prefix} "
                        "prefix of the scoring bucket; object keys are not known in advance.",
                    )
                )

    # --------------------------------------------------------------------------------- state machine
    def _state_machine(self, alerts: Alerts) -> sfn.StateMachine:
        machine = asl_state_machine(
            self,
            workflow=SCORING,
            log_name="whale-scoring",
            machine_type=sfn.StateMachineType.STANDARD,
            substitutions={
                **{
                    placeholder: self.functions[name].function.function_arn
                    for placeholder, name in SCORING.functions.items()
                },
                SCORING_BUCKET_PLACEHOLDER: self.bucket.bucket_name,
                SCORING_ALERT_TOPIC: alerts.topic.topic_arn,
                SCORING_CHILD_EXECUTION_TYPE: SCORING_CHILD_EXECUTION_TYPE_AWS,
            },
            invokes=[step.function.function_arn for step in self.functions.values()],
        )
        machine.add_to_role_policy(iam.PolicyStatement(actions=[_GET], resources=[self._objects(workflow.RUNS_PREFIX)]))
        alerts.grant_publish(machine)
        self._distributed_map_policy(machine)
        bucket_id = self._logical_id(self.bucket)
        acknowledge(
            machine.role,
            f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{workflow.RUNS_PREFIX}*]",
            "The Distributed Map's ItemReader reads the item list Discover wrote under the run's own key, "
            "which is only known at run time.",
        )
        acknowledge(
            machine,
            "AwsSolutions-SF2",
            "X-Ray is off as on the copy pipeline (functions.py): the layers carry no X-Ray SDK; per-state and "
            "per-child timing is in the ALL-level execution log and the steps' own duration metrics.",
        )
        return machine

    def _distributed_map_policy(self, machine: sfn.StateMachine) -> None:
        """What a Distributed Map needs (as CDK's own DistributedMap grants): start its child executions, watch
        and stop them, redrive them. A separate policy, so the state machine does not depend on its own ARN."""
        executions = Stack.of(self).format_arn(
            service="states",
            resource="execution",
            resource_name=machine.state_machine_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        policy = iam.Policy(
            self,
            "DistributedMapPolicy",
            statements=[
                iam.PolicyStatement(actions=["states:StartExecution"], resources=[machine.state_machine_arn]),
                iam.PolicyStatement(
                    actions=["states:DescribeExecution", "states:StopExecution"], resources=[f"{executions}:*"]
                ),
                iam.PolicyStatement(actions=["states:RedriveExecution"], resources=[f"{executions}/*"]),
            ],
        )
        machine.role.attach_inline_policy(policy)
        stack = Stack.of(self)
        partition, region = (
            f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value
            for pseudo, value in (("Partition", stack.partition), ("Region", stack.region))
        )  # as cdk-nag writes a finding: a pseudo parameter as <AWS::Name>, a known value as itself
        named = f"arn:{partition}:states:{region}:<AWS::AccountId>:execution:<{self._logical_id(machine)}.Name>"
        for suffix in (":*", "/*"):
            acknowledge(
                policy,
                f"AwsSolutions-IAM5[Resource::{named}{suffix}]",
                "The Distributed Map's child executions get their names at run time; the wildcard stays inside "
                "this state machine's own executions.",
            )

    # -------------------------------------------------------------------------------------- schedule
    def _schedule(self) -> scheduler.Schedule:
        role = service_role(self, "ScheduleRole", "scheduler.amazonaws.com", "copytrader daily whale scoring schedule")
        return scheduler.Schedule(
            self,
            "Daily",
            description=f"copytrader: whale scoring daily at {SCHEDULE_HOUR_UTC:0>2}:{SCHEDULE_MINUTE:0>2} UTC",
            schedule=scheduler.ScheduleExpression.cron(
                minute=SCHEDULE_MINUTE, hour=SCHEDULE_HOUR_UTC, time_zone=TimeZone.ETC_UTC
            ),
            target=scheduler_targets.StepFunctionsStartExecution(
                self.state_machine,
                input=scheduler.ScheduleTargetInput.from_object({}),
                role=role,
                retry_attempts=3,
                max_event_age=Duration.hours(6),
            ),
        )
