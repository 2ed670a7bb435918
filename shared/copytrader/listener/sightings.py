"""Which source saw each fill first, by how much, and which sources missed it (per-source reconciliation).

Every trade a source hands over passes through the outbox, claimed or duplicate, so the outbox notes each
sighting here: trade key -> {source: detected_at}. Once a key is older than `grace_s` (longer than the
slowest source's normal delay: the Data API lags ~5 s behind the block and, in reconciliation mode,
polls each wallet once a minute), it is settled: the earliest source wins, every other source that
reported it contributes its lag behind the winner, and every expected source that never reported it
counts a miss. A miss on a live stream is the signal ANCHORS §2.1 asks for (RTDS silently dropping
trades, a chain filter missing a wallet); a miss on the Data API usually means a wallet was not polled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from copytrader.model import WhaleTrade


@dataclass
class SettledWindow:
    """What settling found: counts per source, and the lag (ms) of each non-first sighting per source."""

    settled: int = 0
    first: Counter[str] = field(default_factory=Counter)
    seen: Counter[str] = field(default_factory=Counter)
    missed: Counter[str] = field(default_factory=Counter)
    lag_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class Sightings:
    def __init__(self, expected: Iterable[str], grace_s: float = 180.0, max_open: int = 100_000) -> None:
        self.expected = frozenset(expected)
        self.grace = timedelta(seconds=grace_s)
        self.max_open = max_open
        self._open: dict[str, dict[str, datetime]] = {}

    @property
    def open(self) -> int:
        return len(self._open)

    def note(self, trades: Sequence[WhaleTrade]) -> None:
        for trade in trades:
            seen = self._open.setdefault(trade.key, {})
            source = trade.source.value
            if source not in seen or trade.detected_at < seen[source]:
                seen[source] = trade.detected_at
        while len(self._open) > self.max_open:  # bounded memory: forget the oldest window entries
            self._open.pop(next(iter(self._open)))

    def settle(self, now: datetime) -> SettledWindow:
        """Settle every key first seen more than `grace_s` before `now`."""
        window = SettledWindow()
        cutoff = now - self.grace
        for key in [k for k, seen in self._open.items() if min(seen.values()) <= cutoff]:
            seen = self._open.pop(key)
            first_source, first_at = min(seen.items(), key=lambda item: item[1])
            window.settled += 1
            window.first[first_source] += 1
            for source, at in seen.items():
                window.seen[source] += 1
                if source != first_source:
                    window.lag_ms[source].append((at - first_at).total_seconds() * 1000)
            for source in self.expected - seen.keys():
                window.missed[source] += 1
        return window
