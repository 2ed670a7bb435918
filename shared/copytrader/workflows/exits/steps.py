"""The exits job: every minute, evaluate the exit rules on every open position and publish what fires.

EventBridge Scheduler invokes `functions/exits_scan` every minute; it runs `scan`:

1. the account's positions holding shares, less those with a SELL not yet settled (PENDING or UNKNOWN in the orders
   ledger: the venue may have sold some of their shares, and one exit at a time is enough);
2. for each: its market (through the markets table, Gamma after its time-to-live), its mark (the listener's, from
   the marks table; the CLOB book read now when that is missing or stale: `marks_from_book`), its whales' parts of
   the cost and their statuses;
3. the bid's high-water mark is raised on the position when a fresh bid is above it (a conditional write: only
   upward, only for the same lot);
4. `copying.exits.scheduled_exits` (every rule but the mirror, which rides the whale's SELL), and each signal is
   sent to the copy FIFO queue (`copytrader.runtime.exit_queue.ExitPublisher`, shared with the listener's fast
   stops), where it runs score -> size -> risk_check -> execute.

A redelivered or repeated signal is the same order (its key derives from the lot, the rule, the trigger and the
held shares), so a rule that stays true for several minutes sells once. A market or book that cannot be read is
counted (`unavailable`) and decided on next minute. Every run then records marked equity and trips the halts from
it (`settlement.mark_account`), so the breakers see prices at most a minute old. Returns the counts: `positions`,
`selling` (skipped: a SELL unsettled), `unavailable`, `marks_from_book`, `marks_unreadable`, `high_water_raised`,
`signals`, `publish_failed`, `stale_marks`, and `reason_<exit reason>` per signal.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from copytrader.copying.exits import ExitPosition, ExitRules, high_water, scheduled_exits
from copytrader.errors import TransientError, UpstreamError
from copytrader.model import Market, WhaleStatus
from copytrader.model.marks import Mark, MarkSource
from copytrader.risk.rules import Scope
from copytrader.runtime.observability import StepResult
from copytrader.workflows.copy.settlement import mark_account
from copytrader.workflows.wiring import Deps

_UNREADABLE = (UpstreamError, TransientError, OSError, ValueError)


def scan(event: dict[str, Any], deps: Deps) -> StepResult:
    """Evaluate every exit rule on the open positions and publish the signals (module docstring)."""
    now = deps.clock()
    rules = ExitRules.from_settings(deps.settings)
    settlements = deps.account.settlements
    held = [p for p in deps.positions.all() if p.shares > 0]
    selling = settlements.unsettled_sells({p.token_id for p in held}) if held else set()
    counts: Counter[str] = Counter(positions=len(held), selling=len(selling))
    markets: dict[str, Market] = {}
    marks: dict[str, Mark] = {}
    statuses: dict[str, WhaleStatus] = {}
    candidates: list[ExitPosition] = []
    stored = _stored_marks(deps, [p.token_id for p in held if p.token_id not in selling], counts)
    for position in held:
        if position.token_id in selling:
            continue
        try:
            market = markets.get(position.condition_id) or deps.markets.get(position.condition_id, now)
            mark = stored.get(position.token_id)
            if mark is None or mark.is_stale(now, rules.max_mark_age):
                mark = _book_mark(deps, position.token_id, now)
                counts["marks_from_book"] += 1
        except _UNREADABLE:
            counts["unavailable"] += 1
            continue
        if market is None or mark is None:
            counts["unavailable"] += 1
            continue
        markets[market.condition_id] = market
        marks[position.token_id] = mark
        holding, parts = settlements.holding(position.token_id)
        if holding is None:
            continue
        whale_costs = {name: cost for (kind, name), cost in parts.items() if kind is Scope.WHALE}
        for wallet in whale_costs:
            if wallet not in statuses:
                profile = deps.whales.get(wallet)
                if profile is not None:
                    statuses[wallet] = profile.status
        candidate = ExitPosition(deps.settings.account, holding, position.bid_high, whale_costs, market.tick_size)
        raised = high_water(candidate, marks[position.token_id], rules, now)
        if raised is not None and deps.positions.raise_bid_high(position, raised):
            counts["high_water_raised"] += 1
        candidates.append(candidate)
    signals = scheduled_exits(candidates, markets, marks, statuses, rules, now)
    failed = deps.exit_queue.publish(signals) if signals else []
    counts["signals"] = len(signals)
    counts["publish_failed"] = len(failed)
    for signal in signals:
        counts[f"reason_{signal.reason.value}"] += 1
    marked = mark_account(deps)  # every minute: marked equity recorded, the halts tripped from it
    if marked is not None:
        counts["stale_marks"] = marked[0].stale
    output = {
        **{k: int(v) for k, v in sorted(counts.items())},
        "exits": [
            {"key": s.key, "token_id": s.token_id, "reason": s.reason.value, "trigger": s.trigger} for s in signals
        ],
    }
    return StepResult(output, {k: float(v) for k, v in counts.items()})


def _stored_marks(deps: Deps, tokens: list[str], counts: Counter[str]) -> dict[str, Mark]:
    """The listener's marks of `tokens` (one BatchGetItem per 100); none when the table cannot be read."""
    if not tokens:
        return {}
    try:
        return deps.marks.read(tokens)
    except _UNREADABLE:
        counts["marks_unreadable"] += 1
        return {}


def _book_mark(deps: Deps, token_id: str, now: datetime) -> Mark | None:
    """A mark read from the CLOB book now (REST): the fallback when the listener's is missing or stale."""
    book = deps.books(token_id)
    if book is None:
        return None
    return Mark(token_id=token_id, bid=book.best_bid, ask=book.best_ask, at=now, source=MarkSource.REST)


__all__ = ["scan"]
