"""Run the scheduled Standard workflows once on `LocalAws`: whale scoring (daily) and the books (hourly).

What EventBridge Scheduler does in AWS, done by hand: start an execution of the Standard state machine and
wait for it. moto interprets the definition (its Distributed Map reads the batches from S3 and runs one
child per batch) and the real handlers run behind moto's Lambda API (`local.lambdas`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from copytrader.local.aws import LocalResources
from copytrader.local.pipe import Execution


def run_scoring(
    resources: LocalResources,
    sfn: Any,
    *,
    name: str,
    as_of: datetime | None = None,
    timeout_s: float = 300.0,
    poll_s: float = 0.02,
) -> Execution:
    """Start one scoring execution (as of `as_of`, else its start time) and wait until it ends."""
    payload = {} if as_of is None else {"as_of": as_of.isoformat()}
    return run_standard(sfn, resources.scoring_state_machine_arn, name, payload, timeout_s=timeout_s, poll_s=poll_s)


def run_books(resources: LocalResources, sfn: Any, *, name: str, timeout_s: float = 120.0) -> Execution:
    """Run the books workflow once (settle resolved markets, then audit) and wait until it ends."""
    return run_standard(sfn, resources.books_state_machine_arn, name, {}, timeout_s=timeout_s)


def run_standard(
    sfn: Any, arn: str, name: str, payload: dict[str, Any], *, timeout_s: float = 300.0, poll_s: float = 0.02
) -> Execution:
    """Start one execution of a Standard state machine and wait until it ends."""
    started = time.perf_counter()
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"execution {name} still running after {timeout_s} s")
        time.sleep(poll_s)
    output = json.loads(described["output"]) if described.get("output") else None
    error = described.get("error") or (described.get("cause") if described["status"] != "SUCCEEDED" else None)
    return Execution(described["status"], output, error, time.perf_counter() - started)
