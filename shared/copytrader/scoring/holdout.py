"""The selection split: each wallet is tested only on history that the choice of it could not have seen.

A wallet reaches the scorer because something named it: a P&L leaderboard over a period, a large trade of the
global feed, an operator's list. Whatever named it looked at part of its history, and a P&L ranking shows the
survivors: on that part a lucky wallet looks skilled, and a p-value computed there is conditional on having
ranked high. So every wallet carries a `SelectionWindow`:

(The window and what each source looked at: copytrader.scoring.naming, which imports no numpy.)

    named_at      when discovery first named it (kept in the whales table: later runs keep the first naming);
    looked_from   where the naming's look began: named_at - the ranking's period (DAY 1 d, WEEK 7 d, MONTH 30 d;
                  a large trade of the feed LARGE_TRADE_LOOKBACK); None for an all-time ranking or an unknown
                  source: everything before named_at;
    selected_at   when the scorer first selected it for copying (PROBATION), None while it never was.

Test sample. A (wallet, event) pair is in the test sample when the naming could not have seen any of it: its
span, from the wallet's first fill in the event to the later of its last fill and the event's last resolution (an
unresolved event runs on: its marks moved the ranking's P&L), does not meet [looked_from, named_at]. That is,
every fill and resolution came before the ranking's period began, or the wallet entered the event after it was
named. Under the null of no skill, distinct events are independent (the assumption the event-clustered test
already makes), so the test sample is independent of the naming and its p-value is unconditional: the leaderboard
looked only at the other part. The direction does not matter for validity; after the naming is also the most
recent evidence. The pairs inside the window are counted (`in_sample_events`), never tested. A wallet whose
window is unknown (files scored without provenance) is tested on everything, and the run says so.

Post-selection evidence. Promotion from PROBATION to ACTIVE needs evidence collected after the wallet was selected:
its test-sample events entered after selected_at (`post_selection`), tested on their own by the universe.

Trials. Every wallet named counts in the m of the false-discovery control and the N of the Deflated Sharpe,
also those left with no test sample (copytrader.scoring.universe).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.naming import SelectionWindow
from copytrader.scoring.tape import TradeTape

__all__ = ["SelectionWindow", "Split", "split"]

_NEVER = np.iinfo(np.int64).max
_ALWAYS = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Split:
    """Per trade of the tape it was made for: `test` (in the test sample) and `post_selection` (in the test sample
    and in an event the wallet entered after it was selected); per wallet of the tape, `in_sample_events` (pairs
    the naming saw) and `has_window`."""

    test: npt.NDArray[np.bool_]
    post_selection: npt.NDArray[np.bool_]
    in_sample_events: npt.NDArray[np.int64]
    has_window: npt.NDArray[np.bool_]


def split(tape: TradeTape, facts: TokenFacts, windows: Mapping[str, SelectionWindow]) -> Split:
    """The test sample and post-selection evidence of every wallet of `tape` (module docstring)."""
    k = len(tape.wallets)
    lo = np.full(k, _NEVER, dtype=np.int64)  # no window: nothing is inside it
    hi = np.full(k, _ALWAYS, dtype=np.int64)
    selected = np.full(k, _NEVER, dtype=np.int64)
    for i, wallet in enumerate(tape.wallets):
        window = windows.get(wallet)
        if window is None:
            continue
        lo[i] = _ALWAYS if window.looked_from is None else window.looked_from
        hi[i] = window.named_at
        if window.selected_at is not None:
            selected[i] = window.selected_at
    has_window = hi != _ALWAYS
    if tape.n == 0:
        empty = np.zeros(0, dtype=np.bool_)
        return Split(empty, empty, np.zeros(k, dtype=np.int64), has_window)

    resolved = facts.resolved_at[tape.token]
    ends = np.where(resolved >= 0, np.maximum(tape.timestamp, resolved), _NEVER)  # unresolved: still running
    key = tape.wallet * max(1, len(facts.events)) + facts.event[tape.token]
    pairs, pair = np.unique(key, return_inverse=True)
    first = np.full(pairs.size, _NEVER, dtype=np.int64)
    last = np.full(pairs.size, _ALWAYS, dtype=np.int64)
    np.minimum.at(first, pair, tape.timestamp)
    np.maximum.at(last, pair, ends)
    owner = pairs // max(1, len(facts.events))
    outside = (last < lo[owner]) | (first > hi[owner])
    post = outside & (first > selected[owner])
    in_sample = np.bincount(owner[~outside], minlength=k).astype(np.int64)
    return Split(outside[pair], post[pair], in_sample, has_window)
