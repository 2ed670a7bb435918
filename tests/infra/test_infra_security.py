"""Least privilege across the template: no wildcard actions, the venue secret reachable by execute alone, no
delete or batch write on the money tables."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from copytrader_infra.constants import MONEY_TABLES

pytestmark = pytest.mark.infra

_SECRET_READS = {"secretsmanager:GetSecretValue", "secretsmanager:*", "*"}


def _grants_secret_read(synthesized: Any, statement: dict[str, Any], secret_id: str) -> bool:
    actions = set(synthesized.as_list(statement["Action"]))
    resources = synthesized.as_list(statement["Resource"])
    reaches = "*" in resources or synthesized.mentions(resources, secret_id)
    return statement["Effect"] == "Allow" and bool(actions & _SECRET_READS) and reaches


def test_no_identity_policy_grants_wildcard_actions(synthesized: Any) -> None:
    for role, statement in synthesized.identity_statements():
        for action in synthesized.as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{role} is granted {action}"


def test_no_role_uses_a_managed_policy_except_cdks_own_vpc_custom_resource(synthesized: Any) -> None:
    with_managed = {
        lid
        for lid, role in synthesized.of_type("AWS::IAM::Role").items()
        if role["Properties"].get("ManagedPolicyArns")
    }
    assert all(lid.startswith("CustomVpcRestrictDefaultSG") for lid in with_managed), with_managed


def test_venue_secret_is_readable_only_by_the_execute_role(synthesized: Any) -> None:
    stack = synthesized.stack
    secret_id = synthesized.logical_id(stack.credentials.venue_secret)
    execute_role_id = synthesized.logical_id(stack.pipeline.functions["execute"].role)

    readers = {role for role, s in synthesized.identity_statements() if _grants_secret_read(synthesized, s, secret_id)}
    assert readers == {execute_role_id}


def test_venue_secret_policy_denies_its_value_to_every_other_principal(synthesized: Any) -> None:
    stack = synthesized.stack
    secret_id = synthesized.logical_id(stack.credentials.venue_secret)
    execute_role_id = synthesized.logical_id(stack.pipeline.functions["execute"].role)
    (policy,) = synthesized.of_type("AWS::SecretsManager::ResourcePolicy").values()

    assert policy["Properties"]["SecretId"] == {"Ref": secret_id}
    (statement,) = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Principal"] == {"AWS": "*"}
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Condition"] == {
        "StringNotEquals": {"aws:PrincipalArn": [{"Fn::GetAtt": [execute_role_id, "Arn"]}]}
    }  # a paper deployment's one reader; a live one adds the books' settle and venue_sync (test_infra_books)


def test_venue_key_lets_only_the_execute_role_decrypt_besides_the_account(synthesized: Any) -> None:
    stack = synthesized.stack
    key = synthesized.resources[synthesized.logical_id(stack.credentials.venue_key)]["Properties"]
    execute_role_id = synthesized.logical_id(stack.pipeline.functions["execute"].role)
    decrypting = [
        s["Principal"]["AWS"]
        for s in key["KeyPolicy"]["Statement"]
        if "kms:Decrypt" in synthesized.as_list(s["Action"]) and not synthesized.mentions(s["Principal"], ":root")
    ]
    assert key["EnableKeyRotation"] is True
    assert decrypting == [{"Fn::GetAtt": [execute_role_id, "Arn"]}]


def test_no_secret_value_is_in_the_template(synthesized: Any) -> None:
    secrets = synthesized.of_type("AWS::SecretsManager::Secret")
    assert len(secrets) == 2
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"]
        assert secret["Properties"]["GenerateSecretString"] == {}  # a random placeholder until the operator sets it


def test_venue_secret_and_its_key_outlive_the_stack(synthesized: Any) -> None:
    credentials = synthesized.stack.credentials
    for construct in (credentials.venue_secret, credentials.venue_key):
        assert synthesized.resources[synthesized.logical_id(construct)]["DeletionPolicy"] == "Retain"


_DELETES = {"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
_SHIPPED = Path(__file__).resolve().parents[2] / "shared" / "copytrader"
_TOOLS = {"cli", "local", "sim"}  # operator and developer tools: they run with the operator's credentials


def test_no_role_may_delete_from_or_batch_write_a_money_table(synthesized: Any) -> None:
    tables = synthesized.stack.storage.tables
    money = {synthesized.logical_id(tables[name]) for name in MONEY_TABLES}
    for role, statement in synthesized.identity_statements():
        if set(synthesized.as_list(statement["Action"])) & _DELETES:
            reached = {lid for lid in money if synthesized.mentions(statement["Resource"], lid)}
            assert not reached, f"{role} may {statement['Action']} on {reached}"


def test_only_scoring_select_and_the_listener_batch_write_and_only_whales_and_price_marks(synthesized: Any) -> None:
    stack = synthesized.stack
    granted = {
        (role, action, json.dumps(statement["Resource"]))
        for role, statement in synthesized.identity_statements()
        for action in synthesized.as_list(statement["Action"])
        if action in _DELETES
    }
    select_role = synthesized.logical_id(stack.scoring.functions["select"].role)
    listener_role = synthesized.logical_id(stack.listener.task_definition.task_role)
    whales = json.dumps({"Fn::GetAtt": [synthesized.logical_id(stack.storage.tables["whales"]), "Arn"]})
    marks = json.dumps({"Fn::GetAtt": [synthesized.logical_id(stack.storage.tables["marks"]), "Arn"]})
    assert granted == {
        (select_role, "dynamodb:BatchWriteItem", whales),
        (listener_role, "dynamodb:BatchWriteItem", marks),
    }


def test_the_shipped_code_deletes_nothing_and_batch_writes_only_whale_statuses_and_price_marks() -> None:
    """The grants above follow the code: a new delete or batch write must come with its grant (and a reason)."""
    calls = re.compile(r"\.delete\(|\bbatch_write\(|delete_item|batch_write_item", re.IGNORECASE)
    found = {
        (path.relative_to(_SHIPPED).as_posix(), match.group(0))
        for path in _SHIPPED.rglob("*.py")
        if _TOOLS.isdisjoint(path.relative_to(_SHIPPED).parts[:1])
        for match in calls.finditer(path.read_text())
    }
    assert found == {("store/whales.py", "batch_write("), ("store/marks.py", "batch_write(")}
