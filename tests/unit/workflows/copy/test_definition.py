"""The copy-pipeline ASL: one definition, every task retried only on safe errors, every stop a named success.

The branches come from one mapping, `copytrader.workflows.copy.branches`; these tests hold the ASL to it.
"""

import json
from typing import Any

import pytest

from copytrader.model import ExecutionStatus
from copytrader.reasons import Reason
from copytrader.workflows import COPY
from copytrader.workflows.copy import branches

SAFE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "TransientError",
}


def _item_states() -> dict[str, Any]:
    states: dict[str, Any] = COPY.definition()["States"]["EachRecord"]["ItemProcessor"]["States"]
    return states


def test_render_fills_every_placeholder_and_refuses_gaps():
    arns = {k: f"arn:aws:lambda:us-east-1:1:function:{v}" for k, v in COPY.functions.items()}
    text = COPY.render(arns)
    assert "${" not in text
    assert all(arn in text for arn in arns.values())
    with pytest.raises(KeyError, match="ExecuteFunctionArn"):
        COPY.render({k: v for k, v in arns.items() if k != "ExecuteFunctionArn"})


def test_records_are_processed_one_at_a_time_in_order():
    top = COPY.definition()["States"]["EachRecord"]
    assert top["Type"] == "Map" and top["ItemsPath"] == "$" and top["MaxConcurrency"] == 1


def test_steps_run_in_order_and_each_stop_records_its_step_and_reason():
    states = _item_states()
    steps = [("Score", "CopyOrSkip", "ScoreStopped", "score", "$.signal")]
    steps += [("Size", "PlaceOrSkip", "SizeStopped", "size", "$.order")]
    steps += [("RiskCheck", "ApprovedOrRejected", "RiskStopped", "risk_check", "$.risk")]
    following = ["Size", "RiskCheck", "Execute"]
    for (task, choice, stop, step, path), nxt in zip(steps, following, strict=True):
        assert states[task]["Next"] == choice
        assert [rule["Next"] for rule in states[choice]["Choices"]] == [nxt]
        assert states[choice]["Default"] == stop
        assert states[stop] == {
            "Type": "Pass",
            "Comment": states[stop]["Comment"],
            "Parameters": {"step": step, "reason.$": f"{path}.reason", "detail.$": f"{path}.detail"},
            "ResultPath": "$.stopped",
            "Next": "WhyStopped",
        }
    assert states["Execute"]["Next"] == "ExecutionOutcome"


def test_every_reason_has_a_branch_or_travels_in_the_execution_result():
    unrouted = branches.unrouted_reasons()
    assert unrouted == [], (
        f"Reason codes with no branch: {unrouted}. Map each in copytrader.workflows.copy.branches.STOP_BRANCHES "
        "(or EXECUTION_REASONS if only execute returns it), then add its rule to WhyStopped in "
        "workflows/copy/definition.asl.json (branches.why_stopped_choices() prints the rules)."
    )
    assert not set(branches.STOP_BRANCHES) & branches.EXECUTION_REASONS


def test_why_stopped_routes_every_mapped_reason_exactly_once_to_its_branch():
    choice = _item_states()["WhyStopped"]
    rules = choice["Choices"]
    assert rules[0] == {"Not": {"Variable": "$.stopped.reason", "IsString": True}, "Next": "StoppedOtherReason"}
    seen = [rule["StringEquals"] for rule in rules[1:]]
    duplicated = sorted({r for r in seen if seen.count(r) > 1})
    missing = sorted(r.value for r in branches.STOP_BRANCHES if r.value not in seen)
    unknown = sorted(set(seen) - {r.value for r in Reason})
    assert (duplicated, missing, unknown) == ([], [], []), (
        f"WhyStopped: duplicated {duplicated}, missing {missing}, not a Reason {unknown}; the rules should be "
        f"{json.dumps(branches.why_stopped_choices())}"
    )
    assert rules == branches.why_stopped_choices()
    assert choice["Default"] == branches.STOPPED_OTHER_REASON


def test_every_named_branch_is_a_success():
    states = _item_states()
    for name in (*branches.STOP_BRANCH_NAMES, *branches.OUTCOME_BRANCHES.values()):
        assert states[name]["Type"] == "Succeed", name


def test_execution_outcomes_are_named_per_status_and_an_unexpected_one_is_unknown():
    choice = _item_states()["ExecutionOutcome"]
    assert choice["Choices"] == branches.outcome_choices()
    assert choice["Default"] == "Unknown"
    named = {rule["StringEquals"] for rule in choice["Choices"]}
    assert named == {s.value for s in ExecutionStatus} - {"PENDING"}
    assert set(branches.OUTCOME_BRANCHES.values()) == {
        "Filled",
        "PartlyFilled",
        "NotFilled",
        "VenueRejected",
        "Unknown",
    }


def test_every_state_is_reachable_and_every_transition_exists():
    # Step Functions refuses a definition with an unreachable state, so a branch with no reason must not exist
    states = _item_states()

    def targets(state: dict[str, Any]) -> set[str]:
        found = {state[key] for key in ("Next", "Default") if key in state}
        return found | {rule["Next"] for rule in state.get("Choices", [])}

    reached, frontier = set(), ["Score"]
    while frontier:
        name = frontier.pop()
        if name not in reached:
            reached.add(name)
            frontier.extend(targets(states[name]))
    assert reached == set(states)


@pytest.mark.parametrize(
    ("reason", "branch"),
    [
        (None, "StoppedOtherReason"),
        ("a_reason_from_the_future", "StoppedOtherReason"),
        (Reason.UNTRACKED_WALLET, "SkippedNotTracked"),
        (Reason.PRICE_DRIFT, "SkippedPriceOrBook"),
        (Reason.BELOW_MIN_SIZE, "SkippedTooSmall"),
        (Reason.TOTAL_CAP, "RejectedByLimit"),
        (Reason.BREAKER_OPEN, "RejectedBreaker"),
    ],
)
def test_branch_of_a_reason(reason, branch):
    assert branches.branch_of(reason) == branch
    assert branches.is_routed(reason) is (branch != "StoppedOtherReason")


def test_tasks_retry_only_safe_errors_and_nothing_is_caught():
    for name, state in _item_states().items():
        if state["Type"] != "Task":
            continue
        errors = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        assert errors == SAFE_ERRORS, name
        assert all(r["MaxAttempts"] <= 3 for r in state["Retry"]), name
        assert "Catch" not in state, name  # a failure fails the execution: SQS redelivers, then the DLQ
        assert "States.ALL" not in json.dumps(state) and "States.Timeout" not in json.dumps(state)
