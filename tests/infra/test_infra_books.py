"""The books workflow in the synthesized template (copytrader_infra/books.py): the hourly schedule, a state machine
that invokes exactly its functions (settle, audit, venue sync), an audit and a venue sync that cannot write money,
and the alarms on what they find."""

from __future__ import annotations

import json
from typing import Any

import pytest

from copytrader.workflows import BOOKS

pytestmark = pytest.mark.infra
MONEY_TABLES = ("risk", "orders", "positions", "ledger")
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def _books(synthesized: Any) -> Any:
    return synthesized.stack.books


def _table_ids(synthesized: Any, names: tuple[str, ...]) -> set[str]:
    return {synthesized.logical_id(synthesized.stack.storage.tables[name]) for name in names}


def _written_tables(synthesized: Any, role: Any) -> set[str]:
    """Logical ids of the tables the role may write (any write action on the table's ARN)."""
    written = set()
    for statement in synthesized.role_statements(synthesized.logical_id(role)):
        if not set(synthesized.as_list(statement["Action"])) & set(WRITES):
            continue
        for resource in synthesized.as_list(statement["Resource"]):
            text = json.dumps(resource)
            written |= {t for t in _table_ids(synthesized, (*MONEY_TABLES, "markets")) if t in text}
    return written


def test_the_state_machine_invokes_exactly_its_steps(synthesized: Any) -> None:
    books = _books(synthesized)
    machine = synthesized.of_type("AWS::StepFunctions::StateMachine")[synthesized.logical_id(books.state_machine)]
    definition = json.dumps(machine["Properties"])  # the definition's placeholders filled with the function ARNs
    for name in BOOKS.steps:
        assert synthesized.logical_id(books.functions[name].function) in definition
    statements = synthesized.role_statements(synthesized.logical_id(books.state_machine.role))
    invoked = [r for s in statements if "lambda:InvokeFunction" in synthesized.as_list(s["Action"]) for r in
               synthesized.as_list(s["Resource"])]  # fmt: skip
    assert sorted(json.dumps(r) for r in invoked) == sorted(
        json.dumps({"Fn::GetAtt": [synthesized.logical_id(books.functions[n].function), "Arn"]}) for n in BOOKS.steps
    )


def test_an_hourly_schedule_starts_it(synthesized: Any) -> None:
    books = _books(synthesized)
    (schedule,) = [
        s for s in synthesized.of_type("AWS::Scheduler::Schedule").values() if "books" in s["Properties"]["Description"]
    ]
    assert schedule["Properties"]["ScheduleExpression"] == "cron(17 * * * ? *)"
    assert schedule["Properties"]["Target"]["Arn"] == {"Ref": synthesized.logical_id(books.state_machine)}


def test_settle_writes_the_money_it_redeems_and_the_audit_writes_no_money(synthesized: Any) -> None:
    books = _books(synthesized)
    money = _table_ids(synthesized, ("risk", "positions", "ledger"))
    markets = _table_ids(synthesized, ("markets",))
    assert _written_tables(synthesized, books.functions["settle"].role) == money | markets
    assert _written_tables(synthesized, books.functions["audit"].role) == markets


def test_an_audit_violation_or_a_missing_audit_raises_an_alarm(synthesized: Any) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }
    violations = alarms["books_audit_violations"]
    assert (violations["Statistic"], violations["Period"], violations["Threshold"]) == ("Maximum", 3600, 1)
    assert violations["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    missing = alarms["books_audit_checks"]
    assert (missing["ComparisonOperator"], missing["TreatMissingData"], missing["EvaluationPeriods"]) == (
        "LessThanThreshold", "breaching", 2,
    )  # fmt: skip


def test_the_dashboard_shows_marked_equity_and_stale_marks_from_the_books_run(synthesized: Any) -> None:
    from copytrader_infra.metrics import MARK_QUALITY_METRICS, MARKED_EQUITY_METRICS

    (dashboard,) = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    text = "".join(part if isinstance(part, str) else json.dumps(part) for part in parts)
    assert MARKED_EQUITY_METRICS == ("books_settle_equity_marked", "books_settle_unrealized_pnl")
    assert MARK_QUALITY_METRICS == ("books_settle_stale_marks", "books_settle_unmarked_positions")
    for name in (*MARKED_EQUITY_METRICS, *MARK_QUALITY_METRICS):
        assert f'"{name}"' in text, name


def test_the_venue_sync_writes_no_table_and_may_alert(synthesized: Any) -> None:
    books = _books(synthesized)
    assert set(BOOKS.steps) == {"settle", "audit", "venue_sync"}
    sync = books.functions["venue_sync"]
    assert _written_tables(synthesized, sync.role) == set()
    statements = synthesized.role_statements(synthesized.logical_id(sync.role))
    actions = {a for s in statements for a in synthesized.as_list(s["Action"])}
    assert "sns:Publish" in actions and "secretsmanager:GetSecretValue" not in actions


def test_a_venue_sync_difference_a_failed_sync_and_a_redemption_that_burned_nothing_raise_alarms(
    synthesized: Any,
) -> None:
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()
    }
    for metric in ("books_venue_sync_differences", "books_venue_sync_failed", "books_settle_redemption_burned_nothing"):
        alarm = alarms[metric]
        assert (alarm["Statistic"], alarm["Period"], alarm["Threshold"]) == ("Maximum", 3600, 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"


def test_a_live_deployments_settle_and_venue_sync_read_the_venue_secret_and_a_paper_ones_never_do(
    synthesized: Any,
) -> None:
    from copytrader.runtime.env import VENUE_SECRET_ARN
    from copytrader_infra.application import build_app
    from copytrader_infra.constants import CONTEXT_MODE
    from copytrader_infra.region import RECOMMENDED_REGION

    paper = _books(synthesized)
    assert all(VENUE_SECRET_ARN not in f.environment for f in paper.functions.values())
    _, stack = build_app(context={CONTEXT_MODE: "live"}, region=RECOMMENDED_REGION)
    live = {name: VENUE_SECRET_ARN in f.environment for name, f in stack.books.functions.items()}
    assert live == {"settle": True, "audit": False, "venue_sync": True}
    readers = {r.node.path for r in stack.credentials.venue_readers}
    assert readers == {
        "CopyTrader/CopyPipeline/Execute/Role",
        "CopyTrader/Books/BooksSettle/Role",
        "CopyTrader/Books/BooksVenueSync/Role",
    }
