"""Lambda: the scoring workflow's discover step. Leaderboards, large trades and the whales table -> the run's
batches in S3 (copytrader.workflows.scoring.steps.discover).

Its metrics keep the `whales_discover_` prefix the dashboard and alarms read.
"""

from typing import Any

from copytrader.runtime.observability import observability, run_counted
from copytrader.workflows import wiring
from copytrader.workflows.scoring import steps

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_counted("whales_discover", steps.discover, event, wiring.current(), metrics, logger)
