"""What every Lambda handler uses to log and measure: one Logger and Metrics pair, and the step runners.

JSON logs and EMF metrics (namespace CopyTrader) through Powertools. No Tracer: X-Ray is off on every function
(its SDK is not in the layers and it costs ~250 ms per cold start; infra/copytrader_infra/functions.py).

- `run_step`: run one step; an exception is counted as `<step>_error` before it reaches the state machine.
- `run_counted`: the same for a step that returns a `StepResult` (the scoring workflow's): also its wall time
  `<step>_ms`, each count as `<step>_<name>`, and one log line with the output and the counts.
- `summary`: the few fields of a step's output worth a log line (never a book, never credentials).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from copytrader.runtime.env import METRICS_NAMESPACE, SERVICE_NAME

D = TypeVar("D")


def observability() -> tuple[Logger, Metrics]:
    """The Logger and Metrics a handler uses.

    Loggers of one service share their keys within a process, so the step is not a logger key: each log line
    names its step (`summary(step, ...)`), which also keeps local mode, where all handlers share a process,
    truthful.
    """
    return Logger(service=SERVICE_NAME), Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


@dataclass(frozen=True)
class StepResult:
    """A step's output (what the state machine carries on) and the counts its handler turns into metrics."""

    output: dict[str, Any]
    counts: dict[str, float]


def run_step(
    step: str, metrics: Metrics, fn: Callable[[dict[str, Any]], dict[str, Any]], event: dict[str, Any]
) -> dict[str, Any]:
    """Run one step; an exception is counted as `<step>_error` before it reaches the state machine."""
    try:
        return fn(event)
    except Exception:
        metrics.add_metric(name=f"{step}_error", unit=MetricUnit.Count, value=1)
        raise


def run_counted(
    step: str,
    fn: Callable[[dict[str, Any], D], StepResult],
    event: dict[str, Any],
    deps: D,
    metrics: Metrics,
    logger: Logger,
) -> dict[str, Any]:
    """Run a counted step: `<step>_error` on an exception, `<step>_ms` always, `<step>_<name>` per count, a log line."""
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


def summary(step: str, payload: dict[str, Any], **context: Any) -> dict[str, Any]:
    """The step and the few fields worth a log line (never the book, never credentials)."""
    keep = ("action", "reason", "detail", "status", "approved", "shares", "limit_price", "filled_shares", "fee")
    return {"step": step, **context, **{k: payload[k] for k in keep if k in payload and payload[k] not in (None, "")}}
