"""Build the CDK app the same way for the CLI, `python infra/app.py` and the infra tests."""

from __future__ import annotations

import json
import os

from aws_cdk import Annotations, App, Environment

from copytrader.settings import Mode
from copytrader_infra.constants import CONTEXT_MODE, REPO_ROOT, STACK_ID
from copytrader_infra.nag import enable_aws_solutions_checks
from copytrader_infra.region import check_region
from copytrader_infra.stack import CopyTraderStack

DEFAULT_REGION_ENV = "CDK_DEFAULT_REGION"  # what the CDK CLI sets from the profile or AWS_REGION


def build_app(
    outdir: str | None = None, context: dict[str, object] | None = None, region: str | None = None
) -> tuple[App, CopyTraderStack]:
    """The app with cdk.json's context, the stack, and cdk-nag checks that fail synth on a finding.

    cdk.json's context (feature flags) is loaded here too, so running the app without the CLI synthesizes
    the same template; the CLI passes the same values (plus any `-c`), which take precedence, as does
    `context` here (tests).

    The stack is synthesized for `region`, else the CLI's (`CDK_DEFAULT_REGION`), else for no region at all. Only
    the region is fixed, never the account, so synth makes no context lookups and never calls AWS. The mode
    (`-c copytrader:mode=live`, paper by default) is checked against the region first (`region.check_region`):
    live is refused where Polymarket would not let it trade; paper deploys anywhere, with a warning there.
    """
    merged = {**json.loads((REPO_ROOT / "cdk.json").read_text())["context"], **(context or {})}
    mode = _mode(merged.get(CONTEXT_MODE, Mode.PAPER.value))
    chosen = region or os.environ.get(DEFAULT_REGION_ENV) or None
    warning = check_region(chosen, mode)  # raises RegionRefused for live mode before anything is built
    app = App(outdir=outdir, context=merged)
    stack = CopyTraderStack(app, STACK_ID, mode=mode, env=Environment(region=chosen) if chosen else None)
    if warning is not None:
        Annotations.of(stack).add_warning_v2("copytrader:region", warning)
    enable_aws_solutions_checks(app)
    return app, stack


def _mode(raw: object) -> Mode:
    try:
        return Mode(str(raw).strip().lower())
    except ValueError:
        raise ValueError(f"{CONTEXT_MODE} must be paper or live, got {raw!r}") from None
