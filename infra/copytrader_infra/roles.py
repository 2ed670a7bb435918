"""Roles that an AWS service assumes on this account's behalf (Scheduler, Pipes), confined to this account."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct


def service_role(scope: Construct, construct_id: str, service: str, description: str) -> iam.Role:
    """A role only `service` (e.g. "scheduler.amazonaws.com") may assume, and only for this account
    (`aws:SourceAccount`: the confused-deputy guard); it holds nothing until the caller grants it."""
    return iam.Role(
        scope,
        construct_id,
        assumed_by=iam.ServicePrincipal(service, conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}),
        description=description,
    )
