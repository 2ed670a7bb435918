"""Markets in DynamoDB, refreshed from Gamma when the stored copy is older than a time-to-live."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from copytrader.model import Market
from copytrader.store.observed_tables import MarketModel

Stored = tuple[Market, datetime]  # a market and when it was fetched from Gamma


class Markets:
    """Read-through cache: this process's copy, then DynamoDB, then `fetch` (Gamma) when missing or stale.

    A copy is fresh while younger than `ttl` (judged against the injected clock, so local mode's simulated time works
    the same way), wherever it is held: the process keeps the last copy it read or wrote (`known`), so a warm process
    reads a fresh market without a round trip, and no copy it uses is older than `ttl`, as before. A market that has
    resolved never changes again and is never refetched. Gamma's answer is written back for the other processes.
    """

    def __init__(self, fetch: Callable[[str], Market | None] | None, ttl: timedelta = timedelta(seconds=60)) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._memo: dict[str, Stored] = {}

    @staticmethod
    def key(condition_id: str) -> str:
        """The markets table's hash key of `condition_id`."""
        return condition_id.lower()

    def known(self, condition_id: str) -> Market | None:
        """The copy this process last saw, however old (None if none): a guess at the market's scopes."""
        stored = self._memo.get(self.key(condition_id))
        return stored[0] if stored is not None else None

    def get(self, condition_id: str, now: datetime) -> Market | None:
        """The market, fresh: this process's copy, else the table's, else Gamma's."""
        cached = self.cached(condition_id, now)
        return cached if cached is not None else self.resolve(condition_id, now, self._stored(condition_id))

    def cached(self, condition_id: str, now: datetime) -> Market | None:
        """This process's copy if it is fresh, else None (no I/O)."""
        memo = self._memo.get(self.key(condition_id))
        return memo[0] if memo is not None and self._usable(memo, now) else None

    def resolve(self, condition_id: str, now: datetime, table: Stored | None) -> Market | None:
        """The market given the table's copy (`table`, already read): it if fresh, else Gamma's, written back."""
        if table is not None and self._usable(table, now):
            self._memo[self.key(condition_id)] = table
            return table[0]
        if self._fetch is None:
            return table[0] if table is not None else None
        fresh = self._fetch(condition_id)
        if fresh is not None:
            self.put(fresh, now)
        return fresh

    def _usable(self, stored: Stored, now: datetime) -> bool:
        market, updated_at = stored
        return market.resolved or self._fetch is None or now - updated_at < self._ttl

    @staticmethod
    def from_item(item: MarketModel) -> Stored:
        return Market.model_validate(item.body), item.updated_at

    def _stored(self, condition_id: str) -> Stored | None:
        try:
            item = MarketModel.get(self.key(condition_id))
        except DoesNotExist:
            return None
        return self.from_item(item)

    def put(self, market: Market, now: datetime) -> None:
        MarketModel(condition_id=market.condition_id, body=market.model_dump(mode="json"), updated_at=now).save()
        self._memo[self.key(market.condition_id)] = (market, now)
