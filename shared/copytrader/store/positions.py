"""Our positions and the cash ledger: reads, the transaction pieces that change them, and redemption.

A position holds shares and their cost basis (fees included). A SELL releases cost at the average
cost per share; a resolution pays `payout x shares` and releases the whole basis. Every change of cash
or shares writes one ledger entry whose id (`<KIND>#<reference>`) makes it idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from copytrader.model import Market
from copytrader.money import ZERO
from copytrader.risk import Scopes
from copytrader.store.conditional import put_if_absent
from copytrader.store.portfolio import PortfolioStore, run_transaction
from copytrader.store.tables import LedgerEntryModel, PositionModel

P = PositionModel
L = LedgerEntryModel


@dataclass(frozen=True)
class Redemption:
    token_id: str
    shares: Decimal
    payout: Decimal
    cost_basis: Decimal

    @property
    def pnl(self) -> Decimal:
        return self.payout - self.cost_basis


class Positions:
    """One account's positions and ledger."""

    def __init__(self, portfolio: PortfolioStore) -> None:
        self.portfolio = portfolio
        self.account = portfolio.account

    # ---------------------------------------------------------------------------------- reads
    def get(self, token_id: str) -> PositionModel | None:
        try:
            return P.get(self.account, token_id, consistent_read=True)
        except DoesNotExist:
            return None

    def held_shares(self, token_id: str) -> Decimal:
        position = self.get(token_id)
        return position.shares if position is not None else ZERO

    def all(self) -> list[PositionModel]:
        return list(P.query(self.account, consistent_read=True))

    def ledger(self) -> list[LedgerEntryModel]:
        return sorted(L.query(self.account, consistent_read=True), key=lambda e: (e.at, e.entry_id))

    # -------------------------------------------------------------------- transaction pieces
    def add_ledger_entry(
        self,
        tx: TransactWrite,
        *,
        kind: str,
        reference: str,
        now: datetime,
        token_id: str | None = None,
        condition_id: str | None = None,
        shares_delta: Decimal = ZERO,
        cash_delta: Decimal = ZERO,
        fee: Decimal = ZERO,
    ) -> None:
        tx.save(
            L(
                account=self.account,
                entry_id=f"{kind}#{reference}",
                kind=kind,
                token_id=token_id,
                condition_id=condition_id,
                shares_delta=shares_delta,
                cash_delta=cash_delta,
                fee=fee,
                at=now,
                reference=reference,
            ),
            condition=L.entry_id.does_not_exist(),
        )

    def add_buy(
        self,
        tx: TransactWrite,
        *,
        token_id: str,
        condition_id: str,
        event_id: str | None,
        shares: Decimal,
        cost: Decimal,
        fee: Decimal,
        now: datetime,
        scope: Scopes | None = None,
        stop_loss: Decimal | None = None,
    ) -> None:
        """Add bought shares and their cost; record what the position counts against (`copytrader.risk`): its
        group and category, the copied whale (a set: several whales' copies can build one position) and the
        stop-loss fraction of the first entry (kept by later buys)."""
        actions: list[Action] = [
            P.shares.add(shares),
            P.cost_basis.add(cost),
            P.fees_paid.add(fee),
            P.condition_id.set(condition_id),
            P.opened_at.set(P.opened_at | now),
            P.updated_at.set(now),
            P.closed.set(False),
        ]
        if event_id:
            actions.append(P.event_id.set(event_id))
        if scope is not None:
            actions += [P.risk_group.set(scope.group), P.category.set(scope.category), P.whales.add({scope.wallet})]
        if stop_loss is not None:
            actions.append(P.stop_loss.set(P.stop_loss | stop_loss))
        tx.update(P(self.account, token_id), actions=actions)

    def add_reduce(
        self,
        tx: TransactWrite,
        position: PositionModel,
        *,
        shares: Decimal,
        released_cost: Decimal,
        pnl: Decimal,
        fee: Decimal,
        now: datetime,
    ) -> None:
        """Remove shares and their cost; conditional on the shares we read (optimistic concurrency)."""
        closing = shares == position.shares
        tx.update(
            P(self.account, position.token_id),
            actions=[
                P.shares.add(-shares),
                P.cost_basis.add(-released_cost),
                P.realized_pnl.add(pnl),
                P.fees_paid.add(fee),
                P.updated_at.set(now),
                P.closed.set(closing),
            ],
            condition=P.shares == position.shares,
        )

    # -------------------------------------------------------------------------------- funding
    def deposit(self, amount: Decimal, reference: str, now: datetime) -> None:
        """Record starting or added capital in the ledger (idempotent per reference)."""
        put_if_absent(
            L(
                account=self.account,
                entry_id=f"DEPOSIT#{reference}",
                kind="DEPOSIT",
                cash_delta=amount,
                at=now,
                reference=reference,
            )
        )

    # ----------------------------------------------------------------------------- resolution
    def redeem(self, market: Market, now: datetime) -> list[Redemption]:
        """Settle every open position in a resolved market: cash in the payout, release the basis.

        Each position is one transaction (position, account, market exposure, day P&L, ledger entry);
        the ledger entry `REDEEM#<token>` and the position condition make a second run a no-op.
        """
        if market.payouts is None:
            raise ValueError(f"market {market.condition_id} is not resolved")
        done: list[Redemption] = []
        for token in market.tokens:
            position = self.get(token.token_id)
            if position is None or position.shares <= 0:
                continue
            payout = position.shares * market.payouts.get(token.token_id, ZERO)
            redemption = Redemption(token.token_id, position.shares, payout, position.cost_basis)
            self.portfolio.ensure_day(now)

            def build(tx: TransactWrite, position: PositionModel = position, r: Redemption = redemption) -> None:
                self.add_reduce(tx, position, shares=r.shares, released_cost=r.cost_basis, pnl=r.pnl, fee=ZERO, now=now)
                self.portfolio.add_account_change(tx, now, cash=r.payout, open_cost=-r.cost_basis)
                self.portfolio.add_position_release(tx, position, r.shares, r.cost_basis, now)
                self.portfolio.add_realized(tx, now, r.pnl)
                self.add_ledger_entry(
                    tx,
                    kind="REDEEM",
                    reference=r.token_id,
                    now=now,
                    token_id=r.token_id,
                    condition_id=market.condition_id,
                    shares_delta=-r.shares,
                    cash_delta=r.payout,
                )

            try:
                run_transaction(self.portfolio.connection, build)
            except TransactWriteError as exc:
                if "ConditionalCheckFailed" in [c.code if c else None for c in (exc.cancellation_reasons or [])]:
                    continue  # redeemed concurrently or already: the ledger entry exists
                raise
            done.append(redemption)
        return done


__all__ = ["Positions", "Redemption"]
