"""Lambda: the scoring workflow's select step. Every batch's evidence -> stage 2 -> whales table, the ranked
universe in S3, an SNS alert when the copied set changes (copytrader.workflows.scoring.steps.select).

Its metrics keep the `whales_select_` prefix the dashboard and alarms read.
"""

from typing import Any

from copytrader.runtime.observability import observability, run_counted
from copytrader.workflows import wiring
from copytrader.workflows.scoring import steps

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_counted("whales_select", steps.select, event, wiring.current(), metrics, logger)
