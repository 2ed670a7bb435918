"""One consistent BatchGetItem across several tables: the items a step needs, read in one round trip.

PynamoDB's `Model.batch_get` reads one table; a copy decision needs a whale (whales table), a market (markets),
the account and its exposure items (risk) and, for a sell, a position (positions) at once. `batch_get` sends one
request for all of them (at most 100 keys, DynamoDB's limit) with strongly consistent reads, asks again for any
unprocessed keys (throttling) a bounded number of times, and returns the items found, each as its model.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, cast

from pynamodb.connection import Connection
from pynamodb.models import Model

from copytrader.errors import TransientError

MAX_KEYS = 100
MAX_ATTEMPTS = 5

Key = Hashable  # a hash key, or (hash key, range key) for a table with a range key


def _serialized(model: type[Model], key: Key) -> dict[str, Any]:
    """`key` as DynamoDB's key map, e.g. {"pk": {"S": "paper#ACCOUNT"}}."""
    hash_attribute: Any = model._hash_key_attribute()  # type: ignore[no-untyped-call]
    range_attribute: Any = model._range_key_attribute()  # type: ignore[no-untyped-call]
    if range_attribute is None:
        return {hash_attribute.attr_name: {hash_attribute.attr_type: hash_attribute.serialize(key)}}
    hash_key, range_key = cast(tuple[Any, Any], key)
    return {
        hash_attribute.attr_name: {hash_attribute.attr_type: hash_attribute.serialize(hash_key)},
        range_attribute.attr_name: {range_attribute.attr_type: range_attribute.serialize(range_key)},
    }


def batch_get(
    connection: Connection,
    keys: Mapping[type[Model], Sequence[Key]],
    sleep: Callable[[float], None] = time.sleep,
) -> dict[type[Model], list[Any]]:
    """The items of `keys` (model -> its keys) that exist, by model; one request unless DynamoDB defers some."""
    tables = {model.Meta.table_name: model for model in keys}
    request: dict[str, Any] = {
        model.Meta.table_name: {"Keys": [_serialized(model, k) for k in dict.fromkeys(wanted)], "ConsistentRead": True}
        for model, wanted in keys.items()
        if wanted
    }
    if sum(len(table["Keys"]) for table in request.values()) > MAX_KEYS:
        raise ValueError(f"batch_get reads at most {MAX_KEYS} keys")
    found: dict[type[Model], list[Any]] = {model: [] for model in keys}
    for attempt in range(MAX_ATTEMPTS):
        if not request:
            return found
        answer = connection.dispatch("BatchGetItem", {"RequestItems": request})
        for table, items in answer.get("Responses", {}).items():
            found[tables[table]] += [tables[table].from_raw_data(item) for item in items]
        request = answer.get("UnprocessedKeys") or {}
        if request:
            sleep(random.uniform(0, 0.01 * 2**attempt))
    raise TransientError(f"BatchGetItem left keys unprocessed after {MAX_ATTEMPTS} attempts")
