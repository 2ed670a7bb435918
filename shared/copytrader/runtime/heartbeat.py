"""A liveness file for a long-running process, and the check a container health check runs against it.

The listener touches the file from a chore of its event loop every `BEAT_EVERY_S` (`copytrader.listener.service`),
so a fresh file means the loop is turning: chores run, so sources and the outbox get their turns. The Fargate
container's health check runs

    python -m copytrader.runtime.heartbeat <file> <max age s>

which exits 0 while the file's last beat is at most `max age` old, 1 when it is older or missing (a hung loop, a
dead process that ECS has not reaped yet), 2 on a usage error. ECS replaces a task whose container stays
unhealthy. A live feed that is down does not make the process unhealthy: a restart would not bring it back, and
the staleness alarms report it.

The beat is the file's modification time, set from the caller's wall clock; the check compares it with the
system clock. Standard library only, so the check starts in milliseconds in a 0.25 vCPU task.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

BEAT_EVERY_S = 10.0  # how often the listener beats
STALE_AFTER_S = 60.0  # the health check's max age: six missed beats


def beat(path: str | Path, at: datetime) -> None:
    """Record a beat at `at` (the file's modification time), creating the file if needed."""
    target = Path(path)
    target.touch(exist_ok=True)
    stamp = at.timestamp()
    os.utime(target, (stamp, stamp))


def age_s(path: str | Path, now: datetime) -> float | None:
    """Seconds from the last beat to `now` (None: never beaten)."""
    try:
        last = Path(path).stat().st_mtime
    except FileNotFoundError:
        return None
    return now.timestamp() - last


def healthy(path: str | Path, max_age_s: float, now: datetime) -> bool:
    age = age_s(path, now)
    return age is not None and age <= max_age_s


def main(argv: Sequence[str]) -> int:
    try:
        path, max_age = argv
        max_age_s = float(max_age)
    except ValueError:
        print("usage: python -m copytrader.runtime.heartbeat <file> <max age s>", file=sys.stderr)
        return 2
    return 0 if healthy(path, max_age_s, datetime.now(UTC)) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
