"""What every benchmark returns, and the percentile they share."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str  # unit last: _ms, _s, _per_s
    value: float
    description: str


class BenchmarkError(RuntimeError):
    """The benchmark did not measure what it claims (a trade skipped, an execution failed)."""


def p(samples_s: list[float], q: int) -> float:
    """The q-th percentile of samples in seconds, in milliseconds (linear interpolation)."""
    return statistics.quantiles(samples_s, n=100, method="inclusive")[q - 1] * 1000
