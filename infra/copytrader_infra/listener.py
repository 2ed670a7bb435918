"""The listener: one Fargate task (ARM64) that watches tracked wallets and publishes their trades.

It needs outbound connections only (Polygon RPC and RTDS WebSockets, the Data API, AWS APIs), so it runs
in public subnets with a public IP and a security group without inbound rules: no NAT gateway to pay
for. The VPC is created here, never looked up, so synth stays offline.

The image is built from functions/listener/Dockerfile when the stack is deployed (or published), never
at synth. The service starts with `copytrader:listenerDesiredCount` tasks, 0 by default: a task started
before the operator has stored the RPC URL would only crash-loop and hold the deployment. Deploy, store
the secret, then deploy again with `-c copytrader:listenerDesiredCount=1`. During a deployment the old
and the new task overlap briefly; the trades table's conditional put deduplicates what both see.

The container's health check reads the listener's heartbeat file (`copytrader.runtime.heartbeat`): the process
touches it from its event loop every 10 s, and the check fails when it is older than a minute, so ECS replaces a
task whose loop hangs (a dead process it replaces anyway). The file is on a task-storage volume, the only
writable path; the Dockerfile gives that folder to the container's user.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from aws_cdk import Duration, IgnoreMode, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from copytrader.runtime import heartbeat
from copytrader.runtime.env import (
    EVENT_BUS_NAME,
    LISTENER_HEARTBEAT_FILE,
    METRICS_NAMESPACE,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    SERVICE_NAME,
    SETTINGS_SSM,
    TRADE_QUEUE_URL,
)
from copytrader_infra.configuration import Configuration
from copytrader_infra.constants import (
    LISTENER_DOCKERFILE,
    LISTENER_HEARTBEAT_FILE_PATH,
    LOG_RETENTION,
    POLYGON_RPC_URL_ENV,
    REPO_ROOT,
)
from copytrader_infra.credentials import Credentials
from copytrader_infra.messaging import Messaging
from copytrader_infra.nag import acknowledge
from copytrader_infra.storage import Access, Storage

_HEARTBEAT_VOLUME = "heartbeat"


class Listener(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        messaging: Messaging,
        credentials: Credentials,
        configuration: Configuration,
        desired_count: int,
    ) -> None:
        super().__init__(scope, construct_id)
        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)
            ],
        )
        vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self._log_group("FlowLogs")),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)

        # The smallest Fargate size holds the load with room to spare (`make bench`, listener_task): with all three
        # sources and an RTDS firehose of 5,000 frames/s (the real global feed is ~50/s) the process peaked at
        # ~88 MB and used ~0.10 vCPU.
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "Task",
            cpu=256,
            memory_limit_mib=512,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        self.task_definition.add_volume(name=_HEARTBEAT_VOLUME)  # task storage, gone with the task
        container = self.task_definition.add_container(
            "Listener",
            container_name="listener",
            image=ecs.ContainerImage.from_asset(
                str(REPO_ROOT),
                file=LISTENER_DOCKERFILE,
                exclude=_build_context_rules(),
                ignore_mode=IgnoreMode.DOCKER,
                platform=ecr_assets.Platform.LINUX_ARM64,
            ),
            logging=ecs.LogDrivers.aws_logs(stream_prefix="listener", log_group=self._log_group("Logs")),
            environment={
                TRADE_QUEUE_URL: messaging.trade_queue.queue_url,
                EVENT_BUS_NAME: messaging.event_bus.event_bus_name,
                POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
                POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
                LISTENER_HEARTBEAT_FILE: LISTENER_HEARTBEAT_FILE_PATH,
                **storage.environment("trades", "whales", "watermarks", "marks", "positions"),
                SETTINGS_SSM: configuration.settings.parameter_name,  # the fast stops' rules, as the Lambdas'
            },
            secrets={POLYGON_RPC_URL_ENV: ecs.Secret.from_secrets_manager(credentials.rpc_url_secret)},
            readonly_root_filesystem=True,
            health_check=ecs.HealthCheck(
                command=[
                    "CMD",
                    "python",
                    "-m",
                    "copytrader.runtime.heartbeat",
                    LISTENER_HEARTBEAT_FILE_PATH,
                    f"{heartbeat.STALE_AFTER_S:g}",
                ],
                interval=Duration.seconds(30),
                timeout=Duration.seconds(5),
                retries=3,
                start_period=Duration.seconds(60),  # imports and the first watch-list read precede the first beat
            ),
        )
        container.add_mount_points(
            ecs.MountPoint(
                container_path=str(PurePosixPath(LISTENER_HEARTBEAT_FILE_PATH).parent),
                source_volume=_HEARTBEAT_VOLUME,
                read_only=False,
            )
        )
        task_role = self.task_definition.task_role
        messaging.trade_queue.grant_send_messages(task_role)
        messaging.event_bus.grant_put_events_to(task_role)
        storage.grant(task_role, Access.READ_WRITE, "trades", "watermarks")
        storage.grant(task_role, Access.READ, "whales")
        storage.grant(task_role, Access.READ_WRITE, "marks")  # the price marks of the tokens we hold
        task_role.add_to_policy(  # written 25 a request (copytrader.store.marks); a mark is not money
            iam.PolicyStatement(actions=["dynamodb:BatchWriteItem"], resources=[storage.tables["marks"].table_arn])
        )
        storage.grant(task_role, Access.READ, "positions")  # which tokens we hold, and their stops
        configuration.settings.grant_read(task_role)  # the fast stops' rules
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The plain environment variables are resource names and URLs (queue, bus, tables, Powertools "
            "names), not secrets; the one secret, the RPC URL, is injected from Secrets Manager.",
        )
        acknowledge(
            self.task_definition.obtain_execution_role(),
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken, needed to pull the listener image from the CDK asset repository, "
            "does not support resource-level permissions.",
        )

        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="copytrader listener: outbound only (WebSockets, HTTPS), no inbound rules",
            allow_all_outbound=True,
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=cluster,
            task_definition=self.task_definition,
            desired_count=desired_count,
            assign_public_ip=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[security_group],
            min_healthy_percent=100,
            max_healthy_percent=200,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )

    def _log_group(self, construct_id: str) -> logs.LogGroup:
        return logs.LogGroup(self, construct_id, retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)


def _build_context_rules() -> list[str]:
    """The image's build context allow-list, read from the Dockerfile's own ignore file (one source)."""
    ignore_file = REPO_ROOT / f"{LISTENER_DOCKERFILE}.dockerignore"
    lines = (line.strip() for line in ignore_file.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]
