"""The alert topic: alarms and the execute function publish to it; the operator subscribes to it.

It is encrypted with a customer managed key because CloudWatch alarms cannot publish to a topic under the
AWS managed `aws/sns` key (its key policy cannot grant the CloudWatch service principal).
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

# What publishing to an SSE topic uses of its key (exact actions, no `GenerateDataKey*`).
_PUBLISH_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]


class Alerts(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            description="copytrader alert topic",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,  # it protects alert messages only, nothing worth keeping
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=_PUBLISH_KEY_ACTIONS,
                resources=["*"],  # in a key policy, "*" is this key
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        self.topic = sns.Topic(self, "Topic", display_name="copytrader alerts", master_key=self.key, enforce_ssl=True)

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=_PUBLISH_KEY_ACTIONS, resource_arns=[self.key.key_arn])
