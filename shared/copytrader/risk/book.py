"""The account book in memory: the same state, rules and arithmetic as the DynamoDB store, without the store.

Amounts in rejection details print as DynamoDB returns them (`money.canonical`: no trailing zeros).

State mirrors the risk, positions and ledger tables item for item: the account (cash, reservations, open cost,
open orders, kill switch, equity high-water mark, drawdown halt), one record per UTC day (start-of-day equity,
realized P&L, breaker), reservations by idempotency key, exposure at cost per scope (`changes.Scope`), orders
approved per UTC minute, positions by token and ledger entries by id.

- `reserve` checks a `ReservationRequest` (`rules.screen`) exactly as the store's conditional transaction does,
  and when several rules refuse, names the one the store names (reservation retry, breaker, account: kill switch,
  drawdown halt, cash, total cap, open orders; then the order rate; then the market, group, category, whale caps);
- `settle`, `release`, `redeem` apply the `changes` the store writes;
- the breaker and the drawdown halt trip on the same floors (`rules.breaker_floor`, `rules.drawdown_floor`).

A single process owns it, so no condition can race; what DynamoDB conditions guard against concurrent writers is
checked here before applying. The store's integration tests run the same operations through both books and
compare them (tests/integration/store/test_book_parity.py). The backtest replays copies through this book.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from copytrader.model import ExecutionResult, Market, PortfolioState, RiskDecision, Side, SizedOrder
from copytrader.money import ZERO, canonical
from copytrader.reasons import Reason
from copytrader.risk import changes
from copytrader.risk.affordability import Exposures
from copytrader.risk.book_items import Account, BookPosition, Day, Reservation
from copytrader.risk.changes import Changes, Holding, LedgerLine, Redemption
from copytrader.risk.marking import trips
from copytrader.risk.rules import ExitRequest, ReservationRequest, Scope, scopes, utc_day, utc_minute
from copytrader.settings import RiskLimits


class AccountBook:
    """One account's books in memory (see the module docstring). `open` it with the starting bankroll first."""

    def __init__(self) -> None:
        self.account: Account | None = None
        self.days: dict[str, Day] = {}
        self.reservations: dict[str, Reservation] = {}
        self.exposure: dict[tuple[Scope, str], Decimal] = {}
        self.rate: dict[str, int] = {}
        self.exits: set[str] = set()
        self.positions: dict[str, BookPosition] = {}
        self.ledger: dict[str, tuple[datetime, LedgerLine]] = {}

    # ------------------------------------------------------------------------------------------ set-up
    def open(self, bankroll: Decimal, now: datetime | None = None) -> None:
        """Create the account with its starting cash and the ledger's opening DEPOSIT (once; later calls change
        nothing)."""
        if self.account is None:
            self.account = Account(cash=bankroll, equity_hwm=bankroll)
            deposit = LedgerLine(kind="DEPOSIT", reference="opening", cash_delta=bankroll)
            self.ledger[deposit.entry_id] = (now or datetime.min, deposit)

    def _account(self) -> Account:
        if self.account is None:
            raise LookupError("the account has no risk state; open it first")
        return self.account

    def day(self, now: datetime) -> Day:
        """Today's record, created on first use with start-of-day equity = cash + open cost."""
        key = utc_day(now)
        if key not in self.days:
            self.days[key] = Day(start_equity=self._account().equity)
        return self.days[key]

    # ------------------------------------------------------------------------------------------- reads
    def state(self, now: datetime) -> PortfolioState:
        """The account and today's record (a day not yet started reads as fresh), as the store reads them."""
        account = self._account()
        day = self.days.get(utc_day(now)) or Day(start_equity=account.equity)
        return PortfolioState(
            cash=account.cash,
            reserved=account.reserved,
            open_cost=account.open_cost,
            day=utc_day(now),
            day_start_equity=day.start_equity,
            day_realized_pnl=day.realized,
            breaker_open=day.breaker_open,
            kill_switch=account.kill_switch,
        )

    def exposures(self, condition_id: str, risk_group: str, category: str, wallet: str) -> Exposures:
        scope = scopes(condition_id, risk_group, category, wallet)

        def of(kind: Scope, name: str) -> Decimal:
            return self.exposure.get((kind, name), ZERO)

        account = self.account
        return Exposures(
            market=of(Scope.MARKET, condition_id),
            group=of(Scope.GROUP, scope.group),
            category=of(Scope.CATEGORY, scope.category),
            whale=of(Scope.WHALE, scope.wallet),
            committed=account.committed if account is not None else ZERO,
            available=account.available if account is not None else ZERO,
        )

    # ------------------------------------------------------------------------------------ reservations
    def reserve(self, request: ReservationRequest, now: datetime) -> RiskDecision:
        """Reserve `request.amount` under every limit at once, or say which limit refused it (idempotent per key)."""
        account = self._account()
        day = self.day(now)

        def rejected(reason: Reason, detail: str) -> RiskDecision:
            return RiskDecision(approved=False, reason=reason, detail=detail, day=request.day)

        existing = self.reservations.get(request.key)
        if existing is not None:
            return RiskDecision(
                approved=True,
                reserved=existing.record.amount,
                day=request.day,
                detail="already reserved (retry)",
                stop_loss=existing.record.stop_loss,
            )
        if day.breaker_open:
            return rejected(Reason.BREAKER_OPEN, "daily-loss breaker open")
        amount = request.amount
        if account.kill_switch:
            return rejected(Reason.KILL_SWITCH, "account kill switch")
        if account.drawdown_halt:
            equity, mark = canonical(account.equity), canonical(account.equity_hwm)
            return rejected(Reason.DRAWDOWN_HALT, f"drawdown halt: equity {equity} vs mark {mark}")
        if account.available < amount:
            return rejected(Reason.INSUFFICIENT_CASH, f"available {canonical(account.available)} < {amount:.2f}")
        if account.committed > request.committed_threshold:
            committed = canonical(account.committed)
            return rejected(Reason.TOTAL_CAP, f"committed {committed} + {amount:.2f} exceeds the total cap")
        if account.open_orders > request.open_orders_threshold:
            return rejected(
                Reason.OPEN_ORDERS_LIMIT, f"{account.open_orders} open orders (max {request.open_orders_threshold + 1})"
            )
        minute = request.minute or utc_minute(now)
        if self.rate.get(minute, 0) > request.rate_threshold:
            return rejected(Reason.ORDER_RATE_LIMIT, f"{request.rate_threshold + 1} orders already in {request.minute}")
        for cap in request.caps():
            if self.exposure.get((cap.scope, cap.name), ZERO) > cap.threshold:
                return rejected(cap.reason, f"{cap.label} exposure + {amount:.2f} exceeds the {cap.label} cap")
        recorded = request.recorded()
        self.reservations[request.key] = Reservation(recorded, reserved_at=now)
        account.reserved += amount
        account.open_orders += 1
        for cap in request.caps():
            key = (cap.scope, cap.name)
            self.exposure[key] = self.exposure.get(key, ZERO) + amount
        self.rate[minute] = self.rate.get(minute, 0) + 1
        return RiskDecision(
            approved=True, reserved=amount, day=request.day, detail="reserved", stop_loss=recorded.stop_loss
        )

    def count_exit(self, request: ExitRequest, now: datetime) -> RiskDecision:
        """Approve a SELL under the kill switch and the minute's order rate, counting it once per key."""

        def decided(reason: Reason | None, detail: str) -> RiskDecision:
            return RiskDecision(approved=reason is None, reason=reason, detail=detail, day=request.day)

        if request.key in self.exits:
            return decided(None, "exit already counted (retry)")
        if self._account().kill_switch:
            return decided(Reason.KILL_SWITCH, "account kill switch")
        if self.rate.get(request.minute, 0) > request.rate_threshold:
            return decided(Reason.ORDER_RATE_LIMIT, f"{request.rate_threshold + 1} orders already in {request.minute}")
        self.exits.add(request.key)
        self.rate[request.minute] = self.rate.get(request.minute, 0) + 1
        return decided(None, "exit: no reservation needed")

    def release(self, idempotency_key: str, condition_id: str, amount: Decimal, now: datetime) -> bool:
        """Give back an unused reservation (order not filled). False when it was already released."""
        reservation = self.reservations.get(idempotency_key)
        if reservation is None or reservation.settled:
            return False
        self.apply(changes.release(idempotency_key, condition_id, amount, reservation.record), now)
        return True

    # -------------------------------------------------------------------------------------- settlement
    def settle(self, order: SizedOrder, result: ExecutionResult, reserved: Decimal, now: datetime) -> None:
        """Settle a definite outcome of `order` (the orders ledger's `record`, without the order's own status)."""
        reservation = self.reservations.get(order.idempotency_key) if reserved > 0 else None
        position = self.positions.get(order.token_id)
        holding = position.holding() if position is not None and order.side is Side.SELL else None
        self.apply(
            changes.fill(
                order,
                result,
                reserved,
                holding=holding,
                parts=self._parts(holding),
                stop_at_entry=reservation.record.stop_loss if reservation is not None else None,
            ),
            now,
        )

    def redeem(self, market: Market, now: datetime) -> list[Redemption]:
        """Settle every open position in a resolved market: cash in the payout, release the basis."""
        if market.payouts is None:
            raise ValueError(f"market {market.condition_id} is not resolved")
        done = []
        for token in market.tokens:
            position = self.positions.get(token.token_id)
            if position is None or position.shares <= 0:
                continue
            holding = position.holding()
            self.day(now)
            redeemed, settled = changes.redemption(market, holding, self._parts(holding))
            self.apply(settled, now)
            done.append(redeemed)
        return done

    def _parts(self, holding: Holding | None) -> changes.PartCosts:
        if holding is None:
            return {}
        return {
            (kind, name): self.exposure.get(
                (Scope.POSITION_PART, changes.part_name(holding.token_id, kind, name)), ZERO
            )
            for kind, name in holding.part_scopes()
        }

    def apply(self, settled: Changes, now: datetime) -> None:
        """Apply one settlement's changes, all or nothing (what the store's transaction conditions check first)."""
        account = self._account()
        key = settled.settles_reservation
        if key is not None:
            reservation = self.reservations.get(key)
            if reservation is None or reservation.settled:
                raise LookupError(f"reservation {key} is missing or already settled")
        day_key = utc_day(now)
        if settled.realized is not None and day_key not in self.days:
            raise LookupError(f"no risk day {day_key}: the realized P&L has no day to go to")
        change, position = settled.position, None
        if change is not None:
            position = self.positions.get(change.token_id)
            moved = position is None or position.shares != change.expected_shares
            if change.expected_shares is not None and moved:
                raise LookupError(f"position {change.token_id} changed since the settlement was computed")
        for more in settled.more_positions:
            held = self.positions.get(more.token_id)
            if held is None or held.shares != more.expected_shares:
                raise LookupError(f"position {more.token_id} changed since the settlement was computed")
        if settled.ledger is not None and settled.ledger.entry_id in self.ledger:
            raise LookupError(f"ledger entry {settled.ledger.entry_id} exists")

        if key is not None:
            self.reservations[key].settled = True
        delta = settled.account
        account.cash += delta.cash
        account.reserved += delta.reserved
        account.open_cost += delta.open_cost
        account.open_orders += delta.open_orders
        for scope, amount in settled.exposure:
            self.exposure[scope] = self.exposure.get(scope, ZERO) + amount
        if settled.realized is not None:
            self.days[day_key].realized += settled.realized
        if change is not None:
            self._change_position(change, position, now)
        for more in settled.more_positions:
            self._change_position(more, self.positions[more.token_id], now)
        if settled.ledger is not None:
            self.ledger[settled.ledger.entry_id] = (now, settled.ledger)

    def _change_position(self, change: changes.PositionChange, position: BookPosition | None, now: datetime) -> None:
        if position is None:
            position = self.positions[change.token_id] = BookPosition(change.token_id, change.condition_id)
        position.shares += change.shares
        position.cost_basis += change.cost
        position.fees_paid += change.fee
        position.realized_pnl += change.realized_pnl
        if change.expected_shares is None:  # an addition
            position.condition_id = change.condition_id
            position.opened_at = position.opened_at or now
            position.closed = False
            if change.event_id:
                position.event_id = change.event_id
            if change.scope is not None:
                position.risk_group, position.category = change.scope.group, change.scope.category
                position.whales.add(change.scope.wallet)
                position.groups.add(change.scope.group)
                position.categories.add(change.scope.category)
            if change.stop_loss is not None and position.stop_loss is None:
                position.stop_loss = change.stop_loss
        else:
            position.closed = change.closes
            if change.closes:  # the lot ends (see the store's `_position`)
                position.opened_at, position.stop_loss = None, None
                position.whales, position.groups, position.categories = set(), set(), set()

    # ------------------------------------------------------------------------------- breakers and halts
    def trip_breaker_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Open today's breaker when realized P&L <= floor_of(start-of-day equity); True only when this call opened
        it."""
        day = self.day(now)
        if day.breaker_open or not day.realized <= floor_of(day.start_equity):
            return False
        day.breaker_open = True
        return True

    def reset_breaker(self, now: datetime) -> None:
        self.day(now).breaker_open = False

    def update_high_water_mark(self, now: datetime) -> bool:
        account = self._account()
        if account.equity_hwm >= account.equity:
            return False
        account.equity_hwm = account.equity
        return True

    def trip_drawdown_if_needed(self, now: datetime, floor_of: Callable[[Decimal], Decimal]) -> bool:
        """Set the drawdown halt when equity < floor_of(high-water mark); True only when this call set it."""
        account = self._account()
        if account.drawdown_halt or not account.equity < floor_of(account.equity_hwm):
            return False
        account.drawdown_halt = True
        return True

    def reset_drawdown(self, now: datetime) -> None:
        """Lift the halt and rebase the high-water mark to the current equity."""
        account = self._account()
        account.drawdown_halt, account.equity_hwm = False, account.equity
        account.equity_marked_hwm = account.equity if account.equity_marked is None else account.equity_marked

    def record_marked(self, equity: Decimal, limits: RiskLimits, now: datetime) -> tuple[bool, bool]:
        """Record marked equity and trip the halts from it as the store does (`store.account.marked`); returns
        (drawdown halt set, breaker opened) by this call."""
        account, day = self._account(), self.day(now)
        day.start_equity_marked = equity if day.start_equity_marked is None else day.start_equity_marked
        account.equity_marked, account.equity_marked_hwm = equity, max(account.equity_marked_hwm or equity, equity)
        tripped = trips(equity, account.equity_marked_hwm, day.start_equity_marked, limits)
        halted, opened = tripped.drawdown and not account.drawdown_halt, tripped.breaker and not day.breaker_open
        account.drawdown_halt, day.breaker_open = account.drawdown_halt or halted, day.breaker_open or opened
        return halted, opened

    def set_kill_switch(self, on: bool, now: datetime) -> None:
        self._account().kill_switch = on
