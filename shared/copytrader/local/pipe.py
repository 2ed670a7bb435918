"""`LocalPipe`: what the EventBridge Pipe does in AWS, done against moto.

Receive from the SQS FIFO queue (batch size 1, so per-market order holds), hand the state machine the
JSON array Pipes would send (one SQS record in Pipes' shape), wait for the Express execution, delete the
message when it succeeded, and leave it for redelivery when it failed: after `maxReceiveCount`
receives SQS moves it to the dead-letter queue, as in AWS.

A failed message is made visible again at once, unless `drain` is given `hold`: then it stays invisible (its market's
message group with it, as FIFO queues do) and `hold` is told, so a caller on simulated time can `release` it when the
visibility timeout has passed there (the demo does).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from copytrader.local.aws import REGION, LocalResources

HELD_S = 40_000  # under SQS's longest visibility (12 h in all): a held message comes back only when released


@dataclass(frozen=True)
class Execution:
    status: str  # SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    output: Any  # the Map's output: one pipeline state per record
    error: str | None
    seconds: float


def pipe_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message in the shape EventBridge Pipes passes to a Step Functions target."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


class LocalPipe:
    def __init__(self, resources: LocalResources, sqs: Any, sfn: Any, poll_s: float = 0.05) -> None:
        self.resources = resources
        self._sqs, self._sfn, self._poll_s = sqs, sfn, poll_s
        self._serial = 0

    def run(self, records: list[dict[str, Any]]) -> Execution:
        """Start one execution with `records` (the Pipes batch) and wait for it to finish."""
        self._serial += 1
        started = time.perf_counter()
        arn = self._sfn.start_execution(
            stateMachineArn=self.resources.state_machine_arn,
            name=f"pipe-{self._serial:07d}",
            input=json.dumps(records),
        )["executionArn"]
        while True:
            described = self._sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING":
                break
            time.sleep(self._poll_s)
        output = json.loads(described["output"]) if described.get("output") else None
        error = described.get("error") or (described.get("cause") if described["status"] != "SUCCEEDED" else None)
        return Execution(described["status"], output, error, time.perf_counter() - started)

    def drain(
        self, limit: int | None = None, hold: Callable[[dict[str, Any], Execution], None] | None = None
    ) -> list[Execution]:
        """Process messages until the queue is empty (or `limit` executions ran); `hold`: see the module docstring."""
        done: list[Execution] = []
        while limit is None or len(done) < limit:
            messages = self._sqs.receive_message(
                QueueUrl=self.resources.queue_url,
                MaxNumberOfMessages=1,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not messages:
                break
            message = messages[0]
            execution = self.run([pipe_record(message, self.resources.queue_arn)])
            if execution.status == "SUCCEEDED":
                self._sqs.delete_message(QueueUrl=self.resources.queue_url, ReceiptHandle=message["ReceiptHandle"])
            elif hold is not None:
                self._visible_after(message["ReceiptHandle"], HELD_S)
                hold(message, execution)
            else:
                self.release(message["ReceiptHandle"])
            done.append(execution)
        return done

    def release(self, receipt_handle: str) -> None:
        """Make a received message visible again (the next receive gets it, and counts one more receive)."""
        self._visible_after(receipt_handle, 0)

    def _visible_after(self, receipt_handle: str, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self.resources.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )
