"""The exits in the simulated day (`copytrader demo`): marks, marked equity and the exits job, every 15 minutes.

At each `exits` event of the timeline (`copytrader.local.timeline`):

1. the held tokens' marks are written to the marks table from the simulated books (`PriceMarks.write`, the bid, the
   ask and the last trade, source `sim`), as the listener writes them from the CLOB market channel;
2. marked equity is recorded on the account (`settlement.mark_account`: the high-water mark, the halts) and kept as
   a point of the marked equity curve;
3. the exits job runs through its function (`functions/exits_scan`, invoked through the local Lambda dispatch as
   EventBridge Scheduler invokes it): it publishes the exit signals to the copy FIFO queue, which the day then
   drains through the copy state machine.

`ExitScans` keeps the scans' totals (runs, signals by reason, errors) and the marked curve; the exits themselves are
counted from the orders ledger by the summary, not here.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from copytrader.local.timeline import invoke_counted
from copytrader.model.marks import Mark, MarkSource
from copytrader.sim.world import SimWorld
from copytrader.workflows import wiring
from copytrader.workflows.copy.settlement import mark_account


def sim_mark(world: SimWorld, token_id: str, at: datetime) -> Mark | None:
    """The token's mark from the simulated book at `at` (None for a token with no live book)."""
    if not world.has_book(token_id):
        return None
    book = world.book(token_id, at)
    return Mark(
        token_id=token_id,
        bid=book.best_bid,
        ask=book.best_ask,
        last_trade=world.last_trade_price(token_id, at),
        at=at,
        source=MarkSource.SIM,
    )


class ExitScans:
    """Writes marks, records marked equity and runs the exits job's function (see the module docstring)."""

    def __init__(self, lambda_client: Any, function_arn: str, world: SimWorld, deps: wiring.Deps) -> None:
        self._lambda, self._arn, self._world, self._deps = lambda_client, function_arn, world, deps
        self.totals: Counter[str] = Counter()
        self.errors: list[str] = []
        self.marked_curve: list[tuple[str, str]] = []

    def write_marks(self) -> int:
        """Write the held tokens' marks at the clock's time; how many."""
        now = self._deps.clock()
        held = sorted({p.token_id for p in self._deps.positions.all() if p.shares > 0})
        marks = [m for m in (sim_mark(self._world, token, now) for token in held) if m is not None]
        return self._deps.marks.write(marks, now)

    def mark(self) -> None:
        """Record marked equity on the account and add it to the curve."""
        self.totals["marks_written"] += self.write_marks()
        marked = mark_account(self._deps)
        if marked is not None:
            equity, record = marked
            self.marked_curve.append((self._deps.clock().isoformat(), str(equity.equity)))
            self.totals["marked_halts_tripped"] += int(record.drawdown_halted or record.breaker_tripped)

    def scan(self) -> dict[str, Any]:
        """One run of the exits job (empty when the function failed, which is counted)."""
        payload = invoke_counted(self._lambda, self._arn, {}, self.totals, self.errors)
        if payload is None:
            return {}
        for name in ("signals", "publish_failed", "unavailable"):
            self.totals[name] += int(payload.get(name, 0))
        for name, n in payload.items():
            if name.startswith("reason_"):
                self.totals[f"signals_{name.removeprefix('reason_')}"] += int(n)
        return dict(payload)


def crash_target(world: SimWorld, deps: wiring.Deps, planned: str, lead: timedelta) -> str | None:
    """The held token a planned crash hits now: `planned` if we hold it, else the first held token (by id) that
    qualifies: a live book, a market accepting orders whose end is more than `lead` away (so the time-to-end exit
    does not come first), and no SELL of it unsettled."""
    now = deps.clock()
    held = {p.token_id: p for p in deps.positions.all() if p.shares > 0}
    selling = deps.account.settlements.unsettled_sells(set(held)) if held else set()

    def qualifies(token: str) -> bool:
        if token not in held or token in selling or not world.has_book(token):
            return False
        market = world.market_at(held[token].condition_id, now)
        return market.accepting_orders and market.end_time is not None and market.end_time > now + lead

    if qualifies(planned):
        return planned
    return next((token for token in sorted(held) if qualifies(token)), None)
