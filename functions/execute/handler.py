"""Lambda: the execute step. One order per whale fill, settled in the ledger (copytrader.execution.protocol)."""

from typing import Any

from copytrader.pipeline import deps, steps
from copytrader.pipeline.telemetry import count, observability, run_step, summary

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run_step("execute", metrics, lambda e: steps.execute(e, deps.current()), event)
    count(metrics, "execute", result["status"], result.get("reason"))
    logger.info("executed", extra=summary("execute", result, idempotency_key=result["idempotency_key"]))
    return result
