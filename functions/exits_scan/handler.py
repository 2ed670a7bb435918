"""Lambda: the every-minute exits job (copytrader.workflows.exits.steps.scan).

Its metrics have the `exits_scan_` prefix: one per exit reason (`exits_scan_reason_<reason>`), the signals published
and those SQS refused.
"""

from typing import Any

from copytrader.runtime.observability import observability, run_counted
from copytrader.workflows import wiring
from copytrader.workflows.exits import steps

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return run_counted("exits_scan", steps.scan, event, wiring.current(), metrics, logger)
