"""CDK entry point: `cdk synth` (cdk.json runs this) or `python infra/app.py` (writes cdk.out/ at the repo root)."""

from __future__ import annotations

import os

from copytrader_infra.application import build_app
from copytrader_infra.constants import REPO_ROOT


def main() -> None:
    outdir = None if os.environ.get("CDK_OUTDIR") else str(REPO_ROOT / "cdk.out")
    app, _ = build_app(outdir=outdir)
    app.synth()


if __name__ == "__main__":
    main()
