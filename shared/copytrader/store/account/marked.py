"""Marked equity on the account's items, and the halts it trips (rules in copytrader.risk.marking).

`record` writes what one marking found and trips the existing halts from it:
1. the account item: `equity_marked`, `equity_marked_at`, `stale_marks`, and `equity_marked_hwm` (set to this
   equity when absent, the first marking; then raised by a conditional update when this equity is higher);
2. today's item (created first, as any settlement does): `day_start_equity_marked`, set by the day's first marking;
3. the drawdown halt (`drawdown_halt`, the flag the reservation transaction already checks) when marked equity is
   below the drawdown floor of its high-water mark: one conditional update (halt off, the mark unchanged, stored
   marked equity still below the floor), so exactly one caller alerts;
4. today's breaker (`breaker`, checked by the reservation transaction) when the day's marked loss reaches the
   daily-loss floor: conditional on the breaker closed and the day's start unchanged; one caller alerts.
The reservation transaction's conditions are unchanged: marking trips the same flags the cost-based checks trip.
Four writes and one read per marking (the account update, the day read, the day update; a trip adds one each).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from copytrader.money import canonical
from copytrader.risk.marking import MarkedEquity, trips
from copytrader.risk.rules import breaker_floor, drawdown_floor
from copytrader.runtime.alerts import Alerts
from copytrader.settings import RiskLimits
from copytrader.store.account.items import BREAKER_OPEN, AccountItems
from copytrader.store.conditional import update_if
from copytrader.store.tables import RiskStateModel

R = RiskStateModel


@dataclass(frozen=True)
class MarkedRecord:
    equity_marked: Decimal
    high_water: Decimal
    day_start: Decimal
    drawdown_halted: bool  # this call set the drawdown halt
    breaker_tripped: bool  # this call opened today's breaker


class MarkedHalts:
    def __init__(self, items: AccountItems) -> None:
        self.items = items

    def record(self, marked: MarkedEquity, limits: RiskLimits, alerts: Alerts, now: datetime) -> MarkedRecord:
        """Record `marked` on the account and today's item and trip the halts it breaches (see the module)."""
        equity = marked.equity
        account = R(pk=self.items.account_key())
        account.update(
            actions=[
                R.equity_marked.set(equity),
                R.equity_marked_at.set(now),
                R.stale_marks.set(marked.stale + marked.unmarked),
                R.equity_marked_hwm.set(R.equity_marked_hwm | equity),
                R.updated_at.set(now),
            ],
            condition=R.pk.exists(),
        )
        high_water = account.equity_marked_hwm if account.equity_marked_hwm is not None else equity
        if high_water < equity and update_if(
            account,
            actions=[R.equity_marked_hwm.set(equity)],
            condition=R.equity_marked_hwm < equity,
        ):
            high_water = equity
        day = self.items.day_item(now)
        day.update(actions=[R.day_start_equity_marked.set(R.day_start_equity_marked | equity)])
        start = day.day_start_equity_marked if day.day_start_equity_marked is not None else equity
        tripped = trips(equity, high_water, start, limits)
        halted = tripped.drawdown and self._halt(account, high_water, drawdown_floor(high_water, limits), now)
        opened = tripped.breaker and update_if(
            day,
            actions=[R.breaker.set(BREAKER_OPEN), R.breaker_tripped_at.set(now), R.updated_at.set(now)],
            condition=(R.breaker != BREAKER_OPEN) & (R.day_start_equity_marked == start),
        )
        figures = {
            "account": self.items.account,
            "equity_marked": str(canonical(equity)),
            "stale_marks": marked.stale,
            "unmarked_positions": marked.unmarked,
            "at": now.isoformat(),
        }
        if halted:
            alerts.send(
                "copytrader: drawdown halt (marked equity)",
                {
                    **figures,
                    "equity_marked_high_water": str(canonical(high_water)),
                    "max_drawdown": str(limits.max_drawdown),
                },
            )
        if opened:
            alerts.send(
                "copytrader: daily-loss breaker tripped (marked equity)",
                {
                    **figures,
                    "day_start_equity_marked": str(canonical(start)),
                    "floor": str(canonical(start + breaker_floor(start, limits))),
                    "limit": str(limits.daily_loss_limit),
                },
            )
        return MarkedRecord(equity, high_water, start, halted, opened)

    def _halt(self, account: R, high_water: Decimal, floor: Decimal, now: datetime) -> bool:
        return update_if(
            account,
            actions=[R.drawdown_halt.set(True), R.drawdown_halted_at.set(now), R.updated_at.set(now)],
            condition=(R.drawdown_halt.does_not_exist() | (R.drawdown_halt == False))  # noqa: E712
            & (R.equity_marked_hwm == high_water)
            & (R.equity_marked < floor),
        )
