"""The scoring ASL: one definition for CDK and local mode, its Distributed Map, and the settings it shares with code."""

from __future__ import annotations

import json
from typing import Any

import pytest

from copytrader import workflows
from copytrader.workflows import SCORING
from copytrader.workflows.scoring import plan as workflow

_LAMBDA_SAFE = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
}


def _substitutions(child_type: str = workflows.SCORING_CHILD_EXECUTION_TYPE_AWS) -> dict[str, str]:
    arns = {k: f"arn:aws:lambda:us-east-1:1:function:{v}" for k, v in SCORING.functions.items()}
    return {
        **arns,
        workflows.SCORING_BUCKET: "scoring-bucket",
        workflows.SCORING_ALERT_TOPIC: "arn:aws:sns:us-east-1:1:alerts",
        workflows.SCORING_CHILD_EXECUTION_TYPE: child_type,
    }


def _rendered(child_type: str = workflows.SCORING_CHILD_EXECUTION_TYPE_AWS) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCORING.render(_substitutions(child_type)))
    return loaded


def test_render_fills_every_placeholder_and_refuses_gaps() -> None:
    text = SCORING.render(_substitutions())
    assert "${" not in text
    with pytest.raises(KeyError, match="AlertTopicArn"):
        SCORING.render({k: v for k, v in _substitutions().items() if k != workflows.SCORING_ALERT_TOPIC})


def test_discover_then_a_distributed_map_over_the_batches_then_select() -> None:
    definition = _rendered()
    states = definition["States"]
    assert definition["StartAt"] == "Discover"
    assert states["Discover"]["Next"] == "AnyCandidates"
    assert states["AnyCandidates"]["Choices"] == [
        {"Variable": "$.batches", "NumericGreaterThan": 0, "Next": "ScoreBatches"}
    ]
    assert states["AnyCandidates"]["Default"] == "Select"  # no candidate: nothing to map, still a run
    assert states["ScoreBatches"]["Next"] == "Select"
    assert states["Select"]["Next"] == "CopiedSetChanged"
    assert states["CopiedSetChanged"]["Choices"][0]["Next"] == "Notify"
    assert states["CopiedSetChanged"]["Default"] == states["Notify"]["Next"] == "Scored"
    assert states["Scored"]["Type"] == "Succeed"
    assert definition["TimeoutSeconds"] == 4 * 3600


def test_the_map_reads_the_batches_discover_wrote_and_runs_express_children() -> None:
    scored = _rendered()["States"]["ScoreBatches"]
    assert scored["Type"] == "Map"
    assert scored["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": "scoring-bucket", "Key.$": "$.items_key"},
    }
    assert scored["ItemSelector"] == {
        "run_id.$": "$.run_id",
        "as_of.$": "$.as_of",
        "batch.$": "$$.Map.Item.Value.batch",
        "wallets.$": "$$.Map.Item.Value.wallets",
    }
    assert scored["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}
    assert "ItemBatcher" not in scored and "ResultWriter" not in scored  # pre-batched; children write to S3
    assert scored["ResultPath"] is None  # the children's small results are not carried on


def test_local_mode_renders_the_same_definition_with_standard_children() -> None:
    aws, local = _rendered(), _rendered(workflows.SCORING_CHILD_EXECUTION_TYPE_LOCAL)
    local["States"]["ScoreBatches"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    assert local == aws


def test_map_limits_are_the_ones_the_code_plans_for() -> None:
    scored = SCORING.definition()["States"]["ScoreBatches"]
    assert scored["MaxConcurrency"] == workflow.MAX_CONCURRENCY
    assert scored["ToleratedFailurePercentage"] == workflow.TOLERATED_FAILURE_PERCENT
    # moto's grammar reads only a non-integer number token there; AWS accepts both
    assert '"ToleratedFailurePercentage": 10.0' in SCORING.definition_text()


def test_lambda_tasks_retry_only_safe_errors_and_nothing_catches_everything() -> None:
    states = SCORING.definition()["States"]
    tasks = {
        "Discover": states["Discover"],
        "Evidence": states["ScoreBatches"]["ItemProcessor"]["States"]["Evidence"],
        "Select": states["Select"],
    }
    for name, task in tasks.items():
        assert {e for r in task["Retry"] for e in r["ErrorEquals"]} == _LAMBDA_SAFE, name
        assert "Catch" not in task, name
    assert "States.ALL" not in SCORING.definition_text()
    assert states["Notify"]["Resource"] == "arn:aws:states:::sns:publish"
