"""Metrics and log lines every pipeline step emits: one metric per outcome and per reason code."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from copytrader.runtime_env import METRICS_NAMESPACE, SERVICE_NAME


def observability() -> tuple[Logger, Metrics]:
    """The Logger and Metrics a handler uses (JSON logs, EMF metrics in the CopyTrader namespace).

    Loggers of one service share their keys within a process, so the step is not a logger key: each log
    line names its step (`summary(step, ...)`), which also keeps local mode, where all four handlers
    share a process, truthful.
    """
    return Logger(service=SERVICE_NAME), Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)


def count(metrics: Metrics, step: str, outcome: str, reason: str | None) -> None:
    """`<step>_<outcome>` always, plus `<step>_reason_<reason>` for skips and rejections."""
    metrics.add_metric(name=f"{step}_{outcome.lower()}", unit=MetricUnit.Count, value=1)
    if reason:
        metrics.add_metric(name=f"{step}_reason_{reason}", unit=MetricUnit.Count, value=1)


def summary(step: str, payload: dict[str, Any], **context: Any) -> dict[str, Any]:
    """The step and the few fields worth a log line (never the book, never credentials)."""
    keep = ("action", "reason", "detail", "status", "approved", "shares", "limit_price", "filled_shares", "fee")
    return {"step": step, **context, **{k: payload[k] for k in keep if k in payload and payload[k] not in (None, "")}}


def run_step(
    step: str, metrics: Metrics, fn: Callable[[dict[str, Any]], dict[str, Any]], event: dict[str, Any]
) -> dict[str, Any]:
    """Run one step; an exception is counted as `<step>_error` before it reaches the state machine."""
    try:
        return fn(event)
    except Exception:
        metrics.add_metric(name=f"{step}_error", unit=MetricUnit.Count, value=1)
        raise
