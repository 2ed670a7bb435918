"""Lambda: the scoring workflow's Discover step. Leaderboards, large trades and the whales table -> the run's
batches in S3 (copytrader.scoring.workflow_steps.discover)."""

from typing import Any

from copytrader.pipeline.telemetry import observability
from copytrader.scoring import workflow_deps, workflow_steps
from copytrader.scoring.workflow_telemetry import run_step

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_step("whales_discover", workflow_steps.discover, event, workflow_deps.current(), metrics, logger)
