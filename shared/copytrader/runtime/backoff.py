"""The one reconnect and retry backoff: exponential, capped, and jittered into the upper half.

Used by every feed and client that waits before trying again (the RTDS and chain sources, the Data API client).
"""

from __future__ import annotations

_MAX_DOUBLINGS = 32  # 2**32 times any initial backoff is far past any cap (and 2.0**attempt cannot overflow)


def backoff_delay(attempt: int, initial_s: float, max_s: float, draw: float) -> float:
    """Seconds to wait before attempt `attempt` (0-based) after a failure.

    base = min(max_s, initial_s * 2**attempt); the delay is base/2 + draw * base/2 for `draw` in [0, 1): never
    less than half the base (no hammering), never the same for two clients (no reconnect storm).
    """
    base = min(max_s, initial_s * 2.0 ** min(max(attempt, 0), _MAX_DOUBLINGS))
    return base / 2 + draw * base / 2
