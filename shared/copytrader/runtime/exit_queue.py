"""Publishing exit signals to the copy FIFO queue (the exits job and the listener's fast stops), the second message
kind beside the listener's WhaleTrades (`copytrader.listener.publish`).

MessageGroupId = the market's condition id (the same group as the market's whale trades, so an exit and a copy of
one market never run at once), MessageDeduplicationId = the signal's idempotency key (SQS drops a repeat within
five minutes; the orders ledger covers any later one). Batches of 10; an entry SQS reports as failed is returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from copytrader.model.exits import ExitSignal

BATCH = 10


class ExitPublisher:
    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs, self._queue_url = sqs, queue_url

    def publish(self, signals: Sequence[ExitSignal]) -> list[str]:
        """Send every signal; the keys of those SQS refused (the next scan sends them again)."""
        failed: list[str] = []
        for start in range(0, len(signals), BATCH):
            chunk = signals[start : start + BATCH]
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": s.model_dump_json(),
                    "MessageGroupId": s.condition_id,
                    "MessageDeduplicationId": s.key,
                }
                for i, s in enumerate(chunk)
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            failed += [chunk[int(f["Id"])].key for f in response.get("Failed", [])]
        return failed


__all__ = ["ExitPublisher"]
