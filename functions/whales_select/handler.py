"""Lambda: the scoring workflow's Select step. Every batch's evidence -> stage 2 -> whales table, the ranked
universe in S3, an SNS alert when the copied set changes (copytrader.scoring.workflow_steps.select)."""

from typing import Any

from copytrader.pipeline.telemetry import observability
from copytrader.scoring import workflow_deps, workflow_steps
from copytrader.scoring.workflow_telemetry import run_step

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_step("whales_select", workflow_steps.select, event, workflow_deps.current(), metrics, logger)
