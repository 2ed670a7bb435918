"""The listener's CloudWatch metrics, emitted as EMF documents on stdout (awslogs ships them; CloudWatch
extracts the metrics), once per reporting interval.

Per interval: `listener_heartbeat` (the process is alive: an alarm on its absence catches a dead task);
every counter's increase as `listener_<counter>` (frames, trades, claims, duplicates, rejects by reason,
reconnects, poll errors...); per source `listener_<source>_up` and `listener_<source>_stale` (0/1) and
`listener_<source>_payload_age_s` (the staleness signal the alarms watch); per source from the settled
reconciliation window `listener_<source>_first`, `_missed` and the lag behind the first source
`listener_<source>_lag_ms` (one value per trade, so CloudWatch can give percentiles).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from copytrader.listener.health import SourceHealth
from copytrader.listener.sightings import SettledWindow
from copytrader.runtime.env import METRICS_NAMESPACE

_UNSAFE = re.compile(r"[^A-Za-z0-9]+")


def metric_name(*parts: str) -> str:
    """`listener_` + the parts joined by `_`, anything but letters and digits folded to `_`."""
    return "listener_" + "_".join(_UNSAFE.sub("_", p).strip("_") for p in parts)


class ListenerTelemetry:
    def __init__(self, counters: Counter[str], health: SourceHealth, metrics: Metrics | None = None) -> None:
        self.counters = counters
        self.health = health
        self.metrics = metrics or Metrics(namespace=METRICS_NAMESPACE, service="listener")
        self._last: Counter[str] = Counter()

    def emit(self, window: SettledWindow | None = None) -> dict[str, Any]:
        """Add this interval's metrics and flush them; returns what was emitted (for the stats log line)."""
        emitted: dict[str, Any] = {metric_name("heartbeat"): 1}
        self.metrics.add_metric(name=metric_name("heartbeat"), unit=MetricUnit.Count, value=1)
        for key, total in sorted(self.counters.items()):
            delta = total - self._last[key]
            if delta:
                self.metrics.add_metric(name=metric_name(key), unit=MetricUnit.Count, value=delta)
                emitted[metric_name(key)] = delta
        self._last = Counter(self.counters)
        for source, state in self.health.snapshot().items():
            for suffix, value in (("up", int(bool(state["up"]))), ("stale", int(bool(state["stale"])))):
                self.metrics.add_metric(name=metric_name(source, suffix), unit=MetricUnit.Count, value=value)
                emitted[metric_name(source, suffix)] = value
            age = state["age_s"]
            if isinstance(age, float | int):
                self.metrics.add_metric(name=metric_name(source, "payload_age_s"), unit=MetricUnit.Seconds, value=age)
                emitted[metric_name(source, "payload_age_s")] = round(float(age), 3)
        if window is not None and window.settled:
            for suffix, counts in (("first", window.first), ("missed", window.missed)):
                for source, n in counts.items():
                    self.metrics.add_metric(name=metric_name(source, suffix), unit=MetricUnit.Count, value=n)
                    emitted[metric_name(source, suffix)] = n
            for source, lags in window.lag_ms.items():
                for lag in lags:
                    self.metrics.add_metric(name=metric_name(source, "lag_ms"), unit=MetricUnit.Milliseconds, value=lag)
                if lags:
                    emitted[metric_name(source, "lag_ms_median")] = sorted(lags)[len(lags) // 2]
        self.metrics.flush_metrics()
        return emitted
