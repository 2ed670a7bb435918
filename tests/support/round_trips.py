"""Counting the DynamoDB round trips a piece of code makes, by operation, with a botocore event hook.

    with DynamoCalls(deps.account.items.connection) as calls:
        run_the_copy()
    calls.total, calls.by_operation     # 4, Counter({"TransactWriteItems": 2, "BatchGetItem": 2})
    calls.transaction_sizes             # [8, 11]: the items of each TransactWriteItems, in order

The hook is `before-send.dynamodb`, which botocore emits once per HTTP request it sends (a retried request counts
again: each is a round trip). PynamoDB keeps one botocore client per connection: every table model has its own,
and the account store's transactions run on the account's (`AccountItems.connection`), so the counter attaches to
each model's connection and to the ones it is given. A client created later is not counted: create them first
(a warm copy has created all of them).
"""

from __future__ import annotations

import json
from collections import Counter
from types import TracebackType
from typing import Any

from pynamodb.connection import Connection

from copytrader.store.tables import MODELS

_EVENT = "before-send.dynamodb"


class DynamoCalls:
    def __init__(self, *connections: Connection) -> None:
        models = [model._get_connection().connection for model in MODELS.values()]
        unique = {id(c): c for c in (*models, *connections)}
        self._clients = {id(c.client): c.client for c in unique.values()}
        self.by_operation: Counter[str] = Counter()
        self.transaction_sizes: list[int] = []
        self._id = f"round-trips-{id(self)}"

    def _count(self, event_name: str, request: Any = None, **kwargs: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]  # before-send.dynamodb.<Operation>
        self.by_operation[operation] += 1
        if operation == "TransactWriteItems" and request is not None and request.body:
            self.transaction_sizes.append(len(json.loads(request.body)["TransactItems"]))

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def __enter__(self) -> DynamoCalls:
        for client in self._clients.values():
            client.meta.events.register(_EVENT, self._count, unique_id=self._id)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for client in self._clients.values():
            client.meta.events.unregister(_EVENT, unique_id=self._id)
