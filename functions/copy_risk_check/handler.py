"""Lambda: the copy workflow's risk_check step. Reserve exposure under every limit with conditional writes
(copytrader.workflows.copy.steps.risk_check)."""

from typing import Any

from copytrader.runtime.observability import observability, run_step, summary
from copytrader.workflows import wiring
from copytrader.workflows.copy import steps
from copytrader.workflows.copy.telemetry import count

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    decision = run_step("risk_check", metrics, lambda e: steps.risk_check(e, wiring.current()), event)
    approved = decision["approved"] is True
    count(metrics, "risk", "approved" if approved else "rejected", decision.get("reason"), stopped=not approved)
    order = event.get("order") if isinstance(event, dict) else None
    key = order.get("idempotency_key") if isinstance(order, dict) else None  # bad input is a rejection, not a crash
    logger.info("risk checked", extra=summary("risk_check", decision, idempotency_key=key))
    return decision
