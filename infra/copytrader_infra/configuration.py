"""The settings parameter: the JSON document `copytrader.settings.load_settings` reads through SSM.

It starts as `{}` (every default: paper trading), so a fresh deployment never trades live; the operator
edits it to change limits or switch modes, without a redeploy.
"""

from __future__ import annotations

from aws_cdk import aws_ssm as ssm
from constructs import Construct


class Configuration(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.settings = ssm.StringParameter(
            self,
            "Settings",
            string_value="{}",
            description="copytrader settings JSON (copytrader.settings.Settings); {} means every default",
        )
