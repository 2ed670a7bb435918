"""`LocalPipe`: what the EventBridge Pipe does in AWS, done against moto.

Receive from the SQS FIFO queue (batch size 1, so per-market order holds), hand the state machine the
JSON array Pipes would send (one SQS record in Pipes' shape), wait for the Express execution, delete the
message when it succeeded, and leave it for redelivery when it failed: after `maxReceiveCount`
receives SQS moves it to the dead-letter queue, as in AWS.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from copytrader.local.aws import REGION, LocalResources


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
    def __init__(self, resources: LocalResources, sqs: Any, sfn: Any, poll_s: float = 0.002) -> None:
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

    def drain(self, limit: int | None = None) -> list[Execution]:
        """Process messages until the queue is empty (or `limit` executions ran)."""
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
            else:
                self._sqs.change_message_visibility(
                    QueueUrl=self.resources.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            done.append(execution)
        return done
