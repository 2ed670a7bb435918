"""The alert topic: alarms, the execute function and the scoring workflow publish to it; the operator subscribes.

It is encrypted with a customer managed key because CloudWatch alarms cannot publish to a topic under the
AWS managed `aws/sns` key (its key policy cannot grant the CloudWatch service principal).

Who may publish, and by which policy:
- CloudWatch alarms: the topic policy (`enforce_ssl` writes one, which replaces SNS's default policy, so the
  service principal must be allowed there) and the key policy, both only for alarms of this account and region
  (`aws:SourceAccount` and `aws:SourceArn`, the confused-deputy guard);
- the execute function's role and the scoring state machine's role (Notify): their identity policies
  (`grant_publish`), which suffice within the account.
No EventBridge rule targets the topic; one would need its own topic-policy statement for events.amazonaws.com
(tests/infra/test_infra_messaging.py holds every publisher to this list).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

# What publishing to an SSE topic uses of its key (exact actions, no `GenerateDataKey*`).
_PUBLISH_KEY_ACTIONS = ["kms:GenerateDataKey", "kms:Decrypt"]
_CLOUDWATCH = "cloudwatch.amazonaws.com"


class Alerts(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        alarms_here = {
            "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
            "ArnLike": {"aws:SourceArn": self._alarms_of_this_account()},
        }
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
                principals=[iam.ServicePrincipal(_CLOUDWATCH)],
                actions=_PUBLISH_KEY_ACTIONS,
                resources=["*"],  # in a key policy, "*" is this key
                conditions=alarms_here,
            )
        )
        self.topic = sns.Topic(self, "Topic", display_name="copytrader alerts", master_key=self.key, enforce_ssl=True)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsOfThisAccountPublish",
                principals=[iam.ServicePrincipal(_CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=alarms_here,
            )
        )

    def _alarms_of_this_account(self) -> str:
        """arn:<partition>:cloudwatch:<region>:<account>:alarm:*"""
        return Stack.of(self).format_arn(
            service="cloudwatch", resource="alarm", resource_name="*", arn_format=ArnFormat.COLON_RESOURCE_NAME
        )

    def grant_publish(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(grantee=grantee, actions=["sns:Publish"], resource_arns=[self.topic.topic_arn])
        iam.Grant.add_to_principal(grantee=grantee, actions=_PUBLISH_KEY_ACTIONS, resource_arns=[self.key.key_arn])
