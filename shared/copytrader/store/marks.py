"""Price marks in DynamoDB: the listener writes the latest `Mark` of each token we hold; the Lambdas read the marks
of a set of tokens in one BatchGetItem (`copytrader.store.batch`, 100 keys a request, so one round trip for up to
100 held tokens).

An item is the token's `Mark` (bid, ask, last trade, when it was last known true, source) plus when it was written
and a TTL a day later: a token no longer held stops being written and disappears. A mark read here carries its own
`at`, so a reader judges staleness itself (`Mark.sell_value`); a token with no item has no mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pynamodb.connection import Connection

from copytrader.model.marks import Mark, MarkSource
from copytrader.store.batch import MAX_KEYS, batch_get
from copytrader.store.connection import table_region
from copytrader.store.observed_tables import MarkModel

M = MarkModel
MARK_TTL = timedelta(days=1)


def item_of(mark: Mark, written_at: datetime) -> MarkModel:
    return M(
        token_id=mark.token_id,
        bid=mark.bid,
        ask=mark.ask,
        last_trade=mark.last_trade,
        at=mark.at,
        source=mark.source.value,
        written_at=written_at,
        expires_at=written_at + MARK_TTL,
    )


def mark_of(item: MarkModel) -> Mark:
    return Mark(
        token_id=item.token_id,
        bid=item.bid,
        ask=item.ask,
        last_trade=item.last_trade,
        at=item.at,
        source=MarkSource(item.source),
    )


class PriceMarks:
    """The marks table (`MarkModel`)."""

    def __init__(self, connection: Connection | None = None) -> None:
        self._connection = connection

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            self._connection = Connection(region=table_region())
        return self._connection

    def read(self, tokens: Iterable[str]) -> dict[str, Mark]:
        """The stored mark of each token that has one (token id -> mark); one BatchGetItem per 100 tokens."""
        wanted = sorted(set(tokens))
        found: dict[str, Mark] = {}
        for start in range(0, len(wanted), MAX_KEYS):
            chunk = wanted[start : start + MAX_KEYS]
            for item in batch_get(self.connection, {M: chunk})[M]:
                mark = mark_of(item)
                found[mark.token_id] = mark
        return found

    def write(self, marks: Iterable[Mark], now: datetime) -> int:
        """Write the marks (BatchWriteItem, 25 a request; PynamoDB retries unprocessed items). Returns how many."""
        items = [item_of(mark, now) for mark in marks]
        if items:
            with M.batch_write() as batch:
                for item in items:
                    batch.save(item)
        return len(items)


__all__ = ["MARK_TTL", "PriceMarks", "item_of", "mark_of"]
