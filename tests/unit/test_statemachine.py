"""The copy-pipeline ASL: one definition, every task retried only on safe errors, every skip a success."""

import json

import pytest

from copytrader import statemachines


def _item_states():
    return statemachines.definition()["States"]["EachRecord"]["ItemProcessor"]["States"]


def test_render_fills_every_placeholder_and_refuses_gaps():
    arns = {k: f"arn:aws:lambda:us-east-1:1:function:{v}" for k, v in statemachines.COPY_PIPELINE_FUNCTIONS.items()}
    text = statemachines.render(arns)
    assert "${" not in text
    assert all(arn in text for arn in arns.values())
    with pytest.raises(KeyError, match="ExecuteFunctionArn"):
        statemachines.render({k: v for k, v in arns.items() if k != "ExecuteFunctionArn"})


def test_records_are_processed_one_at_a_time_in_order():
    top = statemachines.definition()["States"]["EachRecord"]
    assert top["Type"] == "Map" and top["ItemsPath"] == "$" and top["MaxConcurrency"] == 1


def test_steps_run_in_order_and_each_skip_is_a_named_success():
    states = _item_states()
    order = ["Score", "Size", "RiskCheck", "Execute"]
    for step, choice, nxt in zip(order, ["CopyOrSkip", "PlaceOrSkip", "ApprovedOrRejected"], order[1:], strict=False):
        assert states[step]["Next"] == choice
        assert states[choice]["Choices"][0]["Next"] == nxt
        assert states[states[choice]["Default"]]["Type"] == "Succeed"
    assert states["Execute"]["Next"] == "Executed"


def test_tasks_retry_only_transient_errors():
    safe = {
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "TransientError",
    }
    for name, state in _item_states().items():
        if state["Type"] != "Task":
            continue
        errors = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert errors == safe, name
        assert "States.ALL" not in json.dumps(state)
