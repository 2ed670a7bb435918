"""DynamoDB transactions: commit one with retries on conflicts, and read why one was cancelled.

`run_transaction` retries only what left nothing written and can succeed on a second try (a conflict with
another transaction on the same item; throttling, of the request or of an item inside the transaction), with
jittered backoff, then surfaces `TransientError` for the state machine to retry. A failed condition is never retried
here: it is an answer (a limit, a duplicate, a position that changed), and the caller decides what it means.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from copytrader.errors import TransientError

MAX_CONFLICT_RETRIES = 8
CONDITION_FAILED = "ConditionalCheckFailed"
_RETRYABLE_CAUSES = ("TransactionConflictException", "ThrottlingException", "ProvisionedThroughputExceededException")
# an item of the transaction was in conflict or throttled (DynamoDB cancels the transaction with these reasons; botocore
# does not retry a cancelled transaction)
_RETRYABLE_REASONS = ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded")


def cancellation_codes(exc: TransactWriteError) -> list[str | None]:
    """The cancellation reason of each item of a cancelled transaction, in the order the items were sent."""
    reasons = exc.cancellation_reasons or []
    return [r.code if r is not None else None for r in reasons]


def condition_failed(exc: TransactWriteError) -> bool:
    """True when an item's condition failed (the transaction was refused, not interrupted)."""
    return CONDITION_FAILED in cancellation_codes(exc)


def run_transaction(
    connection: Connection,
    build: Callable[[TransactWrite], None],
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> None:
    """Commit the transaction `build` describes; retry only a conflict or a throttle (nothing was written)."""
    jitter = rng or random.Random()
    for attempt in range(MAX_CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=connection) as tx:
                build(tx)
            return
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)
            retryable = any(c in _RETRYABLE_REASONS for c in codes) or exc.cause_response_code in _RETRYABLE_CAUSES
            if not retryable or CONDITION_FAILED in codes:
                raise
            sleep(jitter.uniform(0, 0.01 * 2**attempt))
    raise TransientError(f"transaction still conflicting or throttled after {MAX_CONFLICT_RETRIES} attempts")
