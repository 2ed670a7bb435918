"""Lambda: the score step. Is this whale fill worth copying? (copytrader.decision)"""

from typing import Any

from copytrader.pipeline import deps, steps
from copytrader.pipeline.telemetry import count, observability, run_step, summary

logger, metrics = observability()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    out = run_step("score", metrics, lambda e: steps.score(e, deps.current()), event)
    signal = out["signal"]
    count(metrics, "score", signal["action"], signal.get("reason"), stopped=signal["action"] != "COPY")
    trade = signal.get("trade") or {}
    logger.info("scored", extra=summary("score", signal, trade_key=trade.get("key"), wallet=trade.get("wallet")))
    return out
