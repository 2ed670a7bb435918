"""The live venue's signing libraries leave the interpreter's recursion limit alone (py_ecc, which older signing
libraries pulled in, raised it; the SDK's dependencies no longer install it, and a fresh environment has none)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import json, sys
before = sys.getrecursionlimit()
import copytrader.execution.signing_libs
import polymarket
from eth_account import Account
assert sys.getrecursionlimit() == before, (before, sys.getrecursionlimit())
try:
    json.loads("[" * 100_000)
except RecursionError:
    print("recursion-error")
"""


def test_importing_the_venue_sdk_keeps_the_recursion_limit_and_deep_json_raises_instead_of_crashing() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "recursion-error"
