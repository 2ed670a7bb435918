"""Lambda: the scoring workflow's Evidence step (one Distributed Map child). A batch of wallets' histories
(through the S3 cache) and markets -> stage-1 evidence in S3 (copytrader.scoring.workflow_steps.evidence)."""

from typing import Any

from copytrader.pipeline.telemetry import observability
from copytrader.scoring import workflow_deps, workflow_steps
from copytrader.scoring.workflow_telemetry import run_step

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_step("whales_evidence", workflow_steps.evidence, event, workflow_deps.current(), metrics, logger)
