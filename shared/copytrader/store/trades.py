"""Whale-trade dedup: the first sighting of each canonical trade claims it with a conditional put.

The listener publishes a trade only when `claim` returns True, so two sources reporting one fill, a
restart replaying a backfill, or two listener tasks running at once publish it once. Repeat sightings
are recorded per source (which source saw it, and when) for the source-latency telemetry.

A claim is `pending` until `mark_published` (after SQS accepted the message). A process killed between
the two would otherwise leave a claim that blocks every later sighting and a trade never published; so
`stale_unpublished` lists pending claims older than a cut-off and `retake` lets exactly one task take such
a claim over (a conditional update on its claim time) and publish it again. A second publish of one trade
is harmless: SQS FIFO drops the repeated deduplication id within five minutes, and after that the orders
ledger answers it with the first order's result.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from copytrader.model import WhaleTrade
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.observed_tables import SeenTradeModel

S = SeenTradeModel
KEEP = timedelta(days=7)
PENDING = "1"  # the `unpublished` index's only partition


class SeenTrades:
    def claim(self, trade: WhaleTrade, now: datetime) -> bool:
        """True for the first sighting of `trade.key`; False (and the sighting recorded) for a repeat."""
        first = S(
            key=trade.key,
            wallet=trade.wallet,
            source=trade.source.value,
            first_seen_at=trade.detected_at,
            claimed_at=now,
            body=trade.model_dump_json(),
            pending=PENDING,
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

    def mark_published(self, key: str, now: datetime) -> None:
        """SQS accepted the trade: the claim leaves the `unpublished` index."""
        update_if(S(key=key), actions=[S.pending.remove(), S.published_at.set(now)], condition=S.pending.exists())

    def stale_unpublished(self, older_than: datetime, limit: int = 100) -> list[WhaleTrade]:
        """Pending claims made before `older_than`, oldest first (the claimant may have died)."""
        items = S.unpublished.query(PENDING, S.claimed_at < older_than, limit=limit)
        return [WhaleTrade.model_validate_json(item.body) for item in items]

    def retake(self, key: str, now: datetime, older_than: datetime) -> bool:
        """Take over a claim still pending since before `older_than`; True for exactly one taker."""
        return update_if(
            S(key=key),
            actions=[S.claimed_at.set(now)],
            condition=S.pending.exists() & (S.claimed_at < older_than),
        )

    def sightings(self, key: str) -> dict[str, str]:
        """Source -> first time that source reported the trade (ISO)."""
        item = S.get(key, consistent_read=True)
        return {str(source): str(at) for source, at in item.sightings.attribute_values.items()}
