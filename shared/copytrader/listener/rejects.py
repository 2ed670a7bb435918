"""Inputs that could not become a trade, kept for inspection.

Every reject is counted (`<source>.reject.<reason>`, the listener's metrics), kept in a bounded ring in
memory, and written to the log with its raw input truncated, where an operator finds it (CloudWatch Logs
in AWS). Log lines are sampled per reason (the first `log_first`, then one in `log_every`) so a feed that
turns to garbage cannot flood the log; the counters stay exact.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from dataclasses import dataclass
from datetime import UTC, datetime

logger = logging.getLogger(__name__)
RAW_LIMIT = 2000


@dataclass(frozen=True)
class Rejected:
    source: str
    reason: str
    raw: str
    at: datetime


def _text(raw: object) -> str:
    if isinstance(raw, bytes):
        text = raw.decode("utf-8", "replace")
    elif isinstance(raw, str):
        text = raw
    else:
        try:
            text = json.dumps(raw, default=str, sort_keys=True)
        except (TypeError, ValueError):
            text = repr(raw)
    return text if len(text) <= RAW_LIMIT else text[:RAW_LIMIT] + f"...({len(text)} chars)"


class RejectLog:
    def __init__(self, counters: Counter[str], keep: int = 1000, log_first: int = 20, log_every: int = 1000) -> None:
        self.counters = counters
        self.recent: deque[Rejected] = deque(maxlen=keep)
        self._log_first, self._log_every = log_first, log_every

    def reject(self, source: str, reason: str, raw: object) -> None:
        try:
            key = f"{source}.reject.{reason}"
            self.counters[key] += 1
            item = Rejected(source, reason, _text(raw), datetime.now(UTC))
            self.recent.append(item)
            n = self.counters[key]
            if n <= self._log_first or n % self._log_every == 0:
                logger.warning(
                    "input rejected", extra={"source": source, "reason": reason, "count": n, "raw": item.raw}
                )
        except Exception:  # a reject must never take the listener down
            logger.exception("could not record a rejected input")
