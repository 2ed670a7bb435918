"""The copy pipeline: Express state machine from the shared ASL, the pipe into it, and its four functions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from copytrader.runtime.env import (
    ALERT_TOPIC_ARN,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    SETTINGS_SSM,
    VENUE_SECRET_ARN,
)
from copytrader.store import TABLES
from copytrader.workflows import COPY
from copytrader.workflows.copy.branches import OUTCOME_BRANCHES, STOP_BRANCHES
from copytrader_infra.functions import PIPELINE_FUNCTIONS, FunctionSpec
from copytrader_infra.pipeline import MODE_ENV
from copytrader_infra.storage import Access

pytestmark = pytest.mark.infra

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_TABLE_ENV = {spec.logical: spec.env_var for spec in TABLES}


def _machine(synthesized: Any) -> dict[str, Any]:
    machine: dict[str, Any] = synthesized.resources[synthesized.logical_id(synthesized.stack.pipeline.state_machine)]
    return machine


def _function_id(synthesized: Any, name: str) -> str:
    logical_id: str = synthesized.logical_id(synthesized.stack.pipeline.functions[name].function)
    return logical_id


def _invoke_target(synthesized: Any, name: str) -> dict[str, Any]:
    """What the state machine invokes for `name`: the function's unqualified Arn."""
    return {"Fn::GetAtt": [_function_id(synthesized, name), "Arn"]}


def _staged_definition(synthesized: Any) -> str:
    """The ASL file as CDK staged it: the asset whose S3 key the state machine's definition points at."""
    key = _machine(synthesized)["Properties"]["DefinitionS3Location"]["Key"]
    assets = synthesized.read_json(f"{synthesized.stack.stack_name}.assets.json")["files"]
    (source,) = [asset["source"] for asset in assets.values() if key.startswith(_asset_hash(asset))]
    return (synthesized.outdir / source["path"]).read_text()


def _asset_hash(asset: dict[str, Any]) -> str:
    (destination,) = asset["destinations"].values()
    object_key: str = destination["objectKey"]
    return object_key.split(".")[0]


def test_state_machine_is_express_and_logs_without_payloads(synthesized: Any) -> None:
    props = _machine(synthesized)["Properties"]
    machines = synthesized.of_type("AWS::StepFunctions::StateMachine")
    express = [lid for lid, machine in machines.items() if machine["Properties"]["StateMachineType"] == "EXPRESS"]
    assert express == [synthesized.logical_id(synthesized.stack.pipeline.state_machine)]  # the scoring one is STANDARD
    assert props["StateMachineType"] == "EXPRESS"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_definition_is_the_shared_asl_with_every_placeholder_filled_by_its_function(synthesized: Any) -> None:
    substitutions = _machine(synthesized)["Properties"]["DefinitionSubstitutions"]
    definition = _staged_definition(synthesized)

    assert set(_PLACEHOLDER.findall(definition)) == set(substitutions) == set(COPY.functions)
    for placeholder, name in COPY.functions.items():
        assert substitutions[placeholder] == _invoke_target(synthesized, name)
    filled = _PLACEHOLDER.sub(lambda m: f"arn:aws:lambda:us-east-1:123456789012:function:{m.group(1)}", definition)
    assert "${" not in filled
    assert json.loads(filled)["StartAt"] == "EachRecord"  # a Map over the pipe's array of records


def test_state_machine_may_invoke_exactly_the_four_functions(synthesized: Any) -> None:
    role_id = synthesized.logical_id(synthesized.stack.pipeline.state_machine.role)
    invokes = [
        s for s in synthesized.role_statements(role_id) if "lambda:InvokeFunction" in synthesized.as_list(s["Action"])
    ]
    (statement,) = invokes
    expected = [_invoke_target(synthesized, spec.name) for spec in PIPELINE_FUNCTIONS]
    assert sorted(map(json.dumps, statement["Resource"])) == sorted(map(json.dumps, expected))


def test_pipe_feeds_the_queue_to_the_state_machine_one_record_at_a_time(synthesized: Any) -> None:
    stack = synthesized.stack
    queue_id = synthesized.logical_id(stack.messaging.trade_queue)
    machine_id = synthesized.logical_id(stack.pipeline.state_machine)
    (pipe,) = synthesized.of_type("AWS::Pipes::Pipe").values()
    props = pipe["Properties"]

    assert props["Source"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert props["SourceParameters"] == {"SqsQueueParameters": {"BatchSize": 1}}
    assert props["Target"] == {"Ref": machine_id}
    assert props["TargetParameters"] == {"StepFunctionStateMachineParameters": {"InvocationType": "REQUEST_RESPONSE"}}


def test_pipe_logs_its_errors_to_a_log_group_with_retention(synthesized: Any) -> None:
    (pipe,) = synthesized.of_type("AWS::Pipes::Pipe").values()
    logging = pipe["Properties"]["LogConfiguration"]
    log_group_id = logging["CloudwatchLogsLogDestination"]["LogGroupArn"]["Fn::GetAtt"][0]
    log_group = synthesized.resources[log_group_id]

    assert logging["Level"] == "ERROR"
    assert "IncludeExecutionData" not in logging  # no trade payloads in the logs, as for the state machines
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 30  # as every other log group of the stack
    assert "KmsKeyId" not in log_group["Properties"]  # CloudWatch Logs' own encryption, as the others


def test_pipe_role_can_only_read_the_queue_start_the_machine_and_write_its_log(synthesized: Any) -> None:
    stack = synthesized.stack
    (pipe,) = synthesized.of_type("AWS::Pipes::Pipe").values()
    role_id = pipe["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    granted = {
        (action, json.dumps(statement["Resource"]))
        for statement in synthesized.role_statements(role_id)
        for action in synthesized.as_list(statement["Action"])
    }
    queue_arn = json.dumps({"Fn::GetAtt": [synthesized.logical_id(stack.messaging.trade_queue), "Arn"]})
    machine_arn = json.dumps({"Ref": synthesized.logical_id(stack.pipeline.state_machine)})
    log_group_arn = json.dumps(pipe["Properties"]["LogConfiguration"]["CloudwatchLogsLogDestination"]["LogGroupArn"])
    assert granted == {
        ("sqs:ReceiveMessage", queue_arn),
        ("sqs:DeleteMessage", queue_arn),
        ("sqs:GetQueueAttributes", queue_arn),
        ("states:StartSyncExecution", machine_arn),
        ("logs:CreateLogStream", log_group_arn),  # its error log
        ("logs:PutLogEvents", log_group_arn),
    }


@pytest.mark.parametrize("spec", PIPELINE_FUNCTIONS, ids=lambda spec: spec.name)
def test_function_runs_python312_on_arm64_with_both_layers(synthesized: Any, spec: FunctionSpec) -> None:
    props = synthesized.resources[_function_id(synthesized, spec.name)]["Properties"]
    layer_ids = [synthesized.logical_id(layer) for layer in synthesized.stack.layers.for_spec(spec)]

    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "handler.lambda_handler"
    assert props["Layers"] == [{"Ref": layer_id} for layer_id in layer_ids]
    assert props["MemorySize"] == spec.memory_mb
    assert props["Timeout"] == spec.timeout.to_seconds()
    assert "ReservedConcurrentExecutions" not in props  # limits hold by conditional writes, not throttling
    assert "TracingConfig" not in props or props["TracingConfig"] == {"Mode": "PassThrough"}
    log_group = synthesized.resources[props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_layers_target_the_same_runtime_and_architecture(synthesized: Any) -> None:
    layers = synthesized.of_type("AWS::Lambda::LayerVersion")
    assert len(layers) == 5  # dependencies, domain and venue; the scoring workflow's quant and http
    for layer in layers.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


@pytest.mark.parametrize("spec", PIPELINE_FUNCTIONS, ids=lambda spec: spec.name)
def test_function_environment_names_only_what_it_uses(synthesized: Any, spec: FunctionSpec) -> None:
    stack = synthesized.stack
    variables = synthesized.resources[_function_id(synthesized, spec.name)]["Properties"]["Environment"]["Variables"]
    expected = {POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, SETTINGS_SSM}
    expected |= {_TABLE_ENV[table] for table in (*spec.reads, *spec.writes)}
    expected |= {VENUE_SECRET_ARN} if spec.reads_venue_secret else set()
    expected |= {ALERT_TOPIC_ARN} if spec.publishes_alerts else set()
    expected |= {MODE_ENV}  # the session's stack is a paper deployment

    assert set(variables) == expected
    assert variables[SETTINGS_SSM] == {"Ref": synthesized.logical_id(stack.configuration.settings)}
    assert variables[MODE_ENV] == "paper"
    for table in (*spec.reads, *spec.writes):
        assert variables[_TABLE_ENV[table]] == {"Ref": synthesized.logical_id(stack.storage.tables[table])}


@pytest.mark.parametrize("spec", PIPELINE_FUNCTIONS, ids=lambda spec: spec.name)
def test_function_role_reaches_only_its_tables(synthesized: Any, spec: FunctionSpec) -> None:
    stack = synthesized.stack
    role_id = synthesized.logical_id(stack.pipeline.functions[spec.name].role)
    table_ids = {synthesized.logical_id(table): name for name, table in stack.storage.tables.items()}
    readable, writable = set(), set()
    for statement in synthesized.role_statements(role_id):
        actions = set(synthesized.as_list(statement["Action"]))
        if not any(action.startswith("dynamodb:") for action in actions):
            continue
        tables = {name for lid, name in table_ids.items() if synthesized.mentions(statement["Resource"], lid)}
        assert actions <= set(Access.READ_WRITE.value)
        readable |= tables
        if actions & {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}:
            writable |= tables

    assert readable == set(spec.reads) | set(spec.writes)
    assert writable == set(spec.writes)


@pytest.mark.parametrize("spec", PIPELINE_FUNCTIONS, ids=lambda spec: spec.name)
def test_function_code_asset_is_only_its_handler_folder(synthesized: Any, spec: FunctionSpec) -> None:
    code = synthesized.resources[_function_id(synthesized, spec.name)]["Properties"]["Code"]
    staged = synthesized.outdir / f"asset.{code['S3Key'].removesuffix('.zip')}"
    source = spec.folder

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}

    assert files(staged) == files(source)
    assert "handler.py" in files(staged)


def test_no_function_pays_snapstarts_idle_charge_for_a_snapshot_that_would_hold_nothing_of_the_venue(
    synthesized: Any,
) -> None:
    """SnapStart on execute cost ~6.7 USD a month idle while its snapshot, taken at deploy with the settings then in
    force (paper), imported none of the CLOB client; the measurement is in the README (Cold starts and SnapStart)."""
    for spec in PIPELINE_FUNCTIONS:
        assert "SnapStart" not in synthesized.resources[_function_id(synthesized, spec.name)]["Properties"]
    assert synthesized.of_type("AWS::Lambda::Alias") == {}
    assert synthesized.of_type("AWS::Lambda::Version") == {}  # no published version (and no snapshot) to pay for


def _pipeline_alarms(synthesized: Any) -> dict[str, dict[str, Any]]:
    return {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("Namespace") == "CopyTrader"
    }


def test_an_unknown_execution_outcome_alarms_at_once(synthesized: Any) -> None:
    props = _pipeline_alarms(synthesized)["execute_unknown"]
    assert props["Dimensions"] == [{"Name": "service", "Value": "copytrader"}]
    assert props["Statistic"] == "Sum" and props["Period"] == 60
    assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["EvaluationPeriods"] == 1 and props["TreatMissingData"] == "notBreaching"
    assert props["AlarmActions"] == [{"Ref": synthesized.logical_id(synthesized.stack.alerts.topic)}]


def test_dead_letter_queue_alarms_on_its_first_message(synthesized: Any) -> None:
    dead_letters = synthesized.logical_id(synthesized.stack.messaging.dead_letter_queue)
    (props,) = [
        alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and synthesized.mentions(alarm["Properties"]["Dimensions"], dead_letters)
    ]
    assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert props["AlarmActions"] == [{"Ref": synthesized.logical_id(synthesized.stack.alerts.topic)}]


def _dashboard_body(synthesized: Any) -> str:
    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in parts)


def test_dashboard_shows_every_branch_every_reason_metric_and_the_copy_gap(synthesized: Any) -> None:
    body = _dashboard_body(synthesized)
    for branch in set(STOP_BRANCHES.values()) | set(OUTCOME_BRANCHES.values()):
        assert f'"label":"{branch}"' in body, branch
    for reason, branch in STOP_BRANCHES.items():
        steps = ("risk",) if branch.startswith("Rejected") else ("score", "size")
        for step in steps:
            assert f'"{step}_reason_{reason.value}"' in body, (step, reason)
    for name in (
        "copy_detection_latency_ms",
        "copy_decision_latency_ms",
        "copy_price_gap_ticks",
        "copy_fill_ratio",
        "execute_redelivered",
        "score_unrouted_reason",
        "size_unrouted_reason",
        "risk_unrouted_reason",
    ):
        assert f'"{name}"' in body, name


def test_reconcile_sweep_invokes_only_the_execute_function_every_five_minutes(synthesized: Any) -> None:
    from copytrader_infra.pipeline import RECONCILE_LIMIT

    execute_id = _function_id(synthesized, "execute")
    sweeps = [
        s["Properties"]
        for s in synthesized.of_type("AWS::Scheduler::Schedule").values()
        if synthesized.mentions(s["Properties"]["Target"]["Arn"], execute_id)
    ]
    (props,) = sweeps
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    assert json.loads(props["Target"]["Input"]) == {"sweep": {"limit": RECONCILE_LIMIT}}
    role_id = props["Target"]["RoleArn"]["Fn::GetAtt"][0]
    granted = {
        (action, json.dumps(resource))
        for statement in synthesized.role_statements(role_id)
        for action in synthesized.as_list(statement["Action"])
        for resource in synthesized.as_list(statement["Resource"])
    }
    assert {action for action, _ in granted} == {"lambda:InvokeFunction"}
    assert all(execute_id in resource for _, resource in granted)


def test_unresolved_orders_and_a_failing_sweep_alarm(synthesized: Any) -> None:
    alarms = {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if "MetricName" in alarm["Properties"]
    }
    oldest = alarms["reconcile_oldest_unresolved_s"]
    assert oldest["Statistic"] == "Maximum" and oldest["Threshold"] == 1800 and oldest["Period"] == 300
    assert alarms["reconcile_error"]["EvaluationPeriods"] == 2
