"""Whale stances: each tracked wallet's latest view per market, read by group for the conflict check.

Written by the score step for every trade of a copyable whale whose market is known, copied or not; read by the
same step before a BUY is copied (`copytrader.copying.conflicts`). For a BUY the write comes before the read
(`decision.decide(record_stance=...)`), so two concurrent opposite trades in one group cannot both miss each
other. A put replaces the (market, wallet) item only when the trade is not older than the stored one
(`at <= :at`), so out-of-order deliveries never roll a stance back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import PutError

from copytrader.copying.conflicts import Stance
from copytrader.store.observed_tables import StanceModel


def _member(condition_id: str, wallet: str) -> str:
    return f"{condition_id}#{wallet}"


class Stances:
    def __init__(self, window_s: int) -> None:
        self.window_s = window_s

    def record(self, stance: Stance) -> bool:
        """Store `stance` unless a newer one of the same wallet and market is there; True when written."""
        item = StanceModel(
            group=stance.group,
            member=_member(stance.condition_id, stance.wallet),
            condition_id=stance.condition_id,
            wallet=stance.wallet,
            direction=stance.direction,
            score=stance.score,
            at=stance.at,
            trade_key=stance.trade_key or None,
            expires_at=stance.at + timedelta(seconds=self.window_s),
        )
        try:
            item.save(condition=StanceModel.member.does_not_exist() | (StanceModel.at <= stance.at))
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def in_group(self, group: str, now: datetime) -> list[Stance]:
        """Every stance of `group` not older than the window (one query, consistent read)."""
        oldest = now - timedelta(seconds=self.window_s)
        return [
            Stance(
                group=item.group,
                condition_id=item.condition_id,
                wallet=item.wallet,
                direction=int(item.direction),
                score=item.score,
                at=item.at,
                trade_key=item.trade_key or "",
            )
            for item in StanceModel.query(group, consistent_read=True)
            if item.at >= oldest
        ]


__all__ = ["Stances"]
