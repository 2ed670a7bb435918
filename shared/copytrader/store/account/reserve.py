"""Reserving a BUY's worst-case cost under every limit at once: one DynamoDB transaction of eight items.

    day (breaker closed) | reservation (put if absent) | account (total cap, cash, open orders, kill switch,
    drawdown halt) | market, group, category, whale (exposure caps) | the minute's order counter (rate)

Each item carries the condition of one rule of `copytrader.risk.rules` (whose `screen` computes every threshold),
so limits hold however many copies are approved at once. DynamoDB cancels the whole transaction when any condition
fails and says which item failed, which is how a rejection gets its reason (in a fixed order of precedence, the
order `copytrader.risk.book.AccountBook.reserve` checks them in memory). Giving a reservation back (`release`)
is a settlement (`copytrader.store.account.settle`). A SELL reserves nothing but counts against the order rate
(`count_exit`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from copytrader.model import RiskDecision
from copytrader.money import ZERO
from copytrader.reasons import Reason
from copytrader.risk.rules import ExitRequest, ReservationRequest, Scope, utc_minute
from copytrader.store.account.items import BREAKER_OPEN, RATE_TTL, AccountItems
from copytrader.store.tables import RiskStateModel
from copytrader.store.transactions import CONDITION_FAILED, cancellation_codes, run_transaction

R = RiskStateModel
# the items of a reservation in the order pynamodb sends them (condition checks, puts, updates), which is the
# order of the cancellation reasons DynamoDB returns
_RESERVE_ITEMS = ("day", "reservation", "account", "market", "group", "category", "whale", "rate")


class Reservations:
    def __init__(self, items: AccountItems) -> None:
        self.items = items

    def reserve(self, request: ReservationRequest, now: datetime) -> RiskDecision:
        """Reserve `request.amount` under every limit at once, or say which limit refused it.

        Idempotent: a second call for the same idempotency key finds its reservation and approves
        with the amount first reserved, reserving nothing more (and counting no second order). An approval carries
        the stop at entry the reservation records, so execute books it without reading the reservation again.
        """
        items = self.items
        items.ensure_day(now)
        amount = request.amount
        minute = request.minute or utc_minute(now)

        def exposure_update(tx: TransactWrite, scope: Scope, name: str, threshold: Decimal) -> None:
            named = R.condition_id.set(name) if scope is Scope.MARKET else R.scope.set(name)
            tx.update(
                R(pk=items.exposure_key(scope, name)),
                actions=[R.exposure.add(amount), named, R.updated_at.set(now)],
                condition=R.exposure.does_not_exist() | (R.exposure <= threshold),
            )

        def build(tx: TransactWrite) -> None:
            # the order of `_RESERVE_ITEMS`: pynamodb sends condition checks, then puts, then updates
            tx.condition_check(
                R, items.day_key(request.day), condition=R.breaker.does_not_exist() | (R.breaker != BREAKER_OPEN)
            )
            tx.save(
                R(
                    pk=items.reservation_key(request.key),
                    **asdict(request.recorded()),
                    settled=False,
                    unsettled=items.account,
                    reserved_at=now,
                    updated_at=now,
                ),
                condition=R.pk.does_not_exist(),
            )
            tx.update(
                R(pk=items.account_key()),
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
            for cap in request.caps():  # market, group, category, whale
                exposure_update(tx, cap.scope, cap.name, cap.threshold)
            tx.update(
                R(pk=items.rate_key(minute)),
                actions=[R.order_count.add(1), R.updated_at.set(now), R.expires_at.set(now + RATE_TTL)],
                condition=R.order_count.does_not_exist() | (R.order_count <= request.rate_threshold),
            )

        try:
            run_transaction(items.connection, build)
        except TransactWriteError as exc:
            return self._explain(exc, request)
        recorded = request.recorded()
        return RiskDecision(
            approved=True, reserved=amount, day=request.day, detail="reserved", stop_loss=recorded.stop_loss
        )

    def count_exit(self, request: ExitRequest, now: datetime) -> RiskDecision:
        """Approve a SELL if the kill switch is off and the minute's order rate allows one more; count it once.

        One transaction: the account's kill switch (condition check), the exit's marker `<account>#EXIT#<key>`
        (put if absent: a retried risk_check approves without counting again) and the minute's order counter.
        """
        items = self.items

        def build(tx: TransactWrite) -> None:
            tx.condition_check(
                R,
                items.account_key(),
                condition=R.kill_switch.does_not_exist() | (R.kill_switch == False),  # noqa: E712
            )
            tx.save(
                R(pk=items.exit_key(request.key), updated_at=now, expires_at=now + RATE_TTL),
                condition=R.pk.does_not_exist(),
            )
            tx.update(
                R(pk=items.rate_key(request.minute)),
                actions=[R.order_count.add(1), R.updated_at.set(now), R.expires_at.set(now + RATE_TTL)],
                condition=R.order_count.does_not_exist() | (R.order_count <= request.rate_threshold),
            )

        def decided(reason: Reason | None, detail: str) -> RiskDecision:
            return RiskDecision(approved=reason is None, reason=reason, detail=detail, day=request.day)

        try:
            run_transaction(items.connection, build)
        except TransactWriteError as exc:
            codes = cancellation_codes(exc)  # account check, exit marker, rate counter
            if len(codes) != 3 or CONDITION_FAILED not in codes:
                raise
            if codes[1] == CONDITION_FAILED:
                return decided(None, "exit already counted (retry)")
            if codes[0] == CONDITION_FAILED:
                return decided(Reason.KILL_SWITCH, "account kill switch")
            return decided(Reason.ORDER_RATE_LIMIT, f"{request.rate_threshold + 1} orders already in {request.minute}")
        return decided(None, "exit: no reservation needed")

    def _explain(self, exc: TransactWriteError, request: ReservationRequest) -> RiskDecision:
        """The rejection a cancelled reservation stands for (first failed item in a fixed order of precedence)."""
        codes = cancellation_codes(exc)
        if len(codes) != len(_RESERVE_ITEMS) or CONDITION_FAILED not in codes:
            raise exc
        failed = {name for name, code in zip(_RESERVE_ITEMS, codes, strict=True) if code == CONDITION_FAILED}
        day = request.day

        def rejected(reason: Reason, detail: str) -> RiskDecision:
            return RiskDecision(approved=False, reason=reason, detail=detail, day=day)

        if "reservation" in failed:
            existing = R.get(self.items.reservation_key(request.key), consistent_read=True)
            return RiskDecision(
                approved=True,
                reserved=existing.amount or ZERO,
                day=day,
                detail="already reserved (retry)",
                stop_loss=existing.stop_loss,
            )
        if "day" in failed:
            return rejected(Reason.BREAKER_OPEN, "daily-loss breaker open")
        if "account" in failed:
            return self._explain_account(request, rejected)
        if "rate" in failed:
            return rejected(Reason.ORDER_RATE_LIMIT, f"{request.rate_threshold + 1} orders already in {request.minute}")
        for cap in request.caps():
            if cap.label in failed:
                return rejected(cap.reason, f"{cap.label} exposure + {request.amount:.2f} exceeds the {cap.label} cap")
        raise exc

    def _explain_account(
        self, request: ReservationRequest, rejected: Callable[[Reason, str], RiskDecision]
    ) -> RiskDecision:
        account = self.items.account_item()
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
