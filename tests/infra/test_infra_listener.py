"""The Fargate listener: ARM64 task, its grants, the image's build context, and a service without NAT."""

from __future__ import annotations

import json
from typing import Any

import pytest

from copytrader.runtime.env import EVENT_BUS_NAME, TRADE_QUEUE_URL
from copytrader.store.connection import table_env_var
from copytrader_infra.constants import POLYGON_RPC_URL_ENV
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
    assert names >= {TRADE_QUEUE_URL, EVENT_BUS_NAME, *(table_env_var(t) for t in ("trades", "whales", "watermarks"))}
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    log_group = synthesized.resources[container["LogConfiguration"]["Options"]["awslogs-group"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


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
    whales_index = json.dumps({"Fn::Join": ["", [json.loads(arn(whales)), "/index/by_status"]]})
    unpublished_index = json.dumps({"Fn::Join": ["", [json.loads(arn(trades)), "/index/unpublished"]]})
    assert set(by_resource) == {
        arn(stack.messaging.trade_queue),
        arn(stack.messaging.event_bus),
        arn(trades),
        unpublished_index,  # the sweep for claims a killed listener left unpublished
        arn(watermarks),
        arn(whales),
        whales_index,
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
