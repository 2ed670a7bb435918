"""One account's items in the risk table: their keys, and the account and day items created on first use.

<account>#ACCOUNT                 cash, reserved, open cost, the derived committed / available / equity, open
                                  orders, kill switch, equity high-water mark, drawdown halt
<account>#DAY#<YYYY-MM-DD>        start-of-day equity, realized P&L, breaker (one per UTC day)
<account>#RESV#<idempotency key>  a BUY's reservation: amount, its scopes, the stop at entry, settled (an unsettled
                                  one is in the `unsettled_reservations` index; a settled one expires after 30 days)
<account>#RATE#<YYYY-MM-DDTHH:MM> orders approved in that UTC minute, BUYs and SELLs (TTL one day)
<account>#EXIT#<idempotency key>  a SELL counted against the rate, so a retry counts it once (TTL one day)
<account>#<SCOPE>#<name>          exposure at cost per scope (`copytrader.risk.changes.Scope`): MARKET, GROUP,
                                  CATEGORY, WHALE, and WPOS (`<token>#<wallet>`: a whale's cost in a position)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from copytrader.money import ZERO
from copytrader.risk.rules import Scope, utc_day
from copytrader.store.conditional import put_if_absent, update_if
from copytrader.store.connection import table_region
from copytrader.store.tables import LedgerEntryModel, RiskStateModel
from copytrader.store.transactions import condition_failed, run_transaction

R = RiskStateModel
L = LedgerEntryModel
OPENING_DEPOSIT = "DEPOSIT#opening"
BREAKER_OPEN = "OPEN"
BREAKER_CLOSED = "CLOSED"
RESERVATION_TTL = timedelta(days=30)  # a settled reservation is kept this long (an unsettled one for ever)
RATE_TTL = timedelta(days=1)


class AccountItems:
    """Keys and item access for one account (`account`), over one DynamoDB connection."""

    def __init__(self, account: str, connection: Connection | None = None) -> None:
        self.account = account
        self.connection = connection or Connection(region=table_region())
        self._account_opened = False
        self._days: set[str] = set()  # days whose item is known to exist (a day item is never deleted)

    # ------------------------------------------------------------------------------------------ keys
    def account_key(self) -> str:
        return f"{self.account}#ACCOUNT"

    def day_key(self, day: str) -> str:
        return f"{self.account}#DAY#{day}"

    def reservation_key(self, idempotency_key: str) -> str:
        return f"{self.account}#RESV#{idempotency_key}"

    def exit_key(self, idempotency_key: str) -> str:
        return f"{self.account}#EXIT#{idempotency_key}"

    def rate_key(self, minute: str) -> str:
        return f"{self.account}#RATE#{minute}"

    def exposure_key(self, scope: Scope, name: str) -> str:
        return f"{self.account}#{scope.value}#{name}"

    # ----------------------------------------------------------------------------------------- reads
    def account_item(self) -> R:
        try:
            return R.get(self.account_key(), consistent_read=True)
        except DoesNotExist as exc:
            raise LookupError(f"account {self.account} has no risk state; create it first") from exc

    def reservation(self, idempotency_key: str) -> R | None:
        try:
            return R.get(self.reservation_key(idempotency_key), consistent_read=True)
        except DoesNotExist:
            return None

    def exposure(self, scope: Scope, name: str) -> Decimal:
        try:
            return R.get(self.exposure_key(scope, name), consistent_read=True).exposure or ZERO
        except DoesNotExist:
            return ZERO

    # ---------------------------------------------------------------------------- created on first use
    def open_account(self, bankroll: Decimal, now: datetime) -> bool:
        """Create the account with its starting cash and the ledger's opening DEPOSIT, in one transaction, once.

        True when this call created it. Later calls (another process, a redelivery) change nothing: the account's
        conditional put fails and the deposit is not written either, so ledger cash = account cash from the start.
        """
        if self._account_opened:
            return False
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
        deposit = L(
            account=self.account,
            entry_id=OPENING_DEPOSIT,
            kind="DEPOSIT",
            cash_delta=bankroll,
            at=now,
            reference="opening",
        )

        def build(tx: TransactWrite) -> None:
            tx.save(item, condition=R.pk.does_not_exist())
            tx.save(deposit, condition=L.entry_id.does_not_exist())

        try:
            run_transaction(self.connection, build)
            created = True
        except TransactWriteError as exc:
            if not condition_failed(exc):
                raise
            created = False
        self._account_opened = True
        return created

    def account_exists(self) -> bool:
        """Whether the account has been opened (a consistent read; remembered once true)."""
        if self._account_opened:
            return True
        try:
            R.get(self.account_key(), consistent_read=True, attributes_to_get=["pk"])
        except DoesNotExist:
            return False
        self._account_opened = True
        return True

    def raise_high_water_mark(self, now: datetime) -> bool:
        """Raise the equity high-water mark to the current equity if it is higher (one conditional update)."""
        return update_if(
            R(pk=self.account_key()),
            actions=[R.equity_hwm.set(R.equity), R.updated_at.set(now)],
            condition=R.equity.exists() & (R.equity_hwm.does_not_exist() | (R.equity_hwm < R.equity)),
        )

    def ensure_day(self, now: datetime) -> None:
        """Make sure today's item exists before a write that needs it (at most one read per day per process).

        Every settlement that adds realized P&L and every reservation calls it first, so the first event of a new UTC
        day, whatever it is (a BUY, a SELL, a redemption, the sweep), opens the day with its start-of-day equity.
        """
        day = utc_day(now)
        if day not in self._days:
            self.day_item(now)

    def day_item(self, now: datetime) -> R:
        """Today's risk item, created on first use with start-of-day equity = cash + open cost."""
        day = utc_day(now)
        try:
            found = R.get(self.day_key(day), consistent_read=True)
            self._days.add(day)
            return found
        except DoesNotExist:
            pass
        account = self.account_item()
        equity = (account.cash or ZERO) + (account.open_cost or ZERO)
        item = R(
            pk=self.day_key(day),
            day_start_equity=equity,
            day_realized_pnl=ZERO,
            breaker=BREAKER_CLOSED,
            updated_at=now,
        )
        created = item if put_if_absent(item) else R.get(self.day_key(day), consistent_read=True)
        self._days.add(day)
        return created
