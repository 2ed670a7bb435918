"""The daily whale-scoring workflow: its Standard state machine from the shared ASL, the Distributed Map, the
bucket, the three functions with their layers and least-privilege roles, the schedule and the alarms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from copytrader.runtime.env import SCORING_BUCKET, SETTINGS_SSM
from copytrader.store.connection import table_env_var
from copytrader.workflows import SCORING, SCORING_ALERT_TOPIC, SCORING_CHILD_EXECUTION_TYPE
from copytrader.workflows import SCORING_BUCKET as SCORING_BUCKET_PLACEHOLDER
from copytrader.workflows.scoring import plan as workflow
from copytrader_infra.constants import LAMBDA_UNZIPPED_LIMIT_BYTES
from copytrader_infra.layer_build import unzipped_bytes

pytestmark = pytest.mark.infra

_PLACEHOLDER = re.compile(r"\$\{(\w+)\}")
_NAMES = SCORING.steps


def _scoring(synthesized: Any) -> Any:
    return synthesized.stack.scoring


def _machine_id(synthesized: Any) -> str:
    return str(synthesized.logical_id(_scoring(synthesized).state_machine))


def _function_id(synthesized: Any, name: str) -> str:
    return str(synthesized.logical_id(_scoring(synthesized).functions[name].function))


def _bucket_id(synthesized: Any) -> str:
    return str(synthesized.logical_id(_scoring(synthesized).bucket))


def _staged_definition(synthesized: Any) -> dict[str, Any]:
    """scoring.asl.json as CDK staged it, with every placeholder filled by a recognisable stand-in."""
    props = synthesized.resources[_machine_id(synthesized)]["Properties"]
    key = props["DefinitionS3Location"]["Key"]
    assets = synthesized.read_json(f"{synthesized.stack.stack_name}.assets.json")["files"]
    (source,) = [
        asset["source"]
        for asset in assets.values()
        if key.startswith(next(iter(asset["destinations"].values()))["objectKey"].split(".")[0])
    ]
    text = (synthesized.outdir / source["path"]).read_text()
    substitutions = props["DefinitionSubstitutions"]
    assert set(_PLACEHOLDER.findall(text)) == set(substitutions)
    filled = _PLACEHOLDER.sub(
        lambda m: v if isinstance(v := substitutions[m.group(1)], str) else f"<{m.group(1)}>", text
    )
    definition: dict[str, Any] = json.loads(filled)
    return definition


def _granted(synthesized: Any, role: Any, prefixes: tuple[str, ...] = ("s3:", "dynamodb:")) -> set[tuple[str, str]]:
    """(action, resource as JSON) for the role's statements whose action starts with one of `prefixes`."""
    role_id = synthesized.logical_id(role)
    return {
        (action, json.dumps(resource, sort_keys=True))
        for statement in synthesized.role_statements(role_id)
        for action in synthesized.as_list(statement["Action"])
        if action.startswith(prefixes)
        for resource in synthesized.as_list(statement["Resource"])
    }


def _objects(synthesized: Any, prefix: str) -> str:
    arn = {"Fn::Join": ["", [{"Fn::GetAtt": [_bucket_id(synthesized), "Arn"]}, f"/{prefix}*"]]}
    return json.dumps(arn, sort_keys=True)


def _bucket_arn(synthesized: Any) -> str:
    return json.dumps({"Fn::GetAtt": [_bucket_id(synthesized), "Arn"]}, sort_keys=True)


def _whales_arn(synthesized: Any) -> str:
    table_id = synthesized.logical_id(synthesized.stack.storage.tables["whales"])
    return json.dumps({"Fn::GetAtt": [table_id, "Arn"]}, sort_keys=True)


# ------------------------------------------------------------------------------------------ state machine
def test_state_machine_is_standard_and_logs_every_transition_without_payloads(synthesized: Any) -> None:
    props = synthesized.resources[_machine_id(synthesized)]["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_definition_is_the_shared_asl_with_the_functions_bucket_topic_and_express_children(synthesized: Any) -> None:
    scoring = _scoring(synthesized)
    substitutions = synthesized.resources[_machine_id(synthesized)]["Properties"]["DefinitionSubstitutions"]
    expected_functions = {
        placeholder: {"Fn::GetAtt": [_function_id(synthesized, name), "Arn"]}
        for placeholder, name in SCORING.functions.items()
    }
    assert {k: substitutions[k] for k in SCORING.functions} == expected_functions
    assert substitutions[SCORING_BUCKET_PLACEHOLDER] == {"Ref": _bucket_id(synthesized)}
    assert substitutions[SCORING_ALERT_TOPIC] == {"Ref": synthesized.logical_id(synthesized.stack.alerts.topic)}
    assert substitutions[SCORING_CHILD_EXECUTION_TYPE] == "EXPRESS"
    assert scoring.state_machine is not None

    states = _staged_definition(synthesized)["States"]
    assert _staged_definition(synthesized)["StartAt"] == "Discover"
    batches = states["ScoreBatches"]
    assert batches["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert batches["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert batches["ItemReader"]["Parameters"]["Bucket"] == f"<{SCORING_BUCKET_PLACEHOLDER}>"
    assert batches["MaxConcurrency"] == workflow.MAX_CONCURRENCY
    assert batches["ToleratedFailurePercentage"] == workflow.TOLERATED_FAILURE_PERCENT
    assert states["Notify"]["Resource"] == "arn:aws:states:::sns:publish"
    assert states["Notify"]["Parameters"]["TopicArn"] == f"<{SCORING_ALERT_TOPIC}>"
    # Discover -> (batches?) Map -> Select -> (changed?) Notify -> Scored; no candidates goes straight to Select
    assert states["Discover"]["Next"] == "AnyCandidates"
    assert states["AnyCandidates"]["Default"] == "Select" and states["ScoreBatches"]["Next"] == "Select"
    assert states["Select"]["Next"] == "CopiedSetChanged" and states["CopiedSetChanged"]["Default"] == "Scored"
    assert states["Scored"]["Type"] == "Succeed"


def test_state_machine_role_invokes_the_three_functions_reads_runs_and_runs_only_its_own_children(
    synthesized: Any,
) -> None:
    machine = _scoring(synthesized).state_machine
    role_id = synthesized.logical_id(machine.role)
    statements = synthesized.role_statements(role_id)
    invokes = [s for s in statements if "lambda:InvokeFunction" in synthesized.as_list(s["Action"])]
    (invoke,) = invokes
    expected = sorted(json.dumps({"Fn::GetAtt": [_function_id(synthesized, n), "Arn"]}) for n in _NAMES)
    assert sorted(json.dumps(r) for r in invoke["Resource"]) == expected
    assert _granted(synthesized, machine.role, ("s3:",)) == {("s3:GetObject", _objects(synthesized, "runs/"))}

    started = {
        json.dumps(resource)
        for _, statement in synthesized.identity_statements()
        if "states:StartExecution" in synthesized.as_list(statement["Action"])
        for resource in synthesized.as_list(statement["Resource"])
    }
    # the machine starts its own children and the schedule starts the machine: nothing else is started by anyone
    # but the books' schedule (tests/infra/test_infra_books.py) and the pipe, which starts the copy pipeline
    # synchronously (states:StartSyncExecution)
    books = synthesized.logical_id(synthesized.stack.books.state_machine)
    assert started == {json.dumps({"Ref": _machine_id(synthesized)}), json.dumps({"Ref": books})}


# --------------------------------------------------------------------------------------------- functions
@pytest.mark.parametrize("name", _NAMES)
def test_scoring_function_gets_the_bucket_settings_and_only_the_tables_it_uses(synthesized: Any, name: str) -> None:
    props = synthesized.resources[_function_id(synthesized, name)]["Properties"]
    variables = props["Environment"]["Variables"]
    assert variables[SCORING_BUCKET] == {"Ref": _bucket_id(synthesized)}
    assert SETTINGS_SSM in variables
    table_vars = {k for k in variables if k.startswith("COPYTRADER_TABLE_")}
    assert table_vars == (set() if name == "evidence" else {table_env_var("whales")})
    assert props["Runtime"] == "python3.12" and props["Architectures"] == ["arm64"]


def test_each_scoring_role_holds_exactly_its_bucket_prefixes_and_table_actions(synthesized: Any) -> None:
    functions = _scoring(synthesized).functions
    runs, cache = _objects(synthesized, "runs/"), _objects(synthesized, "cache/")
    bucket, whales = _bucket_arn(synthesized), _whales_arn(synthesized)
    assert _granted(synthesized, functions["discover"].role) == {
        ("s3:PutObject", runs),
        ("dynamodb:Scan", whales),
    }
    assert _granted(synthesized, functions["evidence"].role) == {
        ("s3:GetObject", cache),
        ("s3:PutObject", cache),
        ("s3:PutObject", runs),
        ("s3:ListBucket", bucket),
    }
    assert _granted(synthesized, functions["select"].role) == {
        ("s3:GetObject", runs),
        ("s3:PutObject", runs),
        ("s3:ListBucket", bucket),
        ("dynamodb:Scan", whales),
        ("dynamodb:BatchWriteItem", whales),
    }


def test_only_the_functions_that_run_the_engine_carry_numpy_and_scipy(synthesized: Any) -> None:
    scoring = _scoring(synthesized)
    quant = synthesized.logical_id(scoring.layers.quant)
    for name in _NAMES:
        layers = [ref["Ref"] for ref in synthesized.resources[_function_id(synthesized, name)]["Properties"]["Layers"]]
        assert (quant in layers) is (name != "discover"), name


def test_each_scoring_function_fits_lambdas_unzipped_size_limit(synthesized: Any) -> None:
    stack = synthesized.stack
    scoring = stack.scoring
    builds = {
        synthesized.logical_id(stack.layers.dependencies): stack.layers.dependency_build.path,
        synthesized.logical_id(stack.layers.domain): stack.layers.domain_build.path,
        synthesized.logical_id(scoring.layers.quant): scoring.layers.quant_build.path,
        synthesized.logical_id(scoring.layers.http): scoring.layers.http_build.path,
    }
    for name in _NAMES:
        layers = [ref["Ref"] for ref in synthesized.resources[_function_id(synthesized, name)]["Properties"]["Layers"]]
        total = sum(unzipped_bytes(builds[layer]) for layer in layers)
        assert total < LAMBDA_UNZIPPED_LIMIT_BYTES * 0.9, (name, total)  # 10 % left for the handler and growth


# ------------------------------------------------------------------------------------------------ bucket
def test_bucket_is_private_encrypted_ssl_only_and_expires_only_run_data(synthesized: Any) -> None:
    props = synthesized.resources[_bucket_id(synthesized)]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    expiring = [r for r in props["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in r]
    assert [(r["Prefix"], r["ExpirationInDays"]) for r in expiring] == [(workflow.RUNS_PREFIX, workflow.RUN_DATA_DAYS)]
    assert synthesized.resources[_bucket_id(synthesized)]["DeletionPolicy"] == "Retain"  # the cache took a cold run
    policies = [
        p
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if synthesized.mentions(p, _bucket_id(synthesized))
    ]
    (policy,) = policies
    (deny,) = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ------------------------------------------------------------------------------------ schedule and alarms
def test_schedule_starts_the_machine_daily_at_five_utc_with_a_role_that_can_do_nothing_else(synthesized: Any) -> None:
    (schedule,) = [
        schedule
        for schedule in synthesized.of_type("AWS::Scheduler::Schedule").values()
        if schedule["Properties"]["Target"]["Arn"] == {"Ref": _machine_id(synthesized)}
    ]
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 5 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Etc/UTC"
    assert props["State"] == "ENABLED"
    target = props["Target"]
    assert target["Arn"] == {"Ref": _machine_id(synthesized)}
    assert json.loads(target["Input"]) == {}
    role_id = target["RoleArn"]["Fn::GetAtt"][0]
    granted = {
        (action, json.dumps(resource))
        for statement in synthesized.role_statements(role_id)
        for action in synthesized.as_list(statement["Action"])
        for resource in synthesized.as_list(statement["Resource"])
    }
    assert granted == {("states:StartExecution", json.dumps({"Ref": _machine_id(synthesized)}))}


def test_a_failed_or_timed_out_scoring_run_alarms_to_the_alert_topic(synthesized: Any) -> None:
    machine_id = _machine_id(synthesized)
    topic = {"Ref": synthesized.logical_id(synthesized.stack.alerts.topic)}
    alarms = {
        alarm["Properties"]["MetricName"]: alarm["Properties"]
        for alarm in synthesized.of_type("AWS::CloudWatch::Alarm").values()
        if synthesized.mentions(alarm["Properties"].get("Dimensions", []), machine_id)
    }
    assert set(alarms) == {"ExecutionsFailed", "ExecutionsTimedOut"}
    for props in alarms.values():
        assert props["Namespace"] == "AWS/States"
        assert props["Threshold"] == 1 and props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert props["AlarmActions"] == [topic]


def test_evidence_attempts_and_their_backoff_fit_inside_the_express_childs_five_minutes(synthesized: Any) -> None:
    """An Express child stops at 300 s; attempts x the function's timeout + the retry waits must end before it, or a
    retry is started that can only be cut off (and a batch that would have finished is lost with it)."""
    definition = _staged_definition(synthesized)
    processor = definition["States"]["ScoreBatches"]["ItemProcessor"]
    assert processor["ProcessorConfig"]["ExecutionType"] == "EXPRESS"
    (retry,) = processor["States"]["Evidence"]["Retry"]
    attempts = 1 + retry["MaxAttempts"]
    waits = sum(retry["IntervalSeconds"] * retry["BackoffRate"] ** i for i in range(retry["MaxAttempts"]))
    timeout = synthesized.resources[_function_id(synthesized, "evidence")]["Properties"]["Timeout"]

    assert attempts * timeout + waits <= 300 - 10  # 10 s for the child's start and its state transitions
    assert (attempts, waits, timeout) == (2, 2, 144)  # one retry; a cold cache's 200 /trades pages take ~67 s
