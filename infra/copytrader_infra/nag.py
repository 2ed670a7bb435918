"""cdk-nag (AwsSolutions) as a synth-time validation, and the one way to acknowledge a finding.

Findings are fixed where they can be; an acknowledgement is placed on the narrowest construct that
causes the finding, next to the code, and must say why the finding stays.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

_NAMESPACE = "AwsSolutions"  # the plugin's name: `AwsSolutions::<rule>` is how CDK matches report entries


def enable_aws_solutions_checks(app: App) -> None:
    """Make `app.synth()` fail on any unacknowledged AwsSolutions finding (cdk-nag 3 API)."""
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Accept the AwsSolutions finding `rule_id` (e.g. `AwsSolutions-IAM5[Resource::*]`) for `scope` and below.

    The reason is mandatory and lands in the cloud assembly's metadata next to the rule.
    """
    if len(reason.split()) < 8:
        raise ValueError(f"acknowledging {rule_id} on {scope.node.path} needs a real reason, got {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=f"{_NAMESPACE}::{rule_id}", reason=reason))
