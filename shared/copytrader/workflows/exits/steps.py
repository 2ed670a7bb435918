"""The exits job: every minute, evaluate the exit rules on every open position and publish what fires.

EventBridge Scheduler invokes `functions/exits_scan` every minute; it runs `scan`:

1. the account's positions holding shares, less those with a SELL not yet settled (PENDING or UNKNOWN in the orders
   ledger: the venue may have sold some of their shares, and one exit at a time is enough);
2. for each: its market (through the markets table, Gamma after its time-to-live), a mark from the CLOB book (REST,
   read now: the listener's price feed replaces it later), its whales' parts of the cost and their statuses;
3. the bid's high-water mark is raised on the position when a fresh bid is above it (a conditional write: only
   upward, only for the same lot);
4. `copying.exits.scheduled_exits` (every rule but the mirror, which rides the whale's SELL), and each signal is
   sent to the copy FIFO queue (`publish.ExitPublisher`), where it runs score -> size -> risk_check -> execute.

A redelivered or repeated signal is the same order (its key derives from the lot, the rule, the trigger and the
held shares), so a rule that stays true for several minutes sells once. A market or book that cannot be read is
counted (`unavailable`) and decided on next minute. Returns the counts: `positions`, `selling` (skipped: a SELL
unsettled), `unavailable`, `high_water_raised`, `signals`, `publish_failed`, and `reason_<exit reason>` per signal.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from copytrader.copying.exits import ExitPosition, ExitRules, high_water, scheduled_exits
from copytrader.errors import TransientError, UpstreamError
from copytrader.model import Market, WhaleStatus
from copytrader.model.marks import Mark, MarkSource
from copytrader.risk.rules import Scope
from copytrader.runtime.observability import StepResult
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
    for position in held:
        if position.token_id in selling:
            continue
        try:
            market = markets.get(position.condition_id) or deps.markets.get(position.condition_id, now)
            book = deps.books(position.token_id)
        except _UNREADABLE:
            counts["unavailable"] += 1
            continue
        if market is None or book is None:
            counts["unavailable"] += 1
            continue
        markets[market.condition_id] = market
        marks[position.token_id] = Mark(
            token_id=position.token_id, bid=book.best_bid, ask=book.best_ask, at=now, source=MarkSource.REST
        )
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
    output = {
        **{k: int(v) for k, v in sorted(counts.items())},
        "exits": [
            {"key": s.key, "token_id": s.token_id, "reason": s.reason.value, "trigger": s.trigger} for s in signals
        ],
    }
    return StepResult(output, {k: float(v) for k, v in counts.items()})


__all__ = ["scan"]
