"""Per-wallet high-water marks: how far a polling source has read a wallet's newest-first trade list.

A mark is a floor timestamp plus the identities of the rows observed at or after it. Several fills share
one second (one block), and the Data API can index a block's rows in more than one batch, so a bare
timestamp would either skip the late rows of the newest second or replay all of them; with the identities,
a row is new exactly when it is not older than the floor and not already observed.

With `overlap_s = 0` the floor is the newest timestamp seen and `recent` holds that second's rows. A
positive overlap keeps the floor `overlap_s` behind the newest row, so a row indexed late with an older
timestamp (out-of-order indexing, reorgs) is still picked up; the rows inside the overlap are recognised
by identity and not offered again.

Marks are an efficiency device, not the dedup guarantee: a row offered twice (a mark lost in a crash,
`recent` trimmed at `MAX_RECENT`) is caught by the trades table's conditional put (`SeenTrades.claim`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol

# 4,000 identities of up to 49 characters (trade key | 16-hex content digest, `row_content_identity`) and their
# timestamps keep a persisted mark near 250 KB, under DynamoDB's 400 KB item limit.
MAX_RECENT = 4_000


@dataclass(frozen=True)
class HighWaterMark:
    floor: int  # epoch seconds: rows older than this are behind the mark
    newest: int  # epoch seconds of the newest row observed (the starting cutoff for a fresh mark)
    recent: Mapping[str, int]  # row identity -> its timestamp, for every observed row at or after `floor`

    @classmethod
    def starting_at(cls, cutoff: int) -> HighWaterMark:
        """A wallet never polled before: rows from `cutoff` on are new."""
        return cls(floor=cutoff, newest=cutoff, recent=MappingProxyType({}))

    def is_behind(self, timestamp: int) -> bool:
        return timestamp < self.floor

    def is_new(self, identity: str, timestamp: int) -> bool:
        return timestamp >= self.floor and identity not in self.recent

    def advanced(
        self, observed: Iterable[tuple[str, int]], overlap_s: int, max_recent: int = MAX_RECENT
    ) -> HighWaterMark:
        """The mark after observing `(identity, timestamp)` rows. The floor never moves backwards."""
        recent = dict(self.recent)
        recent.update((identity, ts) for identity, ts in observed if ts >= self.floor)
        newest = max([self.newest, *recent.values()])
        floor = max(self.floor, newest - overlap_s)
        kept = sorted(((ts, identity) for identity, ts in recent.items() if ts >= floor), reverse=True)
        if len(kept) > max_recent:
            kept = kept[:max_recent]
            floor = kept[-1][0]
        return HighWaterMark(floor=floor, newest=newest, recent=MappingProxyType({i: ts for ts, i in kept}))


class HighWaterMarkStore(Protocol):
    """Where marks survive a restart. `save` may be called with marks older than the stored ones (two
    listener tasks): an implementation must not move a stored mark backwards."""

    async def load(self, wallet: str) -> HighWaterMark | None: ...

    async def save(self, marks: Mapping[str, HighWaterMark]) -> None: ...


class InMemoryHighWaterMarks:
    """Marks kept in this process only: for tests, and for a deployment without a marks table (a restart
    then starts every wallet from the initial lookback again)."""

    def __init__(self) -> None:
        self.marks: dict[str, HighWaterMark] = {}

    async def load(self, wallet: str) -> HighWaterMark | None:
        return self.marks.get(wallet)

    async def save(self, marks: Mapping[str, HighWaterMark]) -> None:
        for wallet, mark in marks.items():
            stored = self.marks.get(wallet)
            if stored is None or stored.newest <= mark.newest:
                self.marks[wallet] = mark
