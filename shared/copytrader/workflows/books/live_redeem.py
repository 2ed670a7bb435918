"""Live redemption of one resolved market: plan, check the chain, send once, verify, book once (the settle step's
live path; the pure parts are `copytrader.risk.redemption`, the intent item `copytrader.store.redemptions`).

    held on chain = our shares?  -- no --> redemption_balance_mismatch (alarmed; the venue sync reports it)
    all resolved to 0?           -- yes -> closed at payout 0 in the books, no transaction (it would cost gas for 0)
    begin (SENDING, balances before) -> submit -> sent (ids) -> outcome -> receipt -> verify -> book (BOOKED)

A run that finds an attempt in flight resumes it and never sends again: a pending transaction stays pending; one
whose ids were never recorded (a crash, or an error, while sending) is ABANDONED only once `stale_after` has passed
and its tokens have not moved (else `redemption_outcome_unknown`, alarmed: tokens gone, no transaction known). A
verified redemption is booked in one transaction with the intent's BOOKED state, so a crash between "confirmed"
and "booked" books it on the next run, once. A success that burned nothing, a partial burn or a wrong payout is
not booked: the attempt becomes UNVERIFIED (the reason is counted and alarmed), the position is kept, and the next
run may try again (tokens still held) up to `MAX_ATTEMPTS`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from copytrader.execution.redemption_sender import RedemptionSender, Submitted
from copytrader.model import Market
from copytrader.money import ZERO
from copytrader.polymarket.chain_reads import ChainReads
from copytrader.risk import redemption
from copytrader.risk.redemption import PUSD, Observed, Verdict
from copytrader.runtime.alerts import Alerts
from copytrader.store.account.settle import Settlements
from copytrader.store.redemptions import IN_FLIGHT, Intent, Redemptions, State
from copytrader.store.transactions import condition_failed, run_transaction

MAX_ATTEMPTS = 3


@dataclass
class LiveRedemptions:
    """What one settle run did on chain: outcome counts, and the payout and P&L it booked."""

    counts: Counter[str] = field(default_factory=Counter)
    payout: Decimal = ZERO
    pnl: Decimal = ZERO


class LiveRedeemer:
    def __init__(
        self,
        settlements: Settlements,
        intents: Redemptions,
        chain: ChainReads,
        sender: RedemptionSender,
        alerts: Alerts,
        clock: Callable[[], datetime],
        stale_after: timedelta = timedelta(minutes=15),
    ) -> None:
        self.settlements, self.intents, self.chain, self.sender = settlements, intents, chain, sender
        self.alerts, self.clock, self.stale_after = alerts, clock, stale_after

    def _alarm(self, done: LiveRedemptions, reason: str, market: Market, **figures: object) -> str:
        done.counts[reason] += 1
        self.alerts.send(f"copytrader: {reason}", {"condition_id": market.condition_id, **figures})
        return reason

    def redeem(self, market: Market, done: LiveRedemptions) -> str:
        """Advance the redemption of every position held in resolved `market`; the outcome's name (also counted)."""
        intent = self.intents.get(market.condition_id)
        if intent is not None and intent.state in IN_FLIGHT:
            return self._resume(market, intent, done)
        holdings = [h for t in market.tokens if (h := self.settlements.holding(t.token_id)[0]) and h.shares > 0]
        if not holdings:
            return "nothing_held"
        plan = redemption.plan(market, holdings)
        now = self.clock()
        if plan.lost:
            closed = self.settlements.redeem(market, now)
            done.counts["redeemed_lost"] += len(closed)
            done.pnl += sum((r.pnl for r in closed), ZERO)
            return "redeemed_lost"
        wallet = self.sender.wallet
        before = {t.token_id: self.chain.erc1155_balance(plan.balances_on, wallet, t.token_id) for t in plan.tokens}
        if any(before[t.token_id] != t.raw for t in plan.tokens):
            booked = {t.token_id: t.raw for t in plan.tokens}
            return self._alarm(done, "redemption_balance_mismatch", market, chain=before, books=booked)
        attempt = 1 if intent is None else intent.attempt + 1
        if intent is not None and intent.state is not State.BOOKED and intent.attempt >= MAX_ATTEMPTS:
            return self._alarm(done, "redemption_attempts_exhausted", market, attempts=intent.attempt)
        fresh = Intent(
            market.condition_id, State.SENDING, attempt, plan, before,
            self.chain.erc20_balance(PUSD, wallet), now,
        )  # fmt: skip
        if not self.intents.begin(fresh, intent, now):
            done.counts["redemption_in_progress"] += 1
            return "redemption_in_progress"
        try:
            submitted = self.sender.submit(plan.calls, metadata=f"copytrader redeem {market.condition_id}")
        except Exception as exc:  # left or not: the intent stays SENDING and a later run decides, never re-sends
            return self._alarm(done, "redemption_send_unknown", market, error=type(exc).__name__)
        sent = self.intents.sent(fresh, submitted.transaction_id, submitted.transaction_hash, self.clock())
        done.counts["redemption_sent"] += 1
        return self._resume(market, sent, done)

    def _resume(self, market: Market, intent: Intent, done: LiveRedemptions) -> str:
        now, plan, wallet = self.clock(), intent.plan, self.sender.wallet
        if intent.transaction_id is None and intent.transaction_hash is None:
            if now - intent.started_at < self.stale_after:
                done.counts["redemption_pending"] += 1
                return "redemption_pending"
            still = {t.token_id: self.chain.erc1155_balance(plan.balances_on, wallet, t.token_id) for t in plan.tokens}
            if still == intent.before:
                self.intents.finish(intent, State.ABANDONED, "never left: tokens unmoved", now)
                done.counts["redemption_abandoned"] += 1
                return "redemption_abandoned"
            return self._alarm(done, "redemption_outcome_unknown", market, before=intent.before, now=still)
        outcome = self.sender.outcome(Submitted(intent.transaction_id, intent.transaction_hash))
        if outcome.failed:
            self.intents.finish(intent, State.FAILED, outcome.detail, now)
            return self._alarm(done, "redemption_tx_failed", market, detail=outcome.detail)
        tx_hash = outcome.transaction_hash
        if tx_hash is None:
            done.counts["redemption_pending"] += 1
            return "redemption_pending"
        if tx_hash != intent.transaction_hash:
            intent = self.intents.sent(intent, intent.transaction_id, tx_hash, now)
        receipt = self.chain.receipt(tx_hash)
        if receipt is None:
            done.counts["redemption_pending"] += 1
            return "redemption_pending"
        if not receipt.succeeded:
            self.intents.finish(intent, State.FAILED, "reverted", now)
            return self._alarm(done, "redemption_tx_failed", market, transaction=tx_hash, detail="reverted")
        seen = Observed(
            before=intent.before,
            after={t.token_id: self.chain.erc1155_balance(plan.balances_on, wallet, t.token_id) for t in plan.tokens},
            received_raw=receipt.net_transfer_to(PUSD, wallet),
            pusd_before=intent.pusd_before,
            pusd_after=self.chain.erc20_balance(PUSD, wallet),
        )
        verdict, figures = redemption.verify(plan, seen)
        if verdict is not Verdict.VERIFIED:
            self.intents.finish(intent, State.UNVERIFIED, verdict.value, now)
            return self._alarm(done, verdict.value, market, transaction=tx_hash, **figures)
        return self._book(market, intent, tx_hash, seen.received_raw, done)

    def _book(self, market: Market, intent: Intent, tx_hash: str, received_raw: int, done: LiveRedemptions) -> str:
        now = self.clock()
        held = [self.settlements.holding(t.token_id) for t in intent.plan.tokens]
        holdings = [(h, parts) for h, parts in held if h is not None and h.shares > 0]
        redeemed, settled = redemption.booking(market, tx_hash, holdings, received_raw)
        self.settlements.ready(settled, now)

        def build(tx: TransactWrite) -> None:
            self.settlements.add(tx, settled, now)
            self.intents.add_booked(tx, intent, now)

        try:
            run_transaction(self.settlements.items.connection, build)
        except TransactWriteError as exc:
            if condition_failed(exc):  # booked by a concurrent run (the ledger entry or the intent moved on)
                done.counts["redemption_already_booked"] += 1
                return "redemption_already_booked"
            raise
        done.counts["redeemed"] += len(redeemed)
        done.counts["redemption_transactions"] += 1
        done.payout += settled.account.cash
        done.pnl += settled.realized or ZERO
        return "redeemed"
