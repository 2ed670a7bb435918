"""The liveness file a long-running process touches and the container health check reads (no file: unhealthy)."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from copytrader.runtime import heartbeat
from tests.support.builders import T0


def test_a_fresh_beat_is_healthy_and_a_stale_or_missing_one_is_not(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat"
    assert heartbeat.age_s(path, T0) is None and not heartbeat.healthy(path, 60, T0)  # never beaten
    heartbeat.beat(path, T0)
    assert heartbeat.age_s(path, T0 + timedelta(seconds=59)) == 59.0
    assert heartbeat.healthy(path, 60, T0 + timedelta(seconds=59))
    assert not heartbeat.healthy(path, 60, T0 + timedelta(seconds=61))
    heartbeat.beat(path, T0 + timedelta(seconds=61))  # the next beat makes it healthy again
    assert heartbeat.healthy(path, 60, T0 + timedelta(seconds=70))


def test_the_check_command_exits_zero_only_for_a_fresh_file(tmp_path: Path) -> None:
    """What the ECS health check runs: `python -m copytrader.runtime.heartbeat <file> <max age s>`."""
    path = tmp_path / "heartbeat"

    def check(max_age: str) -> int:
        command = [sys.executable, "-m", "copytrader.runtime.heartbeat", str(path), max_age]
        return subprocess.run(command, capture_output=True, check=False).returncode

    assert check("60") == 1  # no file yet
    path.touch()  # now, by the system clock
    assert check("60") == 0
    assert heartbeat.main([str(path), "0"]) == 1  # older than 0 s
    assert heartbeat.main([str(path)]) == 2  # usage error


def test_the_check_imports_nothing_but_the_standard_library() -> None:
    """It runs every 30 s in a 0.25 vCPU task: no package import (boto3, pydantic, ...) may slow it down."""
    code = (
        "import sys; before = set(sys.modules); import copytrader.runtime.heartbeat; "
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('copytrader')))"
    )
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    third_party = [m for m in eval(imported) if m.split(".")[0] not in sys.stdlib_module_names]
    assert third_party == []
