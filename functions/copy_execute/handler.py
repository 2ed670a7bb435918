"""Lambda: the copy workflow's execute step. One order per whale fill, settled in the ledger
(copytrader.workflows.copy.steps.execute, on copytrader.execution.protocol).

Besides the outcome (`execute_<status>`, `execute_reason_<code>`) it emits the copy's gap to the whale
(`copy_*` metrics, copytrader.workflows.copy.telemetry.copy_gap) once per copy: never for a redelivery.

The schedule also invokes this function with `{"sweep": ...}`: the reconcile sweep (steps.sweep), because this
function's role is the one that may read the venue secret. For the same reason, in live mode its first invocation
in a container opens the account from the wallet's balance when it does not exist yet
(copytrader.workflows.copy.live_start).

Cold start: `wiring.prewarm()` imports the CLOB client in the init phase when the settings say live
(copytrader.workflows.wiring says why and what), so no copy imports it halfway. In paper mode it does nothing. No
SnapStart: infra/copytrader_infra/functions.py and the README say why.
"""

from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from copytrader.runtime.observability import observability, run_step, summary
from copytrader.workflows import wiring
from copytrader.workflows.copy import steps
from copytrader.workflows.copy.telemetry import copy_gap_of, count, emit_copy_gap

logger, metrics = observability()


PREWARMED = wiring.prewarm(
    warn=lambda module, error: logger.warning(
        "prewarm could not import a venue module", extra={"module": module, "error": error}
    )
)


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "sweep" in event:  # the schedule's reconcile sweep, not a pipeline state
        return _sweep(event)
    sent_at: list[datetime] = []

    def execute(state: dict[str, Any]) -> dict[str, Any]:
        deps = wiring.current()
        sent_at.append(deps.clock())  # the order leaves after this: the end of the decision latency
        return steps.execute(state, deps)

    result = run_step("execute", metrics, execute, event)
    count(metrics, "execute", result["status"], result.get("reason"))
    if result.get("duplicate"):
        metrics.add_metric(name="execute_redelivered", unit=MetricUnit.Count, value=1)
    gap: dict[str, float] = {}
    try:
        measured = copy_gap_of(event, result, sent_at[0])
        gap = emit_copy_gap(metrics, measured) if measured is not None else {}
    except Exception as exc:  # telemetry never costs the result of an order that was placed
        metrics.add_metric(name="execute_telemetry_error", unit=MetricUnit.Count, value=1)
        logger.warning("copy gap not measured", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
    logger.info("executed", extra=summary("execute", result, idempotency_key=result["idempotency_key"], **gap))
    return result


def _sweep(event: dict[str, Any]) -> dict[str, Any]:
    """Settle UNKNOWN/PENDING orders from the venue and give back orphan reservations (steps.sweep); never places an
    order."""
    report = run_step("reconcile", metrics, lambda e: steps.sweep(e, wiring.current()), event)
    for status, n in report["settled"].items():
        metrics.add_metric(name=f"reconcile_settled_{status.lower()}", unit=MetricUnit.Count, value=n)
    metrics.add_metric(name="reconcile_unresolved", unit=MetricUnit.Count, value=report["unresolved"])
    metrics.add_metric(name="reconcile_failed", unit=MetricUnit.Count, value=report["failed"])
    metrics.add_metric(name="reconcile_released_orphans", unit=MetricUnit.Count, value=report["released"])
    metrics.add_metric(
        name="reconcile_oldest_unresolved_s", unit=MetricUnit.Seconds, value=report["oldest_unresolved_s"]
    )
    logger.info("reconcile sweep", extra={"step": "reconcile", **{k: v for k, v in report.items() if k != "entries"}})
    return report
