"""`CopyTraderStack`: the whole copy-trader in one stack, composed of one construct per capability."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from copytrader.settings import Mode
from copytrader_infra.alerts import Alerts
from copytrader_infra.books import Books
from copytrader_infra.configuration import Configuration
from copytrader_infra.constants import CONTEXT_LISTENER_DESIRED_COUNT
from copytrader_infra.credentials import Credentials
from copytrader_infra.exits import Exits
from copytrader_infra.layers import PipelineLayers
from copytrader_infra.listener import Listener
from copytrader_infra.messaging import Messaging
from copytrader_infra.monitoring import Monitoring
from copytrader_infra.pipeline import CopyPipeline
from copytrader_infra.scoring import WhaleScoring
from copytrader_infra.storage import Storage


class CopyTraderStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, mode: Mode = Mode.PAPER, **kwargs: Any) -> None:
        """`mode` is what the deployment may trade: paper pins the copy functions to paper (`CopyPipeline`); live is
        checked against the region before the stack is built (`application.build_app`)."""
        super().__init__(
            scope,
            construct_id,
            description="Polymarket copy-trader: listener, copy pipeline, whale scoring, books, state",
            **kwargs,
        )
        self.mode = mode
        self.storage = Storage(self, "Storage")
        self.messaging = Messaging(self, "Messaging")
        self.alerts = Alerts(self, "Alerts")
        self.credentials = Credentials(self, "Credentials")
        self.configuration = Configuration(self, "Configuration")
        self.layers = PipelineLayers(self, "Layers")
        self.pipeline = CopyPipeline(
            self,
            "CopyPipeline",
            storage=self.storage,
            messaging=self.messaging,
            alerts=self.alerts,
            credentials=self.credentials,
            configuration=self.configuration,
            layers=self.layers,
            mode=mode,
        )
        self.scoring = WhaleScoring(
            self,
            "WhaleScoring",
            storage=self.storage,
            alerts=self.alerts,
            configuration=self.configuration,
            layers=self.layers,
        )
        self.books = Books(
            self,
            "Books",
            storage=self.storage,
            alerts=self.alerts,
            configuration=self.configuration,
            layers=self.layers,
            mode=mode,
            credentials=self.credentials,
        )
        self.exits = Exits(
            self,
            "Exits",
            storage=self.storage,
            messaging=self.messaging,
            alerts=self.alerts,
            configuration=self.configuration,
            layers=self.layers,
            mode=mode,
        )
        listener_count = self._listener_desired_count()
        self.listener = Listener(
            self,
            "Listener",
            storage=self.storage,
            messaging=self.messaging,
            credentials=self.credentials,
            configuration=self.configuration,
            desired_count=listener_count,
        )
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            messaging=self.messaging,
            pipeline=self.pipeline,
            listener=self.listener,
            alerts=self.alerts,
            listener_running=listener_count > 0,
            scoring=self.scoring,
            books=self.books,
            exits=self.exits,
        )
        self._outputs()

    def _listener_desired_count(self) -> int:
        raw = self.node.try_get_context(CONTEXT_LISTENER_DESIRED_COUNT)
        count = int(raw) if raw is not None else 0
        if count not in (0, 1):
            raise ValueError(f"{CONTEXT_LISTENER_DESIRED_COUNT} must be 0 or 1 (one listener process), got {raw!r}")
        return count

    def _outputs(self) -> None:
        """What an operator needs after a deploy: where to put secrets and settings, and what to watch."""
        outputs = {
            "TradeQueueUrl": self.messaging.trade_queue.queue_url,
            "TradeDeadLetterQueueUrl": self.messaging.dead_letter_queue.queue_url,
            "EventBusName": self.messaging.event_bus.event_bus_name,
            "AlertTopicArn": self.alerts.topic.topic_arn,
            "VenueSecretArn": self.credentials.venue_secret.secret_arn,
            "RpcUrlSecretArn": self.credentials.rpc_url_secret.secret_arn,
            "SettingsParameterName": self.configuration.settings.parameter_name,
            "CopyPipelineStateMachineArn": self.pipeline.state_machine.state_machine_arn,
            "ListenerServiceArn": self.listener.service.service_arn,
            "ScoringStateMachineArn": self.scoring.state_machine.state_machine_arn,
            "ScoringBucketName": self.scoring.bucket.bucket_name,
        }
        for output_id, value in outputs.items():
            CfnOutput(self, output_id, value=value)
