"""Build the CDK app the same way for the CLI, `python infra/app.py` and the infra tests."""

from __future__ import annotations

import json

from aws_cdk import App

from copytrader_infra.constants import REPO_ROOT, STACK_ID
from copytrader_infra.nag import enable_aws_solutions_checks
from copytrader_infra.stack import CopyTraderStack


def build_app(outdir: str | None = None, context: dict[str, object] | None = None) -> tuple[App, CopyTraderStack]:
    """The app with cdk.json's context, the stack, and cdk-nag checks that fail synth on a finding.

    cdk.json's context (feature flags) is loaded here too, so running the app without the CLI synthesizes
    the same template; the CLI passes the same values (plus any `-c`), which take precedence, as does
    `context` here (tests).
    The stack is environment-agnostic on purpose: no account or region means no context lookups, so
    synth never calls AWS.
    """
    merged = {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], **(context or {})}
    app = App(outdir=outdir, context=merged)
    stack = CopyTraderStack(app, STACK_ID)
    enable_aws_solutions_checks(app)
    return app, stack
