"""Portfolio risk state in DynamoDB: reservations and their release, the day's breaker, the account.

Every change is a conditional write, so limits hold however many copies are approved at once:
a reservation is one transaction of four items (day breaker check, reservation put, account update,
market update), each with the condition of one rule from `copytrader.risk`. DynamoDB cancels the whole
transaction when any condition fails and says which item failed, which is how a rejection gets its
reason. Transactions that collide on an item (`TransactionConflict`) are retried here with jittered
backoff, then surfaced as `TransientError` for the state machine to retry.
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
from copytrader.model import PortfolioState, RiskDecision
from copytrader.money import ZERO
from copytrader.reasons import Reason
from copytrader.risk import ReservationRequest, utc_day
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.tables import RiskStateModel, _region

R = RiskStateModel
BREAKER_OPEN = "OPEN"
BREAKER_CLOSED = "CLOSED"
RESERVATION_TTL = timedelta(days=30)
_MAX_CONFLICT_RETRIES = 8


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
    """One account's risk items: `<account>#ACCOUNT`, `#DAY#<date>`, `#MARKET#<condition id>`, `#RESV#<key>`."""

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
            updated_at=now,
        )
        put_if_absent(item)
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
        try:
            return R.get(self.market_key(condition_id), consistent_read=True).exposure or ZERO
        except DoesNotExist:
            return ZERO

    # ------------------------------------------------------------------------------ reservations
    def reserve(self, request: ReservationRequest, now: datetime) -> RiskDecision:
        """Reserve `request.amount` under every limit at once, or say which limit refused it.

        Idempotent: a second call for the same idempotency key finds its reservation and approves
        with the amount first reserved, reserving nothing more.
        """
        self.ensure_day(now)
        amount = request.amount

        def build(tx: TransactWrite) -> None:
            # order matters: pynamodb sends condition checks, then puts, then updates
            tx.condition_check(
                R, self.day_key(request.day), condition=R.breaker.does_not_exist() | (R.breaker != BREAKER_OPEN)
            )
            tx.save(
                R(
                    pk=self.reservation_key(request.key),
                    amount=amount,
                    condition_id=request.condition_id,
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
                    R.updated_at.set(now),
                ],
                condition=(R.committed <= request.committed_threshold)
                & (R.available >= amount)
                & (R.kill_switch.does_not_exist() | (R.kill_switch == False)),  # noqa: E712
            )
            tx.update(
                R(pk=self.market_key(request.condition_id)),
                actions=[R.exposure.add(amount), R.condition_id.set(request.condition_id), R.updated_at.set(now)],
                condition=R.exposure.does_not_exist() | (R.exposure <= request.market_threshold),
            )

        try:
            run_transaction(self.connection, build)
        except TransactWriteError as exc:
            return self._explain(exc, request)
        return RiskDecision(approved=True, reserved=amount, day=request.day, detail="reserved")

    def _explain(self, exc: TransactWriteError, request: ReservationRequest) -> RiskDecision:
        codes = _reasons(exc)
        if len(codes) < 4 or "ConditionalCheckFailed" not in codes:
            raise exc
        day = request.day
        if codes[1] == "ConditionalCheckFailed":
            existing = R.get(self.reservation_key(request.key), consistent_read=True)
            return RiskDecision(
                approved=True, reserved=existing.amount or ZERO, day=day, detail="already reserved (retry)"
            )
        if codes[0] == "ConditionalCheckFailed":
            return RiskDecision(approved=False, reason=Reason.BREAKER_OPEN, detail="daily-loss breaker open", day=day)
        if codes[2] == "ConditionalCheckFailed":
            account = self._account()
            if account.kill_switch:
                return RiskDecision(approved=False, reason=Reason.KILL_SWITCH, detail="account kill switch", day=day)
            if (account.available or ZERO) < request.amount:
                return RiskDecision(
                    approved=False,
                    reason=Reason.INSUFFICIENT_CASH,
                    detail=f"available {account.available} < {request.amount:.2f}",
                    day=day,
                )
            return RiskDecision(
                approved=False,
                reason=Reason.TOTAL_CAP,
                detail=f"committed {account.committed} + {request.amount:.2f} exceeds the total cap",
                day=day,
            )
        return RiskDecision(
            approved=False,
            reason=Reason.MARKET_CAP,
            detail=f"market exposure + {request.amount:.2f} exceeds the market cap",
            day=day,
        )

    def reservation(self, idempotency_key: str) -> R | None:
        try:
            return R.get(self.reservation_key(idempotency_key), consistent_read=True)
        except DoesNotExist:
            return None

    # ------------------------------------------------- transaction pieces used by fills and exits
    def add_settle_reservation(self, tx: TransactWrite, idempotency_key: str, now: datetime) -> None:
        """Mark a reservation settled, exactly once (the condition stops a double release)."""
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
    ) -> None:
        """Apply deltas to the account and keep its derived fields (committed, available) consistent."""
        actions: list[Action] = [R.updated_at.set(now)]
        for attribute, delta in (
            (R.cash, cash),
            (R.reserved, reserved),
            (R.open_cost, open_cost),
            (R.committed, open_cost + reserved),
            (R.available, cash - reserved),
        ):
            if delta:
                actions.append(attribute.add(delta))
        tx.update(R(pk=self.account_key()), actions=actions, condition=R.pk.exists())

    def add_market_change(self, tx: TransactWrite, condition_id: str, delta: Decimal, now: datetime) -> None:
        tx.update(
            R(pk=self.market_key(condition_id)),
            actions=[R.exposure.add(delta), R.condition_id.set(condition_id), R.updated_at.set(now)],
        )

    def add_realized(self, tx: TransactWrite, now: datetime, pnl: Decimal) -> None:
        tx.update(
            R(pk=self.day_key(utc_day(now))),
            actions=[R.day_realized_pnl.add(pnl), R.updated_at.set(now)],
            condition=R.pk.exists(),
        )

    def release(self, idempotency_key: str, condition_id: str, amount: Decimal, now: datetime) -> bool:
        """Give back an unused reservation (order not filled). False when it was already released."""

        def build(tx: TransactWrite) -> None:
            self.add_settle_reservation(tx, idempotency_key, now)
            self.add_account_change(tx, now, reserved=-amount)
            self.add_market_change(tx, condition_id, -amount, now)

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

    def set_kill_switch(self, on: bool, now: datetime) -> None:
        self._account().update(actions=[R.kill_switch.set(on), R.updated_at.set(now)])
