"""Least privilege across the template: no wildcard actions, the venue secret reachable by execute alone."""

from __future__ import annotations

from typing import Any

import pytest

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
    assert statement["Condition"] == {"StringNotEquals": {"aws:PrincipalArn": {"Fn::GetAtt": [execute_role_id, "Arn"]}}}


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
