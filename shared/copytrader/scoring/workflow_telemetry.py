"""Metrics and the log line of each scoring-workflow step (EMF through Powertools, like the copy pipeline).

Every count a step returns becomes `<step>_<name>` (Count); the step's wall time `<step>_ms`
(Milliseconds); an exception `<step>_error` before it reaches the state machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from copytrader.scoring.workflow_deps import WorkflowDeps
from copytrader.scoring.workflow_steps import StepResult


def run_step(
    step: str,
    fn: Callable[[dict[str, Any], WorkflowDeps], StepResult],
    event: dict[str, Any],
    deps: WorkflowDeps,
    metrics: Metrics,
    logger: Logger,
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = fn(event, deps)
    except Exception:
        metrics.add_metric(name=f"{step}_error", unit=MetricUnit.Count, value=1)
        raise
    finally:
        metrics.add_metric(name=f"{step}_ms", unit=MetricUnit.Milliseconds, value=(time.perf_counter() - started) * 1e3)
    for name, value in result.counts.items():
        metrics.add_metric(name=f"{step}_{name}", unit=MetricUnit.Count, value=value)
    logger.info(step, extra={"step": step, **result.output, "counts": result.counts})
    return result.output
