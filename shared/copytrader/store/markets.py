"""Markets in DynamoDB, refreshed from Gamma when the stored copy is older than a time-to-live."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

from copytrader.model import Market
from copytrader.store.tables import MarketModel


class Markets:
    """Read-through cache: DynamoDB first, then `fetch` (Gamma) when missing or stale, written back.

    Stale-ness is judged against the injected clock, so local mode's simulated time works the same way.
    A market that has resolved never changes again and is never refetched.
    """

    def __init__(self, fetch: Callable[[str], Market | None] | None, ttl: timedelta = timedelta(seconds=60)) -> None:
        self._fetch = fetch
        self._ttl = ttl

    def get(self, condition_id: str, now: datetime) -> Market | None:
        stored = self._stored(condition_id)
        if stored is not None:
            market, updated_at = stored
            if market.resolved or self._fetch is None or now - updated_at < self._ttl:
                return market
        if self._fetch is None:
            return None
        fresh = self._fetch(condition_id)
        if fresh is not None:
            self.put(fresh, now)
        return fresh

    def _stored(self, condition_id: str) -> tuple[Market, datetime] | None:
        try:
            item = MarketModel.get(condition_id.lower())
        except DoesNotExist:
            return None
        return Market.model_validate(item.body), item.updated_at

    def put(self, market: Market, now: datetime) -> None:
        MarketModel(condition_id=market.condition_id, body=market.model_dump(mode="json"), updated_at=now).save()
