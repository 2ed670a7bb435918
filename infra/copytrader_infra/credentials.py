"""Secrets: the venue credentials (execute; in a live deployment also the books' settle and venue_sync) and the
listener's Polygon RPC URL.

No value is in the template. CloudFormation creates each secret with a random placeholder; the operator
writes the real value with `aws secretsmanager put-secret-value --secret-id <output ARN>`. Neither secret
can be rotated by AWS: the CLOB API credentials and the wallet key are issued by Polymarket and the
wallet, and the RPC URL by its provider.
"""

from __future__ import annotations

import jsii
from aws_cdk import IStableListProducer, Lazy, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from copytrader_infra.nag import acknowledge

_NO_ROTATION = (
    "Not rotatable by AWS: the value is issued outside AWS (Polymarket CLOB API credentials and the "
    "wallet's private key; the RPC provider's URL) and is replaced by the operator with put-secret-value."
)


@jsii.implements(IStableListProducer)
class _Arns:
    """The readers' role ARNs, read when the template is written (every reader is known by then)."""

    def __init__(self, readers: list[iam.IRole]) -> None:
        self._readers = readers

    def produce(self) -> list[str]:
        return [r.role_arn for r in self._readers]


class Credentials(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.venue_key = kms.Key(self, "VenueKey", description="copytrader venue credentials", enable_key_rotation=True)
        self.venue_secret = secretsmanager.Secret(
            self,
            "VenueSecret",
            description="Polymarket CLOB API key, secret and passphrase, and the wallet private key (JSON)",
            encryption_key=self.venue_key,
            removal_policy=RemovalPolicy.RETAIN,  # the wallet key may exist nowhere else
        )
        self.rpc_url_secret = secretsmanager.Secret(
            self,
            "RpcUrlSecret",
            description="Polygon RPC WebSocket URL for the listener (embeds the provider's API key)",
            removal_policy=RemovalPolicy.DESTROY,
        )
        acknowledge(self, "AwsSolutions-SMG4", _NO_ROTATION)
        self._venue_readers: list[iam.IRole] = []

    @property
    def venue_readers(self) -> tuple[iam.IRole, ...]:
        return tuple(self._venue_readers)

    def restrict_venue_secret_to(self, reader: iam.IRole) -> None:
        """Let `reader` read the venue secret and deny its value to every other principal, admins included.

        The readers are the functions that sign with the wallet key: execute (orders) and, in a live deployment,
        the books' settle (redemptions) and venue_sync (the wallet and the chain endpoint). The deny sits in the
        secret's resource policy, so a broad identity policy elsewhere in the account cannot reach the wallet key.
        Writing a new value stays possible; break-glass is deleting the policy.
        """
        if any(r is reader for r in self._venue_readers):
            raise ValueError(f"{reader.node.path} already reads the venue secret")
        self._venue_readers.append(reader)
        self.venue_secret.grant_read(reader)
        if len(self._venue_readers) > 1:
            return  # the one deny statement lists every reader (below)
        self.venue_secret.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyItsReadersGetTheValue",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["secretsmanager:GetSecretValue"],
                resources=["*"],
                conditions={"StringNotEquals": {"aws:PrincipalArn": Lazy.list(_Arns(self._venue_readers))}},
            )
        )
