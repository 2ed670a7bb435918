"""Whale profiles: the tracked set and the evidence each copy decision is sized on."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from copytrader.model import WhaleProfile, WhaleStatus
from copytrader.store.observed_tables import WhaleModel


def profile_of(item: WhaleModel) -> WhaleProfile:
    return WhaleProfile(
        wallet=item.wallet,
        status=WhaleStatus(item.status),
        score=item.score,
        score_ci_low=item.score_ci_low,
        resolved_trades=int(item.resolved_trades),
        wins=int(item.wins),
        mean_entry_price=item.mean_entry_price,
        edge=item.edge,
        edge_ci_low=item.edge_ci_low,
        q_value=item.q_value,
        dsr=item.dsr,
        specialties=tuple(item.specialties or ()),
        categories=item.categories or {},
        prior_edge=item.prior_edge,
        prior_strength=item.prior_strength,
        status_since=item.status_since,
        scored_at=item.scored_at,
        reasons=tuple(item.reasons or ()),
        named_at=item.named_at,
        looked_from=item.looked_from,
        selected_at=item.selected_at,
    )


def _item(profile: WhaleProfile, now: datetime) -> WhaleModel:
    return WhaleModel(
        wallet=profile.wallet,
        status=profile.status.value,
        score=profile.score,
        score_ci_low=profile.score_ci_low,
        resolved_trades=profile.resolved_trades,
        wins=profile.wins,
        mean_entry_price=profile.mean_entry_price,
        edge=profile.edge,
        edge_ci_low=profile.edge_ci_low,
        q_value=profile.q_value,
        dsr=profile.dsr,
        specialties=list(profile.specialties),
        categories={name: record.model_dump(mode="json") for name, record in profile.categories.items()} or None,
        prior_edge=profile.prior_edge,
        prior_strength=profile.prior_strength,
        status_since=profile.status_since,
        scored_at=profile.scored_at,
        reasons=list(profile.reasons),
        named_at=profile.named_at,
        looked_from=profile.looked_from,
        selected_at=profile.selected_at,
        updated_at=now,
    )


class Whales:
    @staticmethod
    def key(wallet: str) -> str:
        """The whales table's hash key of `wallet`."""
        return wallet.lower()

    def get(self, wallet: str) -> WhaleProfile | None:
        try:
            item = WhaleModel.get(self.key(wallet))
        except DoesNotExist:
            return None
        return profile_of(item)

    def put(self, profile: WhaleProfile, now: datetime) -> None:
        _item(profile, now).save()

    def put_many(self, profiles: Iterable[WhaleProfile], now: datetime) -> int:
        """Write profiles in DynamoDB batches of 25 (unprocessed items are retried by PynamoDB); returns the count."""
        count = 0
        with WhaleModel.batch_write() as batch:
            for profile in profiles:
                batch.save(_item(profile, now))
                count += 1
        return count

    def all(self) -> list[WhaleProfile]:
        """Every profile (a scan: the table holds the scored universe, thousands of items, read once a day)."""
        return [profile_of(item) for item in WhaleModel.scan()]

    def by_status(self, status: WhaleStatus) -> list[WhaleProfile]:
        wallets = [item.wallet for item in WhaleModel.by_status.query(status.value)]
        return [p for w in wallets if (p := self.get(w)) is not None]
