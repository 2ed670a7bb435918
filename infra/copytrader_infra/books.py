"""The books workflow: settle resolved markets, then audit the account, hourly (EventBridge Scheduler).

The definition is `copytrader/workflows/books/definition.asl.json`, shared with local mode; CDK fills its two
function ARNs.

    EventBridge Scheduler (hourly, minute 17) -> SettleResolved -> Audit -> books_audit_violations (alarmed)
        -> VenueSync -> books_venue_sync_differences, books_venue_sync_failed (alarmed)

Who may do what:
- books_settle: read our positions and their price marks (marked equity, every run); the markets table (the
  Gamma read-through cache, which writes back); write the risk items, positions and ledger (a redemption is one
  transaction across them); publish alerts (the breaker and drawdown halt it may trip). Calls Gamma.
- books_audit: read the risk, positions, ledger and orders tables (a Scan of the risk table's account items, the
  orders' status index); the markets cache as above. Writes no money table. Calls Gamma.
- books_venue_sync: read our positions and the account's risk item; publish alerts (a difference, a failed read).
  Writes no table. Calls the Data API (`/v2/positions`) and the Polygon JSON-RPC endpoint (eth_call).
- the state machine: invoke the three functions, write its logs. The schedule's role: start it, nothing else.
Live redemption (on chain) runs in books_settle once the lead wires its sender factory (`Deps.redemption_sender`)
and the chain endpoint (COPYTRADER_POLYGON_HTTP_RPC_URL); until then a resolved live position is counted
`awaiting_redemption`, and the live venue sync fails (alarmed) without the endpoint and COPYTRADER_WALLET_ADDRESS.
"""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import Duration, TimeZone
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_scheduler_targets as scheduler_targets
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from copytrader.settings import Mode
from copytrader.workflows import BOOKS
from copytrader_infra.alerts import Alerts
from copytrader_infra.configuration import Configuration
from copytrader_infra.credentials import Credentials
from copytrader_infra.functions import FunctionSpec
from copytrader_infra.layers import PipelineLayers
from copytrader_infra.nag import acknowledge
from copytrader_infra.naming import pascal_case
from copytrader_infra.pipeline import wired_function
from copytrader_infra.roles import service_role
from copytrader_infra.state_machines import asl_state_machine
from copytrader_infra.storage import Storage

SCHEDULE_MINUTE = "17"  # hourly, away from the top of the hour when markets tend to resolve in bulk

BOOKS_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "settle",
        memory_mb=512,
        timeout=Duration.seconds(120),
        reads=("positions", "marks"),
        writes=("markets", "risk", "ledger", "positions"),
        publishes_alerts=True,
        workflow=BOOKS,
        imports_venue_sdk=True,  # a live redemption is sent through the SDK
    ),
    FunctionSpec(
        "audit",
        memory_mb=512,
        timeout=Duration.seconds(120),
        reads=("risk", "positions", "ledger", "orders"),
        writes=("markets",),
        workflow=BOOKS,
    ),
    FunctionSpec(
        "venue_sync",
        memory_mb=512,
        timeout=Duration.seconds(120),
        reads=("risk", "positions"),
        publishes_alerts=True,
        imports_venue_sdk=True,  # live: the wallet from the venue key (eth-account, in the venue layer)
        workflow=BOOKS,
    ),
)


LIVE_ONLY_SECRET = frozenset({"settle", "venue_sync"})  # live: the redemption sender's and the sync's wallet


def books_spec(spec: FunctionSpec, mode: Mode) -> FunctionSpec:
    """A live deployment's settle and venue_sync read the venue secret (the wallet, the key that signs a
    redemption, the relayer key, the chain endpoint); a paper one's never do."""
    if mode is Mode.LIVE and spec.name in LIVE_ONLY_SECRET:
        return replace(spec, reads_venue_secret=True)
    return spec


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
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        declared = {spec.name for spec in BOOKS_FUNCTIONS}
        if declared != set(BOOKS.steps):
            raise ValueError(f"functions {sorted(declared)} do not match the ASL's {dict(BOOKS.functions)}")
        self.functions = {
            spec.name: wired_function(
                self,
                pascal_case(f"books_{spec.name}"),
                books_spec(spec, mode),
                storage=storage,
                configuration=configuration,
                alerts=alerts,
                layers=layers,
                mode=mode,
                credentials=credentials,
                purpose="books",
            )
            for spec in BOOKS_FUNCTIONS
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
