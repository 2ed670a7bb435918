"""Lambda: the execute step. One order per whale fill, settled in the ledger (copytrader.execution.protocol).

Besides the outcome (`execute_<status>`, `execute_reason_<code>`) it emits the copy's gap to the whale
(`copy_*` metrics, copytrader.pipeline.telemetry.copy_gap) once per copy: never for a redelivery.

Cold start: the function runs with Lambda SnapStart (infra/copytrader_infra/functions.py). Whatever the init
phase imports is in the snapshot, so `prewarm()` imports the CLOB client (py-clob-client-v2: 0.56 s of imports
with bytecode, 1.05 s without, `make bench`) at init when the settings say live, and no invocation pays for it.
It builds nothing and reads no secret: credentials, HTTP connections and the settings stay per invocation, so no
snapshot holds a secret or a stale socket. In paper mode it does nothing.

The schedule also invokes this function with `{"sweep": ...}`: the reconcile sweep (copytrader.pipeline.sweep).
"""

import importlib
import random
from datetime import datetime
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from copytrader.pipeline import deps, steps
from copytrader.pipeline.telemetry import copy_gap_of, count, emit_copy_gap, observability, run_step, summary
from copytrader.settings import Mode, load_settings

logger, metrics = observability()

# what building a live venue imports (copytrader.pipeline.deps.live_venue); the CLOB client is the expensive part
LIVE_VENUE_MODULES = (
    "copytrader.execution.signing_libs",  # first: py_ecc would raise the recursion limit to 100,000
    "py_clob_client_v2",
    "copytrader.execution.clob_venue",
    "copytrader.execution.credentials",
    "copytrader.execution.preflight",
    "copytrader.polymarket.clob_auth",
)


def prewarm(load: Any = load_settings) -> list[str]:
    """Import the live venue's modules in the init phase (captured by the SnapStart snapshot); paper: nothing.

    Returns the modules imported. Never raises: a settings problem is reported by the first invocation, a
    missing module by the venue that needs it.
    """
    try:
        live = load().mode is Mode.LIVE
    except Exception:
        return []
    imported = []
    if live:
        for name in LIVE_VENUE_MODULES:
            try:
                importlib.import_module(name)
                imported.append(name)
            except ImportError as exc:
                logger.warning("prewarm could not import a venue module", extra={"module": name, "error": str(exc)})
    return imported


def _after_restore() -> None:
    """Environments restored from one snapshot share its state: give each its own random sequence (jitter)."""
    random.seed()


try:  # present in Lambda's python3.12 runtime; absent locally, where there is no snapshot
    from snapshot_restore_py import register_after_restore  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the runtime
    pass
else:  # pragma: no cover
    register_after_restore(_after_restore)

PREWARMED = prewarm()


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and "sweep" in event:  # the schedule's reconcile sweep, not a pipeline state
        return _sweep(event)
    sent_at: list[datetime] = []

    def execute(state: dict[str, Any]) -> dict[str, Any]:
        current = deps.current()
        sent_at.append(current.clock())  # the order leaves after this: the end of the decision latency
        return steps.execute(state, current)

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
    """Settle UNKNOWN/PENDING orders from the venue (copytrader.pipeline.sweep); never places an order."""
    from copytrader.pipeline.sweep import sweep

    report = run_step("reconcile", metrics, lambda e: sweep(e, deps.current()), event)
    for status, n in report["settled"].items():
        metrics.add_metric(name=f"reconcile_settled_{status.lower()}", unit=MetricUnit.Count, value=n)
    metrics.add_metric(name="reconcile_unresolved", unit=MetricUnit.Count, value=report["unresolved"])
    metrics.add_metric(
        name="reconcile_oldest_unresolved_s", unit=MetricUnit.Seconds, value=report["oldest_unresolved_s"]
    )
    logger.info("reconcile sweep", extra={"step": "reconcile", **report})
    return report
