"""The exits job in the synthesized template (copytrader_infra/exits.py): a schedule every minute that may invoke
only the scan function, and a function that may send to the copy queue but never read the venue secret nor write
a money table other than its positions' high-water mark."""

from __future__ import annotations

import json
from typing import Any

import pytest

from copytrader.runtime.env import TRADE_QUEUE_URL, VENUE_SECRET_ARN

pytestmark = pytest.mark.infra
WRITES = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")


def test_a_schedule_invokes_the_scan_every_minute_and_nothing_else(synthesized: Any) -> None:
    exits = synthesized.stack.exits
    (schedule,) = [
        s for s in synthesized.of_type("AWS::Scheduler::Schedule").values() if "exit" in s["Properties"]["Description"]
    ]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    function_id = synthesized.logical_id(exits.scan.function)
    assert schedule["Properties"]["Target"]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    role_id = schedule["Properties"]["Target"]["RoleArn"]["Fn::GetAtt"][0]
    statements = synthesized.role_statements(role_id)
    assert [synthesized.as_list(s["Action"]) for s in statements] == [["lambda:InvokeFunction"]]
    assert [synthesized.as_list(s["Resource"]) for s in statements] == [[{"Fn::GetAtt": [function_id, "Arn"]}]]


def test_the_scan_sends_to_the_copy_queue_and_writes_positions_markets_and_marked_equity_only(synthesized: Any) -> None:
    exits = synthesized.stack.exits
    function = synthesized.resources[synthesized.logical_id(exits.scan.function)]
    environment = function["Properties"]["Environment"]["Variables"]
    queue_id = synthesized.logical_id(synthesized.stack.messaging.trade_queue)
    assert environment[TRADE_QUEUE_URL] == {"Ref": queue_id}
    assert VENUE_SECRET_ARN not in environment
    statements = synthesized.role_statements(synthesized.logical_id(exits.scan.role))
    sends = [s for s in statements if "sqs:SendMessage" in synthesized.as_list(s["Action"])]
    assert [synthesized.as_list(s["Resource"]) for s in sends] == [[{"Fn::GetAtt": [queue_id, "Arn"]}]]
    tables = synthesized.stack.storage.tables
    written = set()
    for statement in statements:
        if set(synthesized.as_list(statement["Action"])) & set(WRITES):
            text = json.dumps(statement["Resource"])
            written |= {name for name, table in tables.items() if synthesized.logical_id(table) in text}
    assert written == {"positions", "markets", "risk"}  # risk: the account's marked equity and the halts it trips
    assert not any("secretsmanager" in json.dumps(s["Action"]) for s in statements)
