"""`LocalAws`: moto server on a free loopback port with every resource the CDK app deploys.

The tables come from `copytrader.store` (the same PynamoDB models), the state machine from the same ASL
file with moto's Lambda ARNs filled in, and moto's Lambda invocations run the real handlers
(`local.lambdas`). moto's DynamoDB transactions get DynamoDB's isolation and item-level rollback
(`local.moto_fixes`). Clients reach the server over real HTTP through `AWS_ENDPOINT_URL`, exactly as the
deployed code reaches AWS; nothing in the handlers knows it is local.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import zipfile
from dataclasses import dataclass
from typing import Any

from copytrader import store, workflows
from copytrader.local import moto_fixes
from copytrader.local.lambdas import HandlerDispatch, LazyHandler, load_handler, patch_moto
from copytrader.runtime.env import EVENT_DETAIL_TYPE, EVENT_SOURCE, SCORING_BUCKET
from copytrader.workflows import BOOKS, COPY, EXITS, SCORING

REGION = "us-east-1"
QUEUE_NAME = "copytrader-trades.fifo"
DLQ_NAME = "copytrader-trades-dlq.fifo"
BUS_NAME = "copytrader-bus"
MAX_RECEIVE_COUNT = 3
SCORING_BUCKET_NAME = "copytrader-scoring"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class LocalResources:
    endpoint: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    bus_name: str
    fanout_queue_url: str  # an SQS queue behind a bus rule: shows the EventBridge fan-out
    alert_topic_arn: str
    alert_queue_url: str  # subscribed to the alert topic: shows what an operator would receive
    state_machine_arn: str
    function_arns: dict[str, str]
    scoring_state_machine_arn: str = ""  # the daily whale-scoring workflow (Standard, Distributed Map)
    scoring_bucket: str = ""  # its run data and discovery cache
    books_state_machine_arn: str = ""  # the hourly books workflow: settle resolved markets, audit (Standard)


class LocalAws:
    """Context manager: start moto server, create the resources, route Lambda calls to the handlers."""

    def __init__(self, quiet: bool = True) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.quiet = quiet
        self._saved_env: dict[str, str | None] = {}
        self._undo_patch: Any = None
        self._undo_moto_fixes: Any = None
        self._server: Any = None
        self.dispatch: HandlerDispatch | None = None
        self.resources: LocalResources | None = None

    # ----------------------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalAws:
        self._set_env(
            {
                "AWS_ACCESS_KEY_ID": "local-moto",
                "AWS_SECRET_ACCESS_KEY": "local-moto",
                "AWS_SESSION_TOKEN": None,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint,
                "MOTO_PORT": str(self.port),
                "POWERTOOLS_LOG_LEVEL": "WARNING" if self.quiet else "INFO",
                "POWERTOOLS_TRACE_DISABLED": "true",
                SCORING_BUCKET: SCORING_BUCKET_NAME,
            }
        )
        if self.quiet:  # request logs and moto's dumps of failed executions (the pipe reports failures itself)
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            logging.getLogger("moto").setLevel(logging.CRITICAL)
        from moto.server import ThreadedMotoServer

        self._undo_moto_fixes = moto_fixes.apply()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        # moto's backends are process-wide: a server started earlier in this process left its state behind
        self._post("/moto-api/reset")
        self.configure_moto()
        store.rebind()
        self.resources = self.create_resources()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._undo_patch is not None:
            self._undo_patch()
            self._undo_patch = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._undo_moto_fixes is not None:
            self._undo_moto_fixes()
            self._undo_moto_fixes = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        store.rebind()

    def _set_env(self, values: dict[str, str | None]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _post(self, path: str, body: object | None = None) -> None:
        import requests

        requests.post(f"{self.endpoint}{path}", json=body, timeout=5).raise_for_status()

    def configure_moto(self) -> None:
        """Make moto interpret ASL for real and run Lambda without Docker (AWS-NOTES §B.3)."""
        self._post(
            "/moto-api/config", {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )

    def reset(self) -> LocalResources:
        """Wipe all state (5 ms) and create the resources again: per-test isolation on one server."""
        self._post("/moto-api/reset")
        self.configure_moto()
        self.resources = self.create_resources()
        return self.resources

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint)

    # ----------------------------------------------------------------------------- resources
    def create_resources(self) -> LocalResources:
        store.create_tables()
        sqs, events, sns = self.client("sqs"), self.client("events"), self.client("sns")

        dlq_url = sqs.create_queue(QueueName=DLQ_NAME, Attributes={"FifoQueue": "true"})["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName=QUEUE_NAME,
            Attributes={
                "FifoQueue": "true",
                "ContentBasedDeduplication": "false",
                "VisibilityTimeout": "60",
                "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT}),
            },
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        events.create_event_bus(Name=BUS_NAME)
        fanout_url = sqs.create_queue(QueueName="copytrader-fanout")["QueueUrl"]
        fanout_arn = sqs.get_queue_attributes(QueueUrl=fanout_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="whale-trades",
            EventBusName=BUS_NAME,
            EventPattern=json.dumps({"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE]}),
        )
        events.put_targets(Rule="whale-trades", EventBusName=BUS_NAME, Targets=[{"Id": "fanout", "Arn": fanout_arn}])

        topic_arn = sns.create_topic(Name="copytrader-alerts")["TopicArn"]
        alert_url = sqs.create_queue(QueueName="copytrader-alerts-inbox")["QueueUrl"]
        alert_arn = sqs.get_queue_attributes(QueueUrl=alert_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=alert_arn, Attributes={"RawMessageDelivery": "true"})

        function_arns = self._create_functions()
        definition = COPY.render(
            {placeholder: function_arns[COPY.function(step)] for placeholder, step in COPY.functions.items()}
        )
        sfn = self.client("stepfunctions")
        state_machine_arn = sfn.create_state_machine(
            name="copytrader-copy-pipeline", definition=definition, roleArn=self._role_arn(), type="EXPRESS"
        )["stateMachineArn"]
        self.client("s3").create_bucket(Bucket=SCORING_BUCKET_NAME)
        scoring = SCORING.render(
            {
                **{
                    placeholder: function_arns[SCORING.function(step)]
                    for placeholder, step in SCORING.functions.items()
                },
                workflows.SCORING_BUCKET: SCORING_BUCKET_NAME,
                workflows.SCORING_ALERT_TOPIC: topic_arn,
                workflows.SCORING_CHILD_EXECUTION_TYPE: workflows.SCORING_CHILD_EXECUTION_TYPE_LOCAL,
            }
        )
        scoring_arn = sfn.create_state_machine(
            name="copytrader-whale-scoring", definition=scoring, roleArn=self._role_arn(), type="STANDARD"
        )["stateMachineArn"]
        books = BOOKS.render({p: function_arns[BOOKS.function(step)] for p, step in BOOKS.functions.items()})
        books_arn = sfn.create_state_machine(
            name="copytrader-books", definition=books, roleArn=self._role_arn(), type="STANDARD"
        )["stateMachineArn"]
        return LocalResources(
            endpoint=self.endpoint,
            queue_url=queue_url,
            queue_arn=queue_arn,
            dlq_url=dlq_url,
            bus_name=BUS_NAME,
            fanout_queue_url=fanout_url,
            alert_topic_arn=topic_arn,
            alert_queue_url=alert_url,
            state_machine_arn=state_machine_arn,
            function_arns=function_arns,
            scoring_state_machine_arn=scoring_arn,
            scoring_bucket=SCORING_BUCKET_NAME,
            books_state_machine_arn=books_arn,
        )

    def _role_arn(self) -> str:
        iam = self.client("iam")
        try:
            return str(iam.get_role(RoleName="copytrader-local")["Role"]["Arn"])
        except iam.exceptions.NoSuchEntityException:
            return str(iam.create_role(RoleName="copytrader-local", AssumeRolePolicyDocument="{}")["Role"]["Arn"])

    def _create_functions(self) -> dict[str, str]:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "# local mode runs functions/<workflow>_<step>/handler.py in-process\n")
        lam, role = self.client("lambda"), self._role_arn()
        arns = {
            name: lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role,
                Handler="handler.lambda_handler",
                Code={"ZipFile": buffer.getvalue()},
                Architectures=["arm64"],
            )["FunctionArn"]
            for workflow in (*workflows.WORKFLOWS, EXITS)  # the exits job: a function, no state machine
            for name in map(workflow.function, workflow.steps)
        }
        if self.dispatch is None:  # the copy pipeline's handlers now; the scoring ones (numpy, scipy) when first run
            handlers: dict[str, Any] = {COPY.function(step): load_handler(COPY, step) for step in COPY.steps}
            handlers.update({SCORING.function(step): LazyHandler(SCORING, step) for step in SCORING.steps})
            handlers.update({BOOKS.function(step): LazyHandler(BOOKS, step) for step in BOOKS.steps})
            handlers.update({EXITS.function(step): LazyHandler(EXITS, step) for step in EXITS.steps})
            self.dispatch = HandlerDispatch(handlers, echo_logs=not self.quiet)
            self._undo_patch = patch_moto(self.dispatch)
        return arns
