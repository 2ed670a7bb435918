"""DynamoDB: one `TableV2` per `copytrader.store.TABLES` entry, and the grants on them.

Tables are never declared here a second time: key schema, indexes and TTL are read from the PynamoDB
models' `TableSpec`s, so the handlers, local mode and the cloud share one definition. Physical names are
left to CloudFormation and reach the code through each spec's `COPYTRADER_TABLE_<NAME>` variable.
"""

from __future__ import annotations

from enum import Enum

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from copytrader.store.provisioning import TABLES, KeySpec, TableSpec
from copytrader_infra.constants import MONEY_TABLES
from copytrader_infra.naming import pascal_case

_ATTRIBUTE_TYPES = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

# Item-level actions only. No Scan (the hot path reads by key or through an index), no table-level reads
# (PynamoDB 6 calls DescribeTable only for `exists`/`count`/`create_table`), no stream actions. No DeleteItem and
# no BatchWriteItem: no code path deletes an item (what goes away, such as claims, stances and rate counters,
# expires by TTL, which needs no grant), and the two batch writers, scoring's select on the whales table and the
# listener on the price marks table, get that action by itself (scoring.py, listener.py).
# tests/infra/test_infra_security.py holds the code and the grants to this.
_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
_WRITE_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem")


class Access(Enum):
    READ = _READ_ACTIONS
    READ_WRITE = _READ_ACTIONS + _WRITE_ACTIONS


class Storage(Construct):
    """Every table, by logical name (`storage.tables["orders"]`), plus its spec."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.specs: dict[str, TableSpec] = {spec.logical: spec for spec in TABLES}
        self.tables: dict[str, dynamodb.TableV2] = {spec.logical: self._table(spec) for spec in TABLES}

    def grant(self, grantee: iam.IGrantable, access: Access, *logical_names: str) -> None:
        """Allow item access to the named tables and to each of their indexes, listed by name (no `index/*`)."""
        if not logical_names:
            return
        resources: list[str] = []
        for logical in logical_names:
            arn = self.tables[logical].table_arn
            resources.append(arn)
            resources.extend(f"{arn}/index/{index.name}" for index in self.specs[logical].indexes)
        iam.Grant.add_to_principal(grantee=grantee, actions=list(access.value), resource_arns=resources)

    def environment(self, *logical_names: str) -> dict[str, str]:
        """The `COPYTRADER_TABLE_<NAME>` variables for the named tables."""
        return {self.specs[name].env_var: self.tables[name].table_name for name in logical_names}

    def _table(self, spec: TableSpec) -> dynamodb.TableV2:
        holds_money = spec.logical in MONEY_TABLES
        return dynamodb.TableV2(
            self,
            f"{pascal_case(spec.logical)}Table",
            partition_key=_attribute(spec.partition_key),
            sort_key=_attribute(spec.sort_key) if spec.sort_key else None,
            billing=dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            # PynamoDB's models project every attribute (AllProjection) into their indexes.
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=index.name,
                    partition_key=_attribute(index.partition_key),
                    sort_key=_attribute(index.sort_key) if index.sort_key else None,
                    projection_type=dynamodb.ProjectionType.ALL,
                )
                for index in spec.indexes
            ],
            deletion_protection=holds_money,
            removal_policy=RemovalPolicy.RETAIN if holds_money else RemovalPolicy.DESTROY,
        )


def _attribute(key: KeySpec) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=key.name, type=_ATTRIBUTE_TYPES[key.type])
