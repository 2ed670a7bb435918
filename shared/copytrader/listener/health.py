"""`SourceHealth`: when each source last delivered a payload, and whether its connection is up.

Sources call `beat(name)` on every payload they receive, tracked wallet or not (a firehose that keeps
flowing is alive even when none of its trades are ours), and `connected(name, up)` when their socket
opens or closes. From that the listener derives the heartbeat and staleness metrics the alarms watch,
and the Data API poller its rate: slow reconciliation while a stream is healthy, full speed when every
stream is down or stale. Times come from an injected monotonic clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class _State:
    stale_after_s: float
    last_payload: float | None = None
    up: bool = False
    reconnects: int = 0
    payloads: int = 0


@dataclass
class SourceHealth:
    """Health of the named sources; `stale_after_s` per source (a source not registered is never stale)."""

    clock: Callable[[], float] = time.monotonic
    _sources: dict[str, _State] = field(default_factory=dict)

    def register(self, name: str, stale_after_s: float) -> None:
        self._sources.setdefault(name, _State(stale_after_s))

    def beat(self, name: str) -> None:
        state = self._sources.get(name)
        if state is not None:
            state.last_payload = self.clock()
            state.payloads += 1

    def connected(self, name: str, up: bool) -> None:
        state = self._sources.get(name)
        if state is None:
            return
        if up and not state.up:
            state.reconnects += 1
        state.up = up

    def age_s(self, name: str) -> float | None:
        """Seconds since the source's last payload (None if it never delivered one)."""
        state = self._sources.get(name)
        if state is None or state.last_payload is None:
            return None
        return self.clock() - state.last_payload

    def stale(self, name: str) -> bool:
        """Down, or no payload within its staleness window (counted from the first connect)."""
        state = self._sources.get(name)
        if state is None:
            return False
        if not state.up:
            return True
        age = self.age_s(name)
        return age is None or age > state.stale_after_s

    def all_stale(self, names: Iterable[str]) -> bool:
        """True when every named source is down or stale (e.g. both streams: poll the Data API fast)."""
        listed = [n for n in names if n in self._sources]
        return bool(listed) and all(self.stale(n) for n in listed)

    def snapshot(self) -> dict[str, dict[str, float | int | bool | None]]:
        return {
            name: {
                "up": s.up,
                "stale": self.stale(name),
                "age_s": self.age_s(name),
                "payloads": s.payloads,
                "reconnects": s.reconnects,
            }
            for name, s in self._sources.items()
        }
