"""Operator alerts through the SNS topic (circuit-breaker trips, stale feeds, reconciliation gaps)."""

from __future__ import annotations

import json
from typing import Any, Protocol


class Alerts(Protocol):
    def send(self, subject: str, detail: dict[str, Any]) -> None: ...


class SnsAlerts:
    def __init__(self, topic_arn: str, client: Any | None = None) -> None:
        import boto3

        self._topic_arn = topic_arn
        self._client = client or boto3.client("sns")

    def send(self, subject: str, detail: dict[str, Any]) -> None:
        self._client.publish(
            TopicArn=self._topic_arn, Subject=subject[:100], Message=json.dumps(detail, default=str, sort_keys=True)
        )


class NoAlerts:
    """Used when no topic is configured: alerts go to the log only."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, subject: str, detail: dict[str, Any]) -> None:
        self.sent.append((subject, detail))
