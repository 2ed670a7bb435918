"""`MarkBook`: the listener's latest `Mark` per held token, the `on_mark` seam, and which marks to write when.

Updates
    `apply(quote)` merges a parsed quote (`copytrader.polymarket.clob_market.Quote`: the fields it speaks of) into
    the token's mark and stamps it with the quote's time; quotes for tokens we do not hold are ignored. Every
    applied update then calls each registered `on_mark(mark)` callback, synchronously, in registration order.

The fast-stop seam (`on_mark`)
    A callback runs on the event loop inside the socket reader, so it must be cheap and must not block: evaluate
    the stop/target/trailing rules on the mark in memory and hand an exit signal to a queue or task, never wait on
    I/O. A callback that raises is logged and counted (`callback_errors`); it never stops the feed or the other
    callbacks. The mark passed is the new, complete mark (bid, ask, last trade, `at`, source).

Writes (what the Lambdas read, `copytrader.store.marks`)
    `due(now)` says which marks to write now, and `written(marks, now)` records that they were. A token's mark is
    due when it moved materially (bid, ask or last trade by at least `material_move`, or a side appeared or went)
    and its last write is at least `min_write_gap_s` old; or when it was re-confirmed (a newer `at`) and its last
    write is at least `write_every_s` old, which keeps the stored `at` within the Lambdas' staleness bound. So a
    token is written at most once per `min_write_gap_s` (1 s), and a quiet one once per `write_every_s` (30 s):
    for H held tokens, at most H writes/s, typically H/30.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from copytrader.model.marks import Mark, MarkSource
from copytrader.polymarket.clob_market import Quote, Unset

logger = logging.getLogger(__name__)

MarkCallback = Callable[[Mark], None]


@dataclass(frozen=True)
class MarkWritePolicy:
    material_move: Decimal = Decimal("0.01")  # a price move this large is written soon
    min_write_gap_s: float = 1.0  # ... but a token at most once per this
    write_every_s: float = 30.0  # a re-confirmed, unchanged mark is rewritten this often

    def __post_init__(self) -> None:
        if not (self.material_move > 0 and 0 < self.min_write_gap_s <= self.write_every_s):
            raise ValueError("MarkWritePolicy needs material_move > 0 and 0 < min_write_gap_s <= write_every_s")


def _merged(new: Decimal | Unset | None, old: Decimal | None) -> Decimal | None:
    """The quote's value where it spoke of the field, else the mark's."""
    return old if isinstance(new, Unset) else new


def _moved(old: Decimal | None, new: Decimal | None, by: Decimal) -> bool:
    if old is None or new is None:
        return (old is None) != (new is None)
    return abs(new - old) >= by


class MarkBook:
    """Marks of the held tokens in memory (see the module docstring)."""

    def __init__(self, policy: MarkWritePolicy | None = None, counters: Counter[str] | None = None) -> None:
        self.policy = policy or MarkWritePolicy()
        self.counters: Counter[str] = counters if counters is not None else Counter()
        self.held: frozenset[str] = frozenset()
        self._marks: dict[str, Mark] = {}
        self._stored: dict[str, tuple[Mark, datetime]] = {}  # what was last written, and when
        self._callbacks: list[MarkCallback] = []

    def on_mark(self, callback: MarkCallback) -> None:
        """Register `callback(mark)`, called on every applied update (see the module docstring)."""
        self._callbacks.append(callback)

    def hold(self, tokens: frozenset[str]) -> None:
        """Replace the held set; marks of tokens no longer held are forgotten."""
        self.held = tokens
        for gone in set(self._marks) - tokens:
            del self._marks[gone]
            self._stored.pop(gone, None)

    def get(self, token_id: str) -> Mark | None:
        return self._marks.get(token_id)

    def marks(self) -> dict[str, Mark]:
        return dict(self._marks)

    def apply(self, quote: Quote, source: MarkSource) -> Mark | None:
        """Merge `quote` into its token's mark and call the callbacks; None when the token is not held."""
        if quote.token_id not in self.held:
            self.counters["marks.unheld"] += 1
            return None
        old = self._marks.get(quote.token_id)
        mark = Mark(
            token_id=quote.token_id,
            bid=_merged(quote.bid, old.bid if old else None),
            ask=_merged(quote.ask, old.ask if old else None),
            last_trade=_merged(quote.last_trade, old.last_trade if old else None),
            at=quote.at,
            source=source,
        )
        self._marks[quote.token_id] = mark
        self.counters["marks.updates"] += 1
        for callback in self._callbacks:
            try:
                callback(mark)
            except Exception:
                self.counters["marks.callback_errors"] += 1
                logger.exception("on_mark callback failed", extra={"token_id": mark.token_id})
        return mark

    def quiet(self, now: datetime, after: timedelta) -> list[str]:
        """Held tokens with no mark, or whose mark is older than `after` (the REST fallback polls them): those
        without a mark first, then the oldest."""
        ages = {t: now - m.at if (m := self._marks.get(t)) is not None else timedelta.max for t in self.held}
        quiet = sorted(t for t, age in ages.items() if age > after)
        return sorted(quiet, key=lambda t: ages[t], reverse=True)

    def due(self, now: datetime) -> list[Mark]:
        """The marks to write now (see the module docstring)."""
        policy, due = self.policy, []
        for token, mark in self._marks.items():
            stored = self._stored.get(token)
            if stored is None:
                due.append(mark)
                continue
            last, written_at = stored
            age_s = (now - written_at).total_seconds()
            moved = any(
                _moved(getattr(last, side), getattr(mark, side), policy.material_move)
                for side in ("bid", "ask", "last_trade")
            )
            if (moved and age_s >= policy.min_write_gap_s) or (mark.at > last.at and age_s >= policy.write_every_s):
                due.append(mark)
        return due

    def written(self, marks: list[Mark], now: datetime) -> None:
        for mark in marks:
            if mark.token_id in self.held:
                self._stored[mark.token_id] = (mark, now)
        self.counters["marks.written"] += len(marks)
