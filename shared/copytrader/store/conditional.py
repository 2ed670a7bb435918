"""Conditional writes: the one place that knows how a failed DynamoDB condition looks through PynamoDB."""

from __future__ import annotations

from typing import Any

from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model


def condition_failed(exc: Exception) -> bool:
    """True when a put, update or delete was refused because its condition did not hold."""
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def put_if_absent(item: Model) -> bool:
    """Save `item` only if no item has its key; True when written, False when one already existed."""
    hash_key: Any = item._hash_key_attribute()
    try:
        item.save(condition=hash_key.does_not_exist())
    except PutError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True


def update_if(item: Model, actions: list[Action], condition: Condition) -> bool:
    """Apply `actions` only if `condition` holds; True when applied, False when the condition failed."""
    try:
        item.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not condition_failed(exc):
            raise
        return False
    return True
