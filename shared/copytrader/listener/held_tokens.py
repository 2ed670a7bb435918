"""The tokens we hold: our positions with shares, for the mark feed (`copytrader.listener.marks_feed`), and the
same positions as the exit rules read them, for the fast stops (`copytrader.listener.fast_exits`).

Read from the positions table (`Positions.all`, one query of the account's partition) in a worker thread (pynamodb
blocks). The feed re-reads it every `refresh_interval_s`, so a new position is marked without a restart.
"""

from __future__ import annotations

import asyncio

from copytrader.copying.exits import ExitPosition
from copytrader.store.positions import Positions, holding_of


class HeldPositions:
    def __init__(self, positions: Positions) -> None:
        self._positions = positions

    async def tokens(self) -> frozenset[str]:
        return await asyncio.to_thread(self._load)

    def _load(self) -> frozenset[str]:
        return frozenset(p.token_id for p in self._positions.all() if p.shares > 0)

    def exit_positions(self) -> dict[str, ExitPosition]:
        """Token id -> the position as the price rules read it (blocking: run it in a thread). The tick is the
        rules' default: the size step floors an exit's limit to the market's own tick."""
        account = self._positions.account
        return {
            p.token_id: ExitPosition(account, holding_of(p), p.bid_high) for p in self._positions.all() if p.shares > 0
        }
