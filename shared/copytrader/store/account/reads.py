"""Reading one account's risk state: the account and today's item as `PortfolioState`, the exposures a new BUY
counts against, the limit counters an operator sees. Consistent reads only (limits are decided on them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist

from copytrader.model import PortfolioState
from copytrader.money import ZERO
from copytrader.risk.affordability import Exposures
from copytrader.risk.rules import Scope, scopes, utc_day, utc_minute
from copytrader.store.account.items import BREAKER_CLOSED, BREAKER_OPEN, AccountItems
from copytrader.store.tables import RiskStateModel

R = RiskStateModel


class AccountReads:
    def __init__(self, items: AccountItems) -> None:
        self.items = items

    def state(self, now: datetime) -> PortfolioState:
        """Read-only view of the account and today's risk item (a day not yet started reads as fresh).

        Raises LookupError when the account does not exist yet (risk_check creates it on first use).
        """
        account = self.items.account_item()
        cash, open_cost = account.cash or ZERO, account.open_cost or ZERO
        try:
            day = R.get(self.items.day_key(utc_day(now)), consistent_read=True)
            start, realized, breaker = day.day_start_equity or ZERO, day.day_realized_pnl or ZERO, day.breaker
        except DoesNotExist:
            start, realized, breaker = cash + open_cost, ZERO, BREAKER_CLOSED
        return PortfolioState(
            cash=cash,
            reserved=account.reserved or ZERO,
            open_cost=open_cost,
            day=utc_day(now),
            day_start_equity=start,
            day_realized_pnl=realized,
            breaker_open=breaker == BREAKER_OPEN,
            kill_switch=bool(account.kill_switch),
        )

    def state_or_fresh(self, now: datetime, bankroll: Decimal) -> PortfolioState:
        """`state`, or for an account not created yet the state it will start with: `bankroll` of cash.

        The paper account is created by risk_check, the first step that may write the risk table; the steps
        before it (and reports) read the account it will be.
        """
        try:
            return self.state(now)
        except LookupError:
            return PortfolioState(cash=bankroll, day=utc_day(now), day_start_equity=bankroll)

    def exposures(
        self, condition_id: str, risk_group: str, category: str, wallet: str, *, bankroll: Decimal = ZERO
    ) -> Exposures:
        """The exposures one new BUY would count against (one consistent BatchGetItem of five items).

        Pass the order's fields as they are: an empty group or category reads as `risk.rules.scopes` would key
        it. An account not created yet reads as the account it will open as: nothing committed, `bankroll` of
        cash available (0 by default: nothing can be added).
        """
        keys = self.exposure_keys(condition_id, risk_group, category, wallet)
        found = {item.pk: item for item in R.batch_get(list(keys.values()), consistent_read=True)}
        return self.exposures_of(keys, found, bankroll)

    def exposure_keys(self, condition_id: str, risk_group: str, category: str, wallet: str) -> dict[str, str]:
        """The risk items a BUY's exposures are read from: `account`, `market`, `group`, `category`, `whale` -> key."""
        scope = scopes(condition_id, risk_group, category, wallet)
        items = self.items
        return {
            "account": items.account_key(),
            "market": items.exposure_key(Scope.MARKET, condition_id),
            "group": items.exposure_key(Scope.GROUP, scope.group),
            "category": items.exposure_key(Scope.CATEGORY, scope.category),
            "whale": items.exposure_key(Scope.WHALE, scope.wallet),
        }

    @staticmethod
    def exposures_of(keys: dict[str, str], found: Mapping[str, R], bankroll: Decimal = ZERO) -> Exposures:
        """`Exposures` from the items of `exposure_keys` that were read (`found`: key -> item; a missing one is 0)."""

        def exposure(name: str) -> Decimal:
            item = found.get(keys[name])
            return (item.exposure or ZERO) if item is not None else ZERO

        account = found.get(keys["account"])
        return Exposures(
            market=exposure("market"),
            group=exposure("group"),
            category=exposure("category"),
            whale=exposure("whale"),
            committed=(account.committed or ZERO) if account is not None else ZERO,
            available=(account.available or ZERO) if account is not None else bankroll,
        )

    def exposure(self, scope: Scope, name: str) -> Decimal:
        """One scope's exposure at cost (a whale's by its lower-case wallet)."""
        return self.items.exposure(scope, name.lower() if scope is Scope.WHALE else name)

    def open_orders(self) -> int:
        return int(self.items.account_item().open_orders or 0)

    def orders_in_minute(self, now: datetime) -> int:
        try:
            return int(R.get(self.items.rate_key(utc_minute(now)), consistent_read=True).order_count or 0)
        except DoesNotExist:
            return 0

    def stop_loss_at_entry(self, idempotency_key: str) -> Decimal | None:
        """The stop-loss fraction recorded on a copy's reservation (the setting in force when it was approved)."""
        reservation = self.items.reservation(idempotency_key)
        return reservation.stop_loss if reservation is not None else None

    def risk_status(self, now: datetime) -> dict[str, str | int | bool | None]:
        """The account's limit counters and halts for operators (`copytrader risk status`)."""
        account = self.items.account_item()
        return {
            "open_orders": int(account.open_orders or 0),
            "orders_this_minute": self.orders_in_minute(now),
            "equity": str(account.equity) if account.equity is not None else None,
            "equity_high_water_mark": str(account.equity_hwm) if account.equity_hwm is not None else None,
            "drawdown_halt": bool(account.drawdown_halt),
            "drawdown_halted_at": account.drawdown_halted_at.isoformat() if account.drawdown_halted_at else None,
        }
