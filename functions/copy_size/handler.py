"""Lambda: the copy workflow's size step. Fractional Kelly at the executable price after fees
(copytrader.workflows.copy.steps.size)."""

from typing import Any

from copytrader.runtime.observability import observability, run_step, summary
from copytrader.workflows import wiring
from copytrader.workflows.copy import steps
from copytrader.workflows.copy.telemetry import count

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order = run_step("size", metrics, lambda e: steps.size(e, wiring.current()), event)
    count(metrics, "size", order["action"], order.get("reason"), stopped=order["action"] != "PLACE")
    logger.info("sized", extra=summary("size", order, idempotency_key=order.get("idempotency_key")))
    return order
