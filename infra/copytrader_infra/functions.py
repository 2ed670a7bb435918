"""The copy pipeline's Lambda functions: what each one may touch, and how one is built.

Each function gets its own role holding only its own grants (`FunctionSpec` is the access table), its own
log group with a retention, and a code asset of just its handler folder; the shared code arrives in the
two layers, and the venue SDK in a third on the functions that import it in live mode (`imports_venue_sdk`).

Memory buys CPU (1,769 MB is one vCPU). Cold-start imports of boto3, PynamoDB, pydantic and Powertools
take ~0.8 s at one vCPU with bytecode (AWS-NOTES §B.4), which matters when four functions run in series
for a decision targeted under one second, so no step gets less than 1 GB. Execute gets a full vCPU for
order signing.

No SnapStart, no provisioned concurrency: a cold start runs the init phase, where the handlers import what they use
(the copy handlers ~0.22 s with bytecode on one vCPU, `cold_import_<step>_ms`; a live execute also the SDK from the
venue layer, ~0.4 s more by an estimate from a loaded machine (README), imported at init by `wiring.prewarm`).
SnapStart on execute was measured and dropped (README, "Cold starts and SnapStart"): its snapshot is taken when a
version is published, with the settings then in force, which for a new deployment are paper, so it held none of the
CLOB client, and its cache costs ~6.7 USD a month at this memory whether whales trade or not. The reconcile sweep
invokes execute every 5 minutes, which keeps an environment of it in use, so a copy meets a cold execute mainly when
copies overlap.

X-Ray is off: Powertools' Tracer costs ~230-280 ms per cold start (AWS-NOTES §B.4) and needs
`aws-xray-sdk`, which the dependency layer does not carry. Turning it on means adding
`aws-lambda-powertools[tracer]` to the runtime dependencies and `Tracing.ACTIVE` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from copytrader.runtime.env import (
    METRICS_NAMESPACE,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    SERVICE_NAME,
)
from copytrader.workflows import COPY, Workflow
from copytrader_infra.constants import FUNCTIONS_DIR, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, LOG_RETENTION


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # the workflow's step: its code is functions/<workflow>_<step>/ (`Workflow.function`)
    memory_mb: int
    timeout: Duration
    reads: tuple[str, ...] = ()  # tables read
    writes: tuple[str, ...] = ()  # tables read and written
    reads_venue_secret: bool = False
    publishes_alerts: bool = False
    workflow: Workflow = COPY
    imports_venue_sdk: bool = False  # in live mode: gets the venue layer (polymarket-client), the others do not

    @property
    def folder(self) -> Path:
        return FUNCTIONS_DIR / self.workflow.function(self.name)


# What each step's code touches (copytrader.workflows.copy.steps):
# - score reads whales and our positions (mirror exits) and keeps markets fresh through the `Markets`
#   read-through cache, which writes Gamma's answer back; it reads our exposures (risk) to skip a BUY with no
#   room, and reads and writes whale stances (the conflict check);
# - size only reads the account's risk state and positions;
# - risk_check creates the paper account on first use (with its opening DEPOSIT in the ledger), reserves exposure
#   and counts SELLs against the order rate;
# - execute writes the ledger, orders, positions and risk state in one transaction and may alert.
# No reserved concurrency on execute: limits hold through conditional writes, not through throttling, and
# a reservation would fail to deploy in accounts whose concurrency quota is still the new-account 10.
PIPELINE_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "score",
        memory_mb=1024,
        timeout=Duration.seconds(10),
        reads=("whales", "positions", "risk"),
        writes=("markets", "stances"),
    ),
    FunctionSpec("size", memory_mb=1024, timeout=Duration.seconds(10), reads=("risk", "positions")),
    # risk_check opens the paper account: its item and the ledger's opening DEPOSIT, in one transaction
    FunctionSpec("risk_check", memory_mb=1024, timeout=Duration.seconds(10), writes=("risk", "ledger")),
    FunctionSpec(
        "execute",
        memory_mb=1769,
        timeout=Duration.seconds(30),
        writes=("orders", "positions", "ledger", "risk"),
        reads=("marks",),  # check_halts marks the account at the listener's price marks
        reads_venue_secret=True,
        publishes_alerts=True,
        imports_venue_sdk=True,
    ),
)


class PipelineFunction(Construct):
    """One pipeline step: its role (with log-writing rights only), log group and function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: FunctionSpec,
        layers: Sequence[lambda_.ILayerVersion],
        environment: dict[str, str],
        purpose: str = "copy pipeline",
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec
        self.environment = {
            POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            **environment,
        }
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"copytrader {spec.name} function",
        )
        self.log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"copytrader {purpose}: {spec.name}",
            runtime=LAMBDA_RUNTIME,
            architecture=LAMBDA_ARCHITECTURE,
            handler="handler.lambda_handler",
            code=lambda_.Code.from_asset(str(spec.folder), exclude=["__pycache__", "*.pyc"]),
            layers=list(layers),
            memory_size=spec.memory_mb,
            timeout=spec.timeout,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.DISABLED,
            environment=self.environment,
        )

    @property
    def invoke_arn(self) -> str:
        """What a caller invokes: the function itself (unqualified: its latest code and configuration)."""
        return self.function.function_arn
