"""A state machine from one of the shared ASL files, as both workflows deploy it.

Logged at level ALL without execution data (where each execution stopped and how long each state took, and no
trades, orders, wallets or evidence in the logs) to a `/aws/vendedlogs/` group (the prefix keeps the account's
CloudWatch Logs resource policy from growing per group) with the project's retention; X-Ray off (the layers
carry no X-Ray SDK: functions.py); and it may invoke exactly the functions its Task states name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from copytrader.workflows import Workflow
from copytrader_infra.constants import LOG_RETENTION
from copytrader_infra.nag import acknowledge


def asl_state_machine(
    scope: Construct,
    *,
    workflow: Workflow,
    log_name: str,
    machine_type: sfn.StateMachineType,
    substitutions: Mapping[str, str],
    invokes: Sequence[str],
) -> sfn.StateMachine:
    """`StateMachine` (and `StateMachineLogs`) in `scope` from the workflow's `definition.asl.json`; `invokes` are
    the function (or alias) ARNs its Task states name, the only ones it may invoke."""
    log_group = logs.LogGroup(
        scope,
        "StateMachineLogs",
        log_group_name=f"/aws/vendedlogs/states/{Stack.of(scope).stack_name}-{log_name}",
        retention=LOG_RETENTION,
        removal_policy=RemovalPolicy.DESTROY,
    )
    machine = sfn.StateMachine(
        scope,
        "StateMachine",
        state_machine_type=machine_type,
        definition_body=sfn.DefinitionBody.from_file(workflow.definition_path()),
        definition_substitutions=dict(substitutions),
        logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        tracing_enabled=False,
    )
    machine.add_to_role_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=list(invokes)))
    acknowledge(
        machine.role,
        "AwsSolutions-IAM5[Resource::*]",
        "CloudWatch Logs vended-log delivery actions (logs:CreateLogDelivery, PutResourcePolicy, ...) that "
        "Step Functions logging needs do not support resource-level permissions.",
    )
    return machine
