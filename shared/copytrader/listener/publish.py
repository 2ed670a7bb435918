"""Publishing canonical WhaleTrades: the SQS FIFO queue (the copy pipeline) and the EventBridge bus (fan-out).

SQS: one message per trade, MessageGroupId = the market's condition id (per-market order, markets in
parallel), MessageDeduplicationId = the trade key (a second send within SQS's 5-minute window is
dropped by SQS itself; the orders ledger covers any later redelivery). EventBridge: detail-type
"WhaleTrade", source "copytrader.listener". Both are sent in batches of 10; only the entries a batch
reports as failed are retried, with backoff, and whatever still fails is returned to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from copytrader.model import WhaleTrade
from copytrader.runtime.env import EVENT_DETAIL_TYPE, EVENT_SOURCE

BATCH = 10


@dataclass
class PublishReport:
    queued: int = 0
    evented: int = 0
    failed_queue: list[str] = field(default_factory=list)  # trade keys
    failed_events: list[str] = field(default_factory=list)


def _chunks(items: Sequence[WhaleTrade], size: int) -> list[Sequence[WhaleTrade]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class TradePublisher:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        events: Any | None = None,
        bus_name: str | None = None,
        attempts: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._sqs, self._queue_url = sqs, queue_url
        self._events, self._bus = events, bus_name
        self._attempts, self._sleep = attempts, sleep

    def publish(self, trades: Sequence[WhaleTrade]) -> PublishReport:
        report = PublishReport()
        for chunk in _chunks(trades, BATCH):
            failed = self._send_queue(chunk)
            report.queued += len(chunk) - len(failed)
            report.failed_queue += failed
            if self._events is not None and self._bus:
                failed = self._send_events(chunk)
                report.evented += len(chunk) - len(failed)
                report.failed_events += failed
        return report

    def _send_queue(self, chunk: Sequence[WhaleTrade]) -> list[str]:
        pending = {t.key: t for t in chunk}
        for attempt in range(self._attempts):
            entries = [
                {
                    "Id": str(i),
                    "MessageBody": t.model_dump_json(),
                    "MessageGroupId": t.condition_id,
                    "MessageDeduplicationId": t.key,
                }
                for i, t in enumerate(pending.values())
            ]
            response = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            by_id = {e["Id"]: t for e, t in zip(entries, pending.values(), strict=True)}
            pending = {
                by_id[f["Id"]].key: by_id[f["Id"]] for f in response.get("Failed", []) if not f.get("SenderFault")
            }
            sender_faults = [by_id[f["Id"]].key for f in response.get("Failed", []) if f.get("SenderFault")]
            if sender_faults:
                return sender_faults + list(pending)
            if not pending:
                return []
            self._sleep(0.05 * 2**attempt)
        return list(pending)

    def _send_events(self, chunk: Sequence[WhaleTrade]) -> list[str]:
        pending = list(chunk)
        for attempt in range(self._attempts):
            entries = [
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": EVENT_DETAIL_TYPE,
                    "Detail": t.model_dump_json(),
                    "EventBusName": self._bus,
                }
                for t in pending
            ]
            assert self._events is not None
            response = self._events.put_events(Entries=entries)
            if not response.get("FailedEntryCount"):
                return []
            pending = [t for t, r in zip(pending, response["Entries"], strict=True) if r.get("ErrorCode")]
            self._sleep(0.05 * 2**attempt)
        return [t.key for t in pending]
