"""Every `copytrader.store.TABLES` entry becomes exactly one table with the spec's keys, indexes and TTL."""

from __future__ import annotations

from typing import Any

import pytest

from copytrader.store import TABLES, TableSpec
from copytrader_infra.constants import MONEY_TABLES

pytestmark = pytest.mark.infra


def _table(synthesized: Any, spec: TableSpec) -> dict[str, Any]:
    resource: dict[str, Any] = synthesized.resources[
        synthesized.logical_id(synthesized.stack.storage.tables[spec.logical])
    ]
    return resource


def _key_schema(partition: Any, sort: Any) -> list[dict[str, str]]:
    schema = [{"AttributeName": partition.name, "KeyType": "HASH"}]
    return schema + ([{"AttributeName": sort.name, "KeyType": "RANGE"}] if sort else [])


def test_one_table_per_spec(synthesized: Any) -> None:
    assert len(synthesized.of_type("AWS::DynamoDB::GlobalTable")) == len(TABLES) == 10  # + stances, marks
    assert synthesized.of_type("AWS::DynamoDB::Table") == {}


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.logical)
def test_table_matches_its_spec(synthesized: Any, spec: TableSpec) -> None:
    props = _table(synthesized, spec)["Properties"]

    assert props["KeySchema"] == _key_schema(spec.partition_key, spec.sort_key)
    declared = {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}
    keys = [spec.partition_key, spec.sort_key, *(k for i in spec.indexes for k in (i.partition_key, i.sort_key))]
    assert declared == {key.name: key.type for key in keys if key}

    indexes = {gsi["IndexName"]: gsi for gsi in props.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {index.name for index in spec.indexes}
    for index in spec.indexes:
        assert indexes[index.name]["KeySchema"] == _key_schema(index.partition_key, index.sort_key)
        assert indexes[index.name]["Projection"] == {"ProjectionType": "ALL"}

    if spec.ttl_attribute:
        assert props["TimeToLiveSpecification"] == {"AttributeName": spec.ttl_attribute, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in props

    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    (replica,) = props["Replicas"]
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}


@pytest.mark.parametrize("spec", TABLES, ids=lambda spec: spec.logical)
def test_money_tables_survive_deletion(synthesized: Any, spec: TableSpec) -> None:
    table = _table(synthesized, spec)
    holds_money = spec.logical in MONEY_TABLES
    assert table["Properties"]["Replicas"][0]["DeletionProtectionEnabled"] is holds_money
    assert table["DeletionPolicy"] == ("Retain" if holds_money else "Delete")


def test_money_tables_exist() -> None:
    assert {spec.logical for spec in TABLES} >= MONEY_TABLES
