"""High-water marks in DynamoDB: one `WatermarkModel` item per wallet (`copytrader.store.observed_tables`).

A save is conditional on not moving `newest` backwards, so a lagging second listener task cannot rewind
the mark of a faster one. PynamoDB calls block, so they run in a worker thread (`asyncio.to_thread`),
off the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import MappingProxyType

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import DoesNotExist

from copytrader.listener.high_water import HighWaterMark
from copytrader.store.conditional import condition_failed
from copytrader.store.observed_tables import WatermarkModel

W = WatermarkModel


def _utc_now() -> datetime:
    return datetime.now(UTC)


def mark_to_item(wallet: str, mark: HighWaterMark, now: datetime) -> WatermarkModel:
    return W(wallet=wallet, floor=mark.floor, newest=mark.newest, recent=dict(mark.recent), updated_at=now)


def mark_from_item(item: WatermarkModel) -> HighWaterMark:
    raw = item.recent.attribute_values if isinstance(item.recent, MapAttribute) else item.recent
    recent = {str(identity): int(ts) for identity, ts in raw.items()}
    return HighWaterMark(floor=int(item.floor), newest=int(item.newest), recent=MappingProxyType(recent))


class DynamoHighWaterMarks:
    def __init__(self, clock: Callable[[], datetime] = _utc_now) -> None:
        self._clock = clock

    async def load(self, wallet: str) -> HighWaterMark | None:
        return await asyncio.to_thread(self._get, wallet)

    async def save(self, marks: Mapping[str, HighWaterMark]) -> None:
        await asyncio.to_thread(self._put_all, dict(marks))

    def _get(self, wallet: str) -> HighWaterMark | None:
        try:
            return mark_from_item(W.get(wallet, consistent_read=True))
        except DoesNotExist:
            return None

    def _put_all(self, marks: Mapping[str, HighWaterMark]) -> None:
        now = self._clock()
        for wallet, mark in marks.items():
            try:
                mark_to_item(wallet, mark, now).save(condition=W.wallet.does_not_exist() | (W.newest <= mark.newest))
            except Exception as exc:
                if not condition_failed(exc):
                    raise
