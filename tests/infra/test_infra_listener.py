"""The Fargate listener: ARM64 task, its health check, its grants, the image's build context, a service without NAT."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copytrader.runtime import heartbeat
from copytrader.runtime.env import EVENT_BUS_NAME, LISTENER_HEARTBEAT_FILE, TRADE_QUEUE_URL
from copytrader.store.connection import table_env_var
from copytrader_infra.constants import (
    LISTENER_DOCKERFILE,
    LISTENER_HEARTBEAT_FILE_PATH,
    POLYGON_RPC_URL_ENV,
    REPO_ROOT,
)
from copytrader_infra.storage import Access

pytestmark = pytest.mark.infra


def _task(synthesized: Any) -> dict[str, Any]:
    task: dict[str, Any] = synthesized.resources[synthesized.logical_id(synthesized.stack.listener.task_definition)]
    return task["Properties"]


def test_task_is_a_small_arm64_fargate_task(synthesized: Any) -> None:
    task = _task(synthesized)
    assert len(synthesized.of_type("AWS::ECS::TaskDefinition")) == 1
    assert task["RuntimePlatform"] == {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert (task["Cpu"], task["Memory"]) == ("256", "512")


def test_container_gets_the_rpc_url_from_secrets_manager_and_logs_with_retention(synthesized: Any) -> None:
    credentials = synthesized.stack.credentials
    (container,) = _task(synthesized)["ContainerDefinitions"]
    rpc_secret_id = synthesized.logical_id(credentials.rpc_url_secret)

    assert container["Secrets"] == [{"Name": POLYGON_RPC_URL_ENV, "ValueFrom": {"Ref": rpc_secret_id}}]
    names = {e["Name"] for e in container["Environment"]}
    assert names >= {
        TRADE_QUEUE_URL,
        EVENT_BUS_NAME,
        *(table_env_var(t) for t in ("trades", "whales", "watermarks", "marks", "positions")),
    }
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    log_group = synthesized.resources[container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_container_health_check_fails_when_the_listeners_heartbeat_file_goes_stale(synthesized: Any) -> None:
    (container,) = _task(synthesized)["ContainerDefinitions"]
    (volume,) = _task(synthesized)["Volumes"]
    heartbeat_dir = str(Path(LISTENER_HEARTBEAT_FILE_PATH).parent)

    # the listener beats into the file (copytrader.listener.service); the check reads its age
    assert {"Name": LISTENER_HEARTBEAT_FILE, "Value": LISTENER_HEARTBEAT_FILE_PATH} in container["Environment"]
    check = container["HealthCheck"]
    max_age = heartbeat.STALE_AFTER_S
    assert check["Command"] == [
        "CMD",
        "python",
        "-m",
        "copytrader.runtime.heartbeat",
        LISTENER_HEARTBEAT_FILE_PATH,
        f"{max_age:g}",
    ]
    assert max_age >= 3 * heartbeat.BEAT_EVERY_S  # a slow chore is not a dead loop
    assert (check["Interval"], check["Timeout"], check["Retries"]) == (30, 5, 3)
    assert check["StartPeriod"] >= 60  # imports and the first watch-list read come before the first beat
    # the root filesystem stays read-only: the file lives on a task-storage volume the non-root user may write
    assert container["ReadonlyRootFilesystem"] is True
    assert volume == {"Name": volume["Name"]}  # task storage (a bind mount without a host path)
    assert container["MountPoints"] == [
        {"ContainerPath": heartbeat_dir, "ReadOnly": False, "SourceVolume": volume["Name"]}
    ]
    dockerfile = (REPO_ROOT / LISTENER_DOCKERFILE).read_text()
    assert f"RUN mkdir -p {heartbeat_dir} && chown 10001 {heartbeat_dir}" in dockerfile
    assert f'VOLUME ["{heartbeat_dir}"]' in dockerfile and "USER 10001" in dockerfile


def test_task_role_has_exactly_the_listeners_grants(synthesized: Any) -> None:
    stack = synthesized.stack
    role_id = synthesized.logical_id(stack.listener.task_definition.task_role)
    by_resource: dict[str, set[str]] = {}
    for statement in synthesized.role_statements(role_id):
        for resource in synthesized.as_list(statement["Resource"]):
            by_resource.setdefault(json.dumps(resource), set()).update(synthesized.as_list(statement["Action"]))

    def arn(construct: Any) -> str:
        return json.dumps({"Fn::GetAtt": [synthesized.logical_id(construct), "Arn"]})

    trades, whales = stack.storage.tables["trades"], stack.storage.tables["whales"]
    watermarks = stack.storage.tables["watermarks"]
    price_marks, positions = stack.storage.tables["marks"], stack.storage.tables["positions"]
    whales_index = json.dumps({"Fn::Join": ["", [json.loads(arn(whales)), "/index/by_status"]]})
    unpublished_index = json.dumps({"Fn::Join": ["", [json.loads(arn(trades)), "/index/unpublished"]]})
    # the settings parameter (the fast stops' rules): read only
    (settings,) = [r for r, actions in by_resource.items() if any(a.startswith("ssm:") for a in actions)]
    assert by_resource.pop(settings) == {
        "ssm:DescribeParameters",
        "ssm:GetParameters",
        "ssm:GetParameter",
        "ssm:GetParameterHistory",
    }
    assert synthesized.logical_id(stack.configuration.settings.node.default_child) in settings
    assert set(by_resource) == {
        arn(stack.messaging.trade_queue),
        arn(stack.messaging.event_bus),
        arn(trades),
        unpublished_index,  # the sweep for claims a killed listener left unpublished
        arn(watermarks),
        arn(whales),
        whales_index,
        arn(price_marks),  # the price marks of the tokens we hold
        arn(positions),  # which tokens we hold
    }
    assert by_resource[arn(stack.messaging.trade_queue)] == {
        "sqs:SendMessage",
        "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }
    assert by_resource[arn(stack.messaging.event_bus)] == {"events:PutEvents"}
    assert by_resource[arn(trades)] == by_resource[arn(watermarks)] == set(Access.READ_WRITE.value)
    assert by_resource[unpublished_index] == set(Access.READ_WRITE.value)
    assert by_resource[arn(whales)] == by_resource[whales_index] == set(Access.READ.value)
    assert by_resource[arn(price_marks)] == {*Access.READ_WRITE.value, "dynamodb:BatchWriteItem"}
    assert by_resource[arn(positions)] == set(Access.READ.value)


def test_image_is_built_for_arm64_from_an_allow_listed_context(synthesized: Any) -> None:
    images = synthesized.read_json(f"{synthesized.stack.stack_name}.assets.json")["dockerImages"]
    (image,) = images.values()
    source = image["source"]
    context = synthesized.outdir / source["directory"]

    assert source["dockerFile"] == "functions/listener/Dockerfile"
    assert source["platform"] == "linux/arm64"
    assert {p.name for p in context.iterdir()} == {"functions", "pyproject.toml", "requirements", "shared"}
    assert {p.name for p in (context / "functions").iterdir()} == {"listener"}
    assert [p.name for p in (context / "requirements").iterdir()] == ["lock.txt"]
    assert not list(context.rglob("__pycache__"))


def test_service_runs_in_public_subnets_without_nat_or_inbound_rules(synthesized: Any) -> None:
    (service,) = synthesized.of_type("AWS::ECS::Service").values()
    network = service["Properties"]["NetworkConfiguration"]["AwsvpcConfiguration"]
    (group,) = synthesized.of_type("AWS::EC2::SecurityGroup").values()

    assert network["AssignPublicIp"] == "ENABLED"
    assert service["Properties"]["DesiredCount"] == 0  # until the operator has stored the RPC URL
    assert service["Properties"]["LaunchType"] == "FARGATE"
    assert synthesized.of_type("AWS::EC2::NatGateway") == {}
    assert "SecurityGroupIngress" not in group["Properties"]
    assert len(synthesized.of_type("AWS::EC2::FlowLog")) == 1


def test_a_running_listener_gets_a_heartbeat_alarm_where_silence_is_the_alarm() -> None:
    from aws_cdk import aws_cloudwatch as cloudwatch

    from copytrader_infra.application import build_app
    from copytrader_infra.constants import CONTEXT_LISTENER_DESIRED_COUNT

    def alarms(count: int) -> dict[str, Any]:
        _, stack = build_app(context={CONTEXT_LISTENER_DESIRED_COUNT: count})
        children = stack.monitoring.node.children
        return {c.node.id: c.node.default_child for c in children if isinstance(c, cloudwatch.Alarm)}

    running, idle = alarms(1), alarms(0)
    heartbeat = running["ListenerHeartbeatMissing"]
    assert heartbeat.metric_name == "listener_heartbeat" and heartbeat.namespace == "CopyTrader"
    assert heartbeat.treat_missing_data == "breaching"
    assert heartbeat.comparison_operator == "LessThanThreshold" and heartbeat.evaluation_periods == 3
    assert "ListenerHeartbeatMissing" not in idle  # an intentionally stopped listener is not an alarm
    assert {"ListenerChainStale", "ListenerRtdsStale", "ListenerChainMisses", "ListenerRtdsMisses"} <= set(idle)
