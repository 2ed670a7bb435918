"""Run the daily whale-scoring workflow (`workflows/scoring/definition.asl.json`) once on `LocalAws`.

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
    started = time.perf_counter()
    payload = {} if as_of is None else {"as_of": as_of.isoformat()}
    arn = sfn.start_execution(
        stateMachineArn=resources.scoring_state_machine_arn, name=name, input=json.dumps(payload)
    )["executionArn"]
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            break
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"scoring execution {name} still running after {timeout_s} s")
        time.sleep(poll_s)
    output = json.loads(described["output"]) if described.get("output") else None
    error = described.get("error") or (described.get("cause") if described["status"] != "SUCCEEDED" else None)
    return Execution(described["status"], output, error, time.perf_counter() - started)
