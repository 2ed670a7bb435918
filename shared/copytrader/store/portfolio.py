"""Portfolio risk state in DynamoDB: reservations and their release, the breakers, the account.

Every change is a conditional write, so limits hold however many copies are approved at once: a
reservation is one transaction of eight items, each with the condition of one rule from `copytrader.risk`:
  day (breaker closed) | reservation (put if absent) | account (total cap, cash, open orders, kill switch,
  drawdown halt) | market, group, category, whale (exposure caps) | the minute's order counter (rate).
DynamoDB cancels the whole transaction when any condition fails and says which item failed, which is how a
rejection gets its reason. Transactions that collide on an item (`TransactionConflict`) are retried here
with jittered backoff, then surfaced as `TransientError` for the state machine to retry.

Exposure is converted and released with the same items: a settled order swaps its reservation for the
fill's cost (`add_order_exposure`), a sell or redemption releases cost from the position's market, group,
category and from each whale in proportion to the cost its copies put into the position
(`add_position_release`; per (token, whale) item `#WPOS#<token>#<wallet>`). The account keeps the derived
fields a condition needs (committed = open cost + reserved, available = cash - reserved, equity = cash +
open cost) in the same update expressions as their parts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from copytrader.errors import TransientError
from copytrader.model import PortfolioState, RiskDecision, SizedOrder
from copytrader.money import MICRO, ZERO
from copytrader.reasons import Reason
from copytrader.risk import Exposures, ReservationRequest, Scopes, scopes, scopes_of, utc_day, utc_minute
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.tables import PositionModel, RiskStateModel, _region

R = RiskStateModel
BREAKER_OPEN = "OPEN"
BREAKER_CLOSED = "CLOSED"
RESERVATION_TTL = timedelta(days=30)
RATE_TTL = timedelta(days=1)
_MAX_CONFLICT_RETRIES = 8
# the items of a reservation in the order pynamodb sends them (condition checks, puts, updates), which is the
# order of the cancellation reasons DynamoDB returns
_RESERVE_ITEMS = ("day", "reservation", "account", "market", "group", "category", "whale", "rate")
_CAP_REASONS = {
    "market": Reason.MARKET_CAP,
    "group": Reason.GROUP_CAP,
    "category": Reason.CATEGORY_CAP,
    "whale": Reason.WHALE_CAP,
}


def _reasons(exc: TransactWriteError) -> list[str | None]:
    reasons = exc.cancellation_reasons or []
    return [r.code if r is not None else None for r in reasons]


def run_transaction(
    connection: Connection,
    build: Callable[[TransactWrite], None],
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> None:
    """Commit the transaction `build` describes; retry only on TransactionConflict (nothing was written)."""
    jitter = rng or random.Random()
    for attempt in range(_MAX_CONFLICT_RETRIES):
        try:
            with TransactWrite(connection=connection) as tx:
                build(tx)
            return
        except TransactWriteError as exc:
            codes = _reasons(exc)
            conflict = "TransactionConflict" in codes or exc.cause_response_code in (
                "TransactionConflictException",
                "ThrottlingException",
                "ProvisionedThroughputExceededException",
            )
            if not conflict or "ConditionalCheckFailed" in codes:
                raise
            sleep(jitter.uniform(0, 0.01 * 2**attempt))
    raise TransientError(f"transaction still conflicting after {_MAX_CONFLICT_RETRIES} attempts")


class PortfolioStore:
    """One account's risk items: `<account>#ACCOUNT`, `#DAY#<date>`, `#RESV#<key>`, `#RATE#<minute>`, and the
    exposure items `#MARKET#<condition id>`, `#GROUP#<group>`, `#CATEGORY#<name>`, `#WHALE#<wallet>`,
    `#WPOS#<token>#<wallet>`."""

    def __init__(self, account: str, connection: Connection | None = None) -> None:
        self.account = account
        self.connection = connection or Connection(region=_region())
        self._account_ensured = False

    # -------------------------------------------------------------------------------------- keys
    def account_key(self) -> str:
        return f"{self.account}#ACCOUNT"

    def day_key(self, day: str) -> str:
        return f"{self.account}#DAY#{day}"

    def market_key(self, condition_id: str) -> str:
        return f"{self.account}#MARKET#{condition_id}"

    def reservation_key(self, idempotency_key: str) -> str:
        return f"{self.account}#RESV#{idempotency_key}"

    def group_key(self, group: str) -> str:
        return f"{self.account}#GROUP#{group}"

    def category_key(self, category: str) -> str:
        return f"{self.account}#CATEGORY#{category}"

    def whale_key(self, wallet: str) -> str:
        return f"{self.account}#WHALE#{wallet}"

    def whale_position_key(self, token_id: str, wallet: str) -> str:
        return f"{self.account}#WPOS#{token_id}#{wallet}"

    def rate_key(self, minute: str) -> str:
        return f"{self.account}#RATE#{minute}"

    # ---------------------------------------------------------------------------------- set-up
    def ensure_account(self, bankroll: Decimal, now: datetime) -> None:
        """Create the paper account with its starting cash once (a conditional put, once per process)."""
        if self._account_ensured:
            return
        item = R(
            pk=self.account_key(),
            cash=bankroll,
            reserved=ZERO,
            open_cost=ZERO,
            committed=ZERO,
            available=bankroll,
            kill_switch=False,
            open_orders=0,
            equity=bankroll,
            equity_hwm=bankroll,
            drawdown_halt=False,
            updated_at=now,
        )
        if not put_if_absent(item):  # an account from before the drawdown rule: derive its equity once
            update_if(
                R(pk=self.account_key()),
                actions=[R.equity.set(R.cash + R.open_cost), R.updated_at.set(now)],
                condition=R.equity.does_not_exist() & R.cash.exists() & R.open_cost.exists(),
            )
            self.update_high_water_mark(now)
        self._account_ensured = True

    def ensure_day(self, now: datetime) -> R:
        """Today's risk item, created on first use with start-of-day equity = cash + open cost."""
        day = utc_day(now)
        try:
            return R.get(self.day_key(day), consistent_read=True)
        except DoesNotExist:
            pass
        account = self._account()
        equity = (account.cash or ZERO) + (account.open_cost or ZERO)
        item = R(
            pk=self.day_key(day),
            day_start_equity=equity,
            day_realized_pnl=ZERO,
            breaker=BREAKER_CLOSED,
            updated_at=now,
        )
        return item if put_if_absent(item) else R.get(self.day_key(day), consistent_read=True)

    def _account(self) -> R:
        try:
            return R.get(self.account_key(), consistent_read=True)
        except DoesNotExist as exc:
            raise LookupError(f"account {self.account} has no risk state; create it first") from exc

    def state(self, now: datetime) -> PortfolioState:
        """Read-only view of the account and today's risk item (a day not yet started reads as fresh)."""
        account = self._account()
        cash, open_cost = account.cash or ZERO, account.open_cost or ZERO
        try:
            day = R.get(self.day_key(utc_day(now)), consistent_read=True)
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

    def market_exposure(self, condition_id: str) -> Decimal:
        return self._exposure(self.market_key(condition_id))

    def _exposure(self, key: str) -> Decimal:
        try:
            return R.get(key, consistent_read=True).exposure or ZERO
        except DoesNotExist:
            return ZERO

    def group_exposure(self, group: str) -> Decimal:
        return self._exposure(self.group_key(group))

    def category_exposure(self, category: str) -> Decimal:
        return self._exposure(self.category_key(category))

    def whale_exposure(self, wallet: str) -> Decimal:
        return self._exposure(self.whale_key(wallet.lower()))

    def exposures(self, condition_id: str, risk_group: str, category: str, wallet: str) -> Exposures:
        """The exposures one new BUY would count against (one consistent BatchGetItem of five items).

        Pass the order's fields as they are: an empty group or category reads as `risk.scopes_of` would key
        it. Account totals of an account not created yet read as zero (`available` 0: nothing can be added).
        """
        scope = scopes(condition_id, risk_group, category, wallet)
        keys = {
            "account": self.account_key(),
            "market": self.market_key(condition_id),
            "group": self.group_key(scope.group),
            "category": self.category_key(scope.category),
            "whale": self.whale_key(scope.wallet),
        }
        found = {item.pk: item for item in R.batch_get(list(keys.values()), consistent_read=True)}

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
            available=(account.available or ZERO) if account is not None else ZERO,
        )

    def open_orders(self) -> int:
        return int(self._account().open_orders or 0)

    def orders_in_minute(self, now: datetime) -> int:
        try:
            return int(R.get(self.rate_key(utc_minute(now)), consistent_read=True).order_count or 0)
        except DoesNotExist:
            return 0

    # ------------------------------------------------------------------------------ reservations
    def reserve(self, request: ReservationRequest, now: datetime) -> RiskDecision:
        """Reserve `request.amount` under every limit at once, or say which limit refused it.

        Idempotent: a second call for the same idempotency key finds its reservation and approves
        with the amount first reserved, reserving nothing more (and counting no second order).
        """
        self.ensure_day(now)
        amount = request.amount
        minute = request.minute or utc_minute(now)
        group = request.group or f"market:{request.condition_id}"

        def exposure_update(tx: TransactWrite, key: str, scope: str, threshold: Decimal) -> None:
            tx.update(
                R(pk=key),
                actions=[R.exposure.add(amount), R.scope.set(scope), R.updated_at.set(now)],
                condition=R.exposure.does_not_exist() | (R.exposure <= threshold),
            )

        def build(tx: TransactWrite) -> None:
            # the order of `_RESERVE_ITEMS`: pynamodb sends condition checks, then puts, then updates
            tx.condition_check(
                R, self.day_key(request.day), condition=R.breaker.does_not_exist() | (R.breaker != BREAKER_OPEN)
            )
            tx.save(
                R(
                    pk=self.reservation_key(request.key),
                    amount=amount,
                    condition_id=request.condition_id,
                    risk_group=group,
                    category=request.category,
                    wallet=request.wallet,
                    stop_loss=request.stop_loss or None,
                    settled=False,
                    updated_at=now,
                    expires_at=now + RESERVATION_TTL,
                ),
                condition=R.pk.does_not_exist(),
            )
            tx.update(
                R(pk=self.account_key()),
                actions=[
                    R.reserved.add(amount),
                    R.committed.add(amount),
                    R.available.add(-amount),
                    R.open_orders.add(1),
                    R.updated_at.set(now),
                ],
                condition=(R.committed <= request.committed_threshold)
                & (R.available >= amount)
                & (R.open_orders.does_not_exist() | (R.open_orders <= request.open_orders_threshold))
                & (R.kill_switch.does_not_exist() | (R.kill_switch == False))  # noqa: E712
                & (R.drawdown_halt.does_not_exist() | (R.drawdown_halt == False)),  # noqa: E712
            )
            tx.update(
                R(pk=self.market_key(request.condition_id)),
                actions=[R.exposure.add(amount), R.condition_id.set(request.condition_id), R.updated_at.set(now)],
                condition=R.exposure.does_not_exist() | (R.exposure <= request.market_threshold),
            )
            exposure_update(tx, self.group_key(group), group, request.group_threshold)
            exposure_update(tx, self.category_key(request.category), request.category, request.category_threshold)
            exposure_update(tx, self.whale_key(request.wallet), request.wallet, request.whale_threshold)
            tx.update(
                R(pk=self.rate_key(minute)),
                actions=[R.order_count.add(1), R.updated_at.set(now), R.expires_at.set(now + RATE_TTL)],
                condition=R.order_count.does_not_exist() | (R.order_count <= request.rate_threshold),
            )

        try:
            run_transaction(self.connection, build)
        except TransactWriteError as exc:
            return self._explain(exc, request)
        return RiskDecision(approved=True, reserved=amount, day=request.day, detail="reserved")

    def _explain(self, exc: TransactWriteError, request: ReservationRequest) -> RiskDecision:
        """The rejection a cancelled reservation stands for (first failed item in a fixed order of precedence)."""
        codes = _reasons(exc)
        if len(codes) != len(_RESERVE_ITEMS) or "ConditionalCheckFailed" not in codes:
            raise exc
        failed = {name for name, code in zip(_RESERVE_ITEMS, codes, strict=True) if code == "ConditionalCheckFailed"}
        day = request.day

        def rejected(reason: Reason, detail: str) -> RiskDecision:
            return RiskDecision(approved=False, reason=reason, detail=detail, day=day)

        if "reservation" in failed:
            existing = R.get(self.reservation_key(request.key), consistent_read=True)
            return RiskDecision(
                approved=True, reserved=existing.amount or ZERO, day=day, detail="already reserved (retry)"
            )
        if "day" in failed:
            return rejected(Reason.BREAKER_OPEN, "daily-loss breaker open")
        if "account" in failed:
            return self._explain_account(request, rejected)
        if "rate" in failed:
            return rejected(Reason.ORDER_RATE_LIMIT, f"{request.rate_threshold + 1} orders already in {request.minute}")
        for name in ("market", "group", "category", "whale"):
            if name in failed:
                return rejected(_CAP_REASONS[name], f"{name} exposure + {request.amount:.2f} exceeds the {name} cap")
        raise exc

    def _explain_account(
        self, request: ReservationRequest, rejected: Callable[[Reason, str], RiskDecision]
    ) -> RiskDecision:
        account = self._account()
        if account.kill_switch:
            return rejected(Reason.KILL_SWITCH, "account kill switch")
        if account.drawdown_halt:
            return rejected(
                Reason.DRAWDOWN_HALT, f"drawdown halt: equity {account.equity} vs mark {account.equity_hwm}"
            )
        if (account.available or ZERO) < request.amount:
            return rejected(Reason.INSUFFICIENT_CASH, f"available {account.available} < {request.amount:.2f}")
        if (account.committed or ZERO) > request.committed_threshold:
            return rejected(
                Reason.TOTAL_CAP, f"committed {account.committed} + {request.amount:.2f} exceeds the total cap"
            )
        if (account.open_orders or 0) > request.open_orders_threshold:
            return rejected(
                Reason.OPEN_ORDERS_LIMIT, f"{account.open_orders} open orders (max {request.open_orders_threshold + 1})"
            )
        return rejected(Reason.TOTAL_CAP, "account limits changed while reserving")

    def reservation(self, idempotency_key: str) -> R | None:
        try:
            return R.get(self.reservation_key(idempotency_key), consistent_read=True)
        except DoesNotExist:
            return None

    def stop_loss_at_entry(self, idempotency_key: str) -> Decimal | None:
        """The stop-loss fraction recorded on a copy's reservation (the setting in force when it was approved)."""
        reservation = self.reservation(idempotency_key)
        return reservation.stop_loss if reservation is not None else None

    # ------------------------------------------------- transaction pieces used by fills and exits
    def add_settle_reservation(self, tx: TransactWrite, idempotency_key: str, now: datetime) -> None:
        """Mark a reservation settled, exactly once (the condition stops a double release).

        The same transaction must take the order off the open-order count: `add_account_change(open_orders=-1)`.
        """
        tx.update(
            R(pk=self.reservation_key(idempotency_key)),
            actions=[R.settled.set(True), R.updated_at.set(now)],
            condition=R.settled == False,  # noqa: E712
        )

    def add_account_change(
        self,
        tx: TransactWrite,
        now: datetime,
        *,
        cash: Decimal = ZERO,
        reserved: Decimal = ZERO,
        open_cost: Decimal = ZERO,
        open_orders: int = 0,
    ) -> None:
        """Apply deltas to the account and keep its derived fields (committed, available, equity) consistent."""
        actions: list[Action] = [R.updated_at.set(now)]
        for attribute, delta in (
            (R.cash, cash),
            (R.reserved, reserved),
            (R.open_cost, open_cost),
            (R.committed, open_cost + reserved),
            (R.available, cash - reserved),
            (R.equity, cash + open_cost),
        ):
            if delta:
                actions.append(attribute.add(delta))
        if open_orders:
            actions.append(R.open_orders.add(open_orders))
        tx.update(R(pk=self.account_key()), actions=actions, condition=R.pk.exists())

    def add_market_change(self, tx: TransactWrite, condition_id: str, delta: Decimal, now: datetime) -> None:
        tx.update(
            R(pk=self.market_key(condition_id)),
            actions=[R.exposure.add(delta), R.condition_id.set(condition_id), R.updated_at.set(now)],
        )

    def _add_exposure(self, tx: TransactWrite, key: str, scope: str, delta: Decimal, now: datetime) -> None:
        tx.update(R(pk=key), actions=[R.exposure.add(delta), R.scope.set(scope), R.updated_at.set(now)])

    def add_scope_change(
        self, tx: TransactWrite, condition_id: str, scope: Scopes, delta: Decimal, now: datetime
    ) -> None:
        """Move the market, group, category and whale exposure of one copy by `delta` (pUSD, micro grid)."""
        if not delta:
            return
        self.add_market_change(tx, condition_id, delta, now)
        self._add_exposure(tx, self.group_key(scope.group), scope.group, delta, now)
        self._add_exposure(tx, self.category_key(scope.category), scope.category, delta, now)
        self._add_exposure(tx, self.whale_key(scope.wallet), scope.wallet, delta, now)

    def add_order_exposure(
        self, tx: TransactWrite, order: SizedOrder, delta: Decimal, now: datetime, *, filled_cost: Decimal = ZERO
    ) -> None:
        """Convert a settled order's reservation: every cap item moves by `delta` (fill cost - reserved, or
        -reserved when nothing filled); a BUY fill's cost is also recorded as the whale's share of the position."""
        scope = scopes_of(order)
        self.add_scope_change(tx, order.condition_id, scope, delta, now)
        if filled_cost > 0:
            key = self.whale_position_key(order.token_id, scope.wallet)
            self._add_exposure(tx, key, f"{order.token_id}#{scope.wallet}", filled_cost, now)

    def add_position_release(
        self, tx: TransactWrite, position: PositionModel, shares: Decimal, released: Decimal, now: datetime
    ) -> None:
        """Release the cost `released` of `shares` sold or redeemed from every cap item the position counts in.

        Market, group and category release `released`; each whale w releases its part of the position's cost,
        c_w x shares / position shares (rounded to the micro grid), or all of c_w when the position closes.
        Call inside the transaction that reduces the position with its `shares == read` condition (as
        `Positions.add_reduce` does): a concurrent fill changes the shares, so the whale parts read here are
        consistent with the position whenever the transaction commits.
        """
        self.add_market_change(tx, position.condition_id, -released, now)
        if position.risk_group:
            self._add_exposure(tx, self.group_key(position.risk_group), position.risk_group, -released, now)
        if position.category:
            self._add_exposure(tx, self.category_key(position.category), position.category, -released, now)
        wallets = sorted(position.whales or ())
        if not wallets or position.shares <= 0:
            return
        keys = [self.whale_position_key(position.token_id, w) for w in wallets]
        parts = {item.pk: item.exposure or ZERO for item in R.batch_get(keys, consistent_read=True)}
        closing = shares >= position.shares
        for wallet, key in zip(wallets, keys, strict=True):
            cost = parts.get(key, ZERO)
            part = cost if closing else (cost * shares / position.shares).quantize(MICRO)
            if part:
                self._add_exposure(tx, key, f"{position.token_id}#{wallet}", -part, now)
                self._add_exposure(tx, self.whale_key(wallet), wallet, -part, now)

    def add_realized(self, tx: TransactWrite, now: datetime, pnl: Decimal) -> None:
        tx.update(
            R(pk=self.day_key(utc_day(now))),
            actions=[R.day_realized_pnl.add(pnl), R.updated_at.set(now)],
            condition=R.pk.exists(),
        )

    def release(self, idempotency_key: str, condition_id: str, amount: Decimal, now: datetime) -> bool:
        """Give back an unused reservation (order not filled). False when it was already released."""
        reservation = self.reservation(idempotency_key)
        if reservation is None or reservation.settled:
            return False
        scope = scopes(condition_id, reservation.risk_group, reservation.category, reservation.wallet)

        def build(tx: TransactWrite) -> None:
            self.add_settle_reservation(tx, idempotency_key, now)
            self.add_account_change(tx, now, reserved=-amount, open_orders=-1)
            self.add_scope_change(tx, condition_id, scope, -amount, now)

        try:
            run_transaction(self.connection, build)
        except TransactWriteError as exc:
            if "ConditionalCheckFailed" in _reasons(exc):
                return False
            raise
        return True

    # ------------------------------------------------------------------------------ the breaker
    def trip_breaker_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Open today's breaker when realized P&L <= floor; True only for the call that opened it.

        The update is conditional on the breaker being closed, so exactly one caller sees True and
        sends the one alert, however many settle concurrently.
        """
        day = self.ensure_day(now)
        floor = floor_of(day.day_start_equity or ZERO)
        return update_if(
            day,
            actions=[R.breaker.set(BREAKER_OPEN), R.breaker_tripped_at.set(now), R.updated_at.set(now)],
            condition=(R.breaker != BREAKER_OPEN) & (R.day_realized_pnl <= floor),
        )

    def reset_breaker(self, now: datetime) -> None:
        """Manual reset by an operator: close today's breaker."""
        day = self.ensure_day(now)
        day.update(actions=[R.breaker.set(BREAKER_CLOSED), R.updated_at.set(now)])

    # ------------------------------------------------------------------------- the drawdown halt
    def update_high_water_mark(self, now: datetime) -> bool:
        """Raise the equity high-water mark to the current equity if it is higher (one conditional update)."""
        return update_if(
            R(pk=self.account_key()),
            actions=[R.equity_hwm.set(R.equity), R.updated_at.set(now)],
            condition=R.equity.exists() & (R.equity_hwm.does_not_exist() | (R.equity_hwm < R.equity)),
        )

    def trip_drawdown_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Set the drawdown halt when equity < floor_of(high-water mark); True only for the call that set it.

        Conditional on the halt being off, the mark unchanged and equity still below the floor, all on the
        account item at the moment of the write: one caller sends the one alert.
        """
        account = self._account()
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
        """Manual reset by an operator: lift the halt and rebase the high-water mark to the current equity
        (otherwise the next settlement would find the same drawdown and halt again)."""
        self._account().update(
            actions=[R.drawdown_halt.set(False), R.equity_hwm.set(R.equity), R.updated_at.set(now)],
            condition=R.equity.exists(),
        )

    def risk_status(self, now: datetime) -> dict[str, str | int | bool | None]:
        """The account's limit counters and halts for operators (`copytrader risk status`)."""
        account = self._account()
        return {
            "open_orders": int(account.open_orders or 0),
            "orders_this_minute": self.orders_in_minute(now),
            "equity": str(account.equity) if account.equity is not None else None,
            "equity_high_water_mark": str(account.equity_hwm) if account.equity_hwm is not None else None,
            "drawdown_halt": bool(account.drawdown_halt),
            "drawdown_halted_at": account.drawdown_halted_at.isoformat() if account.drawdown_halted_at else None,
        }

    def set_kill_switch(self, on: bool, now: datetime) -> None:
        self._account().update(actions=[R.kill_switch.set(on), R.updated_at.set(now)])
