"""The tokens we hold: our positions with shares, for the mark feed (`copytrader.listener.marks_feed`).

Read from the positions table (`Positions.all`, one query of the account's partition) in a worker thread (pynamodb
blocks). The feed re-reads it every `refresh_interval_s`, so a new position is marked without a restart.
"""

from __future__ import annotations

import asyncio

from copytrader.store.positions import Positions


class HeldPositions:
    def __init__(self, positions: Positions) -> None:
        self._positions = positions

    async def tokens(self) -> frozenset[str]:
        return await asyncio.to_thread(self._load)

    def _load(self) -> frozenset[str]:
        return frozenset(p.token_id for p in self._positions.all() if p.shares > 0)
