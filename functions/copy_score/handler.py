"""Lambda: the copy workflow's score step. Is this whale fill worth copying? (copytrader.workflows.copy.steps.score)"""

from typing import Any

from copytrader.runtime.observability import observability, run_step, summary
from copytrader.workflows import wiring
from copytrader.workflows.copy import steps
from copytrader.workflows.copy.telemetry import count

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    out = run_step("score", metrics, lambda e: steps.score(e, wiring.current()), event)
    signal = out["signal"]
    count(metrics, "score", signal["action"], signal.get("reason"), stopped=signal["action"] != "COPY")
    trade = signal.get("trade") or {}
    logger.info("scored", extra=summary("score", signal, trade_key=trade.get("key"), wallet=trade.get("wallet")))
    return out
