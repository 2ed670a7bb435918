"""The tracked wallets: whales whose status lets the pipeline copy them (ACTIVE and PROBATION).

Read from the whales table through `Whales.by_status` in a worker thread (pynamodb blocks). The listener
re-reads it every `refresh_interval_s`, so scoring and culling change what is watched without a restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from copytrader.model import COPYABLE_STATUSES, WhaleStatus
from copytrader.store.whales import Whales


class WhaleWatchList:
    def __init__(self, whales: Whales | None = None, statuses: Iterable[WhaleStatus] = COPYABLE_STATUSES) -> None:
        self._whales = whales or Whales()
        self._statuses = tuple(sorted(statuses))

    async def wallets(self) -> frozenset[str]:
        return await asyncio.to_thread(self._load)

    def _load(self) -> frozenset[str]:
        return frozenset(profile.wallet for status in self._statuses for profile in self._whales.by_status(status))
