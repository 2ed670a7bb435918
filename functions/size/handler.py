"""Lambda: the size step. Fractional Kelly at the executable price after fees (copytrader.sizing)."""

from typing import Any

from copytrader.pipeline import deps, steps
from copytrader.pipeline.telemetry import count, observability, run_step, summary

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    order = run_step("size", metrics, lambda e: steps.size(e, deps.current()), event)
    count(metrics, "size", order["action"], order.get("reason"), stopped=order["action"] != "PLACE")
    logger.info("sized", extra=summary("size", order, idempotency_key=order.get("idempotency_key")))
    return order
