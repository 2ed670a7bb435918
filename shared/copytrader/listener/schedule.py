"""Round-robin polling order over the tracked wallets: the most overdue wallet first, each at most once
per interval, and never two polls of one wallet at the same time.

When the rate limit is the bottleneck every wallet is overdue and the order is plain round robin (a
polled wallet goes to the back); when it is not, each wallet is polled every `interval_s`. Keeping one
poll per wallet in flight keeps its high-water mark consistent without a lock.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable


class WalletSchedule:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._due: dict[str, tuple[float, int]] = {}  # wallet -> (due time, turn: ties go to the longest waiting)
        self._busy: set[str] = set()
        self._turns = itertools.count()

    @property
    def wallets(self) -> frozenset[str]:
        return frozenset(self._due)

    def track(self, wallets: Iterable[str], now: float) -> None:
        """Watch exactly `wallets`: new ones are due at once, dropped ones are never handed out again."""
        wanted = set(wallets)
        for wallet in [w for w in self._due if w not in wanted]:
            del self._due[wallet]
        for wallet in sorted(wanted - self._due.keys()):
            self._due[wallet] = (now, next(self._turns))

    def take(self, now: float) -> str | float:
        """The wallet to poll now (marked busy), or how many seconds until one is due (inf: none tracked)."""
        candidates = [(due, wallet) for wallet, due in self._due.items() if wallet not in self._busy]
        if not candidates:
            return math.inf
        (due, _), wallet = min(candidates)
        if due > now:
            return due - now
        self._busy.add(wallet)
        return wallet

    def release(self, wallet: str, now: float) -> None:
        """The poll of `wallet` ended at `now`: it is due again one interval later (if still tracked)."""
        self._busy.discard(wallet)
        if wallet in self._due:
            self._due[wallet] = (now + self.interval_s, next(self._turns))

    def set_interval(self, interval_s: float, now: float) -> None:
        """Change the interval; when it shrinks, no wallet waits longer than the new interval from `now`."""
        if interval_s < self.interval_s:
            latest = now + interval_s
            self._due = {w: (min(due, latest), turn) for w, (due, turn) in self._due.items()}
        self.interval_s = interval_s
