"""Whale-trade dedup: the first sighting of each canonical trade claims it with a conditional put.

The listener publishes a trade only when `claim` returns True, so two sources reporting one fill, a
restart replaying a backfill, or two listener tasks running at once publish it once. Repeat sightings
are recorded per source (which source saw it, and when) for the source-latency telemetry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from copytrader.model import WhaleTrade
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.tables import SeenTradeModel

S = SeenTradeModel
KEEP = timedelta(days=7)


class SeenTrades:
    def claim(self, trade: WhaleTrade, now: datetime) -> bool:
        """True for the first sighting of `trade.key`; False (and the sighting recorded) for a repeat."""
        first = S(
            key=trade.key,
            wallet=trade.wallet,
            source=trade.source.value,
            first_seen_at=trade.detected_at,
            sightings={trade.source.value: trade.detected_at.isoformat()},
            expires_at=now + KEEP,
        )
        if put_if_absent(first):
            return True
        update_if(  # record this source's first sighting; a later repeat from the same source changes nothing
            S(key=trade.key),
            actions=[S.sightings[trade.source.value].set(trade.detected_at.isoformat())],
            condition=S.sightings[trade.source.value].does_not_exist(),
        )
        return False

    def sightings(self, key: str) -> dict[str, str]:
        """Source -> first time that source reported the trade (ISO)."""
        item = S.get(key, consistent_read=True)
        return {str(source): str(at) for source, at in item.sightings.attribute_values.items()}
