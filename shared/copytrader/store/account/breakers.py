"""The account's halts: the daily-loss breaker, the drawdown halt and the kill switch (rules in copytrader.risk.rules).

Each trip is one conditional update that succeeds only for the caller that changed the state, so exactly one
caller sends the one alert however many settle concurrently. `after_settlement` is what every settlement that
can realize a loss runs next (a sell fill, a redemption): raise the equity high-water mark, halt new BUYs on a
drawdown, trip the day's breaker on a realized loss, alerting once for each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from copytrader.money import ZERO
from copytrader.risk.rules import breaker_floor, drawdown_floor
from copytrader.runtime.alerts import Alerts
from copytrader.settings import RiskLimits
from copytrader.store.account.items import BREAKER_CLOSED, BREAKER_OPEN, AccountItems
from copytrader.store.account.reads import AccountReads
from copytrader.store.conditional import update_if
from copytrader.store.tables import RiskStateModel

R = RiskStateModel


class Breakers:
    def __init__(self, items: AccountItems, reads: AccountReads) -> None:
        self.items, self.reads = items, reads

    # ------------------------------------------------------------------------------------ the breaker
    def trip_breaker_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Open today's breaker when realized P&L <= floor; True only for the call that opened it.

        The update is conditional on the breaker being closed, so exactly one caller sees True and
        sends the one alert, however many settle concurrently.
        """
        day = self.items.day_item(now)
        floor = floor_of(day.day_start_equity or ZERO)
        return update_if(
            day,
            actions=[R.breaker.set(BREAKER_OPEN), R.breaker_tripped_at.set(now), R.updated_at.set(now)],
            condition=(R.breaker != BREAKER_OPEN) & (R.day_realized_pnl <= floor),
        )

    def reset_breaker(self, now: datetime) -> None:
        """Manual reset by an operator: close today's breaker."""
        day = self.items.day_item(now)
        day.update(actions=[R.breaker.set(BREAKER_CLOSED), R.updated_at.set(now)])

    # ------------------------------------------------------------------------------- the drawdown halt
    def update_high_water_mark(self, now: datetime) -> bool:
        """Raise the equity high-water mark to the current equity if it is higher (one conditional update)."""
        return self.items.raise_high_water_mark(now)

    def trip_drawdown_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Set the drawdown halt when equity < floor_of(high-water mark); True only for the call that set it.

        Conditional on the halt being off, the mark unchanged and equity still below the floor, all on the
        account item at the moment of the write: one caller sends the one alert.
        """
        account = self.items.account_item()
        equity, mark = account.equity, account.equity_hwm
        if equity is None or mark is None or account.drawdown_halt:
            return False
        floor = floor_of(mark)
        if not equity < floor:
            return False
        return update_if(
            account,
            actions=[R.drawdown_halt.set(True), R.drawdown_halted_at.set(now), R.updated_at.set(now)],
            condition=(R.drawdown_halt.does_not_exist() | (R.drawdown_halt == False))  # noqa: E712
            & (R.equity_hwm == mark)
            & (R.equity < floor),
        )

    def reset_drawdown(self, now: datetime) -> None:
        """Manual reset by an operator: lift the halt and rebase the high-water marks (book and marked equity) to the
        current equity (otherwise the next settlement or marking would find the same drawdown and halt again)."""
        self.items.account_item().update(
            actions=[
                R.drawdown_halt.set(False),
                R.equity_hwm.set(R.equity),
                R.equity_marked_hwm.set(R.equity_marked | R.equity),
                R.updated_at.set(now),
            ],
            condition=R.equity.exists(),
        )

    # --------------------------------------------------------------------------------- the kill switch
    def set_kill_switch(self, on: bool, now: datetime) -> None:
        self.items.account_item().update(actions=[R.kill_switch.set(on), R.updated_at.set(now)])

    # --------------------------------------------------------------------------------- after settlement
    def after_settlement(self, limits: RiskLimits, alerts: Alerts, now: datetime) -> bool:
        """After a settlement that may have realized P&L: the drawdown check (high-water mark, halt), then today's
        breaker; each alerts once, from the call that tripped it. Returns whether this call tripped the breaker."""
        self.check_drawdown(limits, alerts, now)
        tripped = self.trip_breaker_if_needed(now, lambda equity: breaker_floor(equity, limits))
        if tripped:
            state = self.reads.state(now)
            alerts.send(
                "copytrader: daily-loss breaker tripped",
                {
                    "account": self.items.account,
                    "day": state.day,
                    "day_realized_pnl": str(state.day_realized_pnl),
                    "day_start_equity": str(state.day_start_equity),
                    "limit": str(limits.daily_loss_limit),
                    "at": now.isoformat(),
                },
            )
        return tripped

    def check_drawdown(self, limits: RiskLimits, alerts: Alerts, now: datetime) -> bool:
        """Raise the equity high-water mark, then halt new BUYs if equity < (1 - max_drawdown) x mark; alert once,
        from the call that set the halt. Returns whether this call set it."""
        self.update_high_water_mark(now)
        halted = self.trip_drawdown_if_needed(now, lambda mark: drawdown_floor(mark, limits))
        if halted:
            status = self.reads.risk_status(now)
            alerts.send(
                "copytrader: drawdown halt",
                {
                    "account": self.items.account,
                    "equity": status["equity"],
                    "equity_high_water_mark": status["equity_high_water_mark"],
                    "max_drawdown": str(limits.max_drawdown),
                    "at": now.isoformat(),
                },
            )
        return halted
