"""Whale profiles: the tracked set and the evidence each copy decision is sized on."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from copytrader.model import WhaleProfile, WhaleStatus
from copytrader.store.tables import WhaleModel


class Whales:
    def get(self, wallet: str) -> WhaleProfile | None:
        try:
            item = WhaleModel.get(wallet.lower())
        except DoesNotExist:
            return None
        return WhaleProfile(
            wallet=item.wallet,
            status=WhaleStatus(item.status),
            score=item.score,
            resolved_trades=int(item.resolved_trades),
            wins=int(item.wins),
            mean_entry_price=item.mean_entry_price,
            reasons=tuple(item.reasons or ()),
        )

    def put(self, profile: WhaleProfile, now: datetime) -> None:
        WhaleModel(
            wallet=profile.wallet,
            status=profile.status.value,
            score=profile.score,
            resolved_trades=profile.resolved_trades,
            wins=profile.wins,
            mean_entry_price=profile.mean_entry_price,
            reasons=list(profile.reasons),
            updated_at=now,
        ).save()

    def by_status(self, status: WhaleStatus) -> list[WhaleProfile]:
        wallets = [item.wallet for item in WhaleModel.by_status.query(status.value)]
        return [p for w in wallets if (p := self.get(w)) is not None]
