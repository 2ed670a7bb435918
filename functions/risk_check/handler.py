"""Lambda: the risk_check step. Reserve exposure under every limit with conditional writes (copytrader.risk)."""

from typing import Any

from copytrader.pipeline import deps, steps
from copytrader.pipeline.telemetry import count, observability, run_step, summary

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    decision = run_step("risk_check", metrics, lambda e: steps.risk_check(e, deps.current()), event)
    approved = decision["approved"] is True
    count(metrics, "risk", "approved" if approved else "rejected", decision.get("reason"), stopped=not approved)
    logger.info(
        "risk checked", extra=summary("risk_check", decision, idempotency_key=event["order"]["idempotency_key"])
    )
    return decision
