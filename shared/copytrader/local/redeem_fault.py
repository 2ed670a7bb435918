"""`copytrader demo --faults`: a redemption that reports success but burns nothing (`faults.REDEEM_NO_BURN`).

The paper day holds nothing at a resolution: the time-to-end exit sells every position hours before its market's end
date. Markets do resolve early, though (an event decided before the date the market was given). With faults, at a
planned time a market in which we hold the winning token resolves early (`SimWorld.resolve_early`, the market
`early_target` picks) and the paper redemption (`settlement.settle_resolved`) is replaced by the live one
(`workflows.books.live_redeem.LiveRedeemer`, the books workflow's live settle path, unchanged) against a simulated
Polygon on loopback (`copytrader.sim.chain`: JSON-RPC balances and receipts, the relayer's status route). The
transaction leaves through the production sender (`execution.redemption_sender.SdkRedemptionSender`, the SDK's call
builders and its relayer handle); only `SecureClient.execute_transaction` is stood in for.

1. The chain holds what the paper venue filled: the wallet's ConditionalTokens balance of each held token of the
   market is set to the books' shares (the paper venue has no chain of its own), the payouts to the market's.
2. First attempt: the relayer confirms the transaction and its receipt succeeds, but it burned nothing and paid
   nothing. `redemption.verify` finds every token still held: the attempt is UNVERIFIED
   (`redemption_burned_nothing`, alerted), nothing is booked and the position stays open.
3. One exits period later the books run again (the fault is gone): the tokens are still on chain, so a second
   transaction is sent; it burns them and pays; it is verified and booked once, as one ledger entry
   `REDEEM#<its hash>`. The first transaction's hash is in no ledger entry.

`RedemptionFault.evidence` is what the summary shows and the e2e test checks.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from copytrader.execution.redemption_sender import SdkRedemptionSender
from copytrader.model import Market
from copytrader.polymarket.chain_reads import ChainReads
from copytrader.polymarket.http import JsonHttp
from copytrader.risk import redemption
from copytrader.risk.redemption import CONDITIONAL_TOKENS, Ledger, from_raw, to_raw
from copytrader.sim.chain import EvmNode, SdkClientStandIn
from copytrader.sim.world import SimWorld
from copytrader.store.redemptions import Redemptions
from copytrader.store.tables import LedgerEntryModel
from copytrader.workflows import wiring
from copytrader.workflows.books.live_redeem import LiveRedeemer, LiveRedemptions


def early_target(world: SimWorld, deps: wiring.Deps, lead: timedelta) -> str | None:
    """The market a planned early resolution closes now: the first (by condition id) in which we hold the token that
    wins, not neg-risk (its event's other members go on), accepting orders with its end more than `lead` away (an
    early resolution, not the time-to-end exit's case), with no SELL of it unsettled; None when there is none."""
    now = deps.clock()
    held = {p.token_id: p for p in deps.positions.all() if p.shares > 0}
    selling = deps.account.settlements.unsettled_sells(set(held)) if held else set()
    for condition_id in sorted({p.condition_id for p in held.values()}):
        market = world.market_at(condition_id, now)
        winner = world.truth(condition_id).winning_token
        if winner not in held or winner in selling or market.neg_risk or not market.accepting_orders:
            continue
        if market.end_time is not None and market.end_time > now + lead:
            return condition_id
    return None


def demo_wallet(seed: int) -> str:
    """The simulated wallet's address (derived from the seed; no key exists for it)."""
    return "0x" + hashlib.sha256(f"copytrader-demo-wallet-{seed}".encode()).hexdigest()[:40]


class RedemptionFault:
    """Runs the planned redemption fault (see the module docstring); leaving it shuts the simulated chain down."""

    def __init__(self, deps: wiring.Deps, seed: int) -> None:
        self.deps = deps
        self.node = EvmNode().start()
        self.client = SdkClientStandIn(self.node, demo_wallet(seed))
        self.condition_id: str | None = None
        self.evidence: dict[str, Any] = {}

    def __enter__(self) -> RedemptionFault:
        return self

    def __exit__(self, *exc: object) -> None:
        self.node.stop()

    def _redeemer(self) -> LiveRedeemer:
        """What the books workflow's settle step builds in live mode (`books.steps.live_redeemer`)."""
        sender = SdkRedemptionSender(self.client, poll_delay_s=0)
        chain = ChainReads(JsonHttp(self.node.url))
        intents = Redemptions(self.deps.account.items)
        return LiveRedeemer(self.deps.account.settlements, intents, chain, sender, self.deps.alerts, self.deps.clock)

    def takes(self, market: Market) -> bool:
        """True for the first resolved market held with a token that pays (its redemption sends a transaction)."""
        if self.condition_id is not None or not market.resolved:
            return False
        settlements = self.deps.account.settlements
        holdings = [h for t in market.tokens if (h := settlements.holding(t.token_id)[0]) and h.shares > 0]
        if not holdings or settlements.unsettled_sells({t.token_id for t in market.tokens}):
            return False
        plan = redemption.plan(market, holdings)
        if plan.lost or plan.ledger is not Ledger.CTF:
            return False
        self.condition_id = market.condition_id
        wallet = self.client.wallet
        self.node.conditions[market.condition_id] = [int(t.token_id) for t in market.tokens]
        self.node.payouts.update({int(t): p for t, p in (market.payouts or {}).items()})
        for holding in holdings:
            self.node.set_1155(CONDITIONAL_TOKENS, wallet, holding.token_id, to_raw(holding.shares))
        self.evidence = {
            "market": market.condition_id,
            "shares": {h.token_id: str(h.shares) for h in holdings},
            "expected_payout": str(from_raw(plan.expected_payout_raw)),
        }
        return True

    def attempt(self, market: Market, *, burn: bool) -> str:
        """One settle run's live redemption of the market; the chain burns (and pays) only when `burn`."""
        self.client.burn = burn
        done = LiveRedemptions()
        outcome = self._redeemer().redeem(market, done)
        run = "first" if "first" not in self.evidence else "retry"
        self.evidence[run] = {
            "outcome": outcome,
            "transaction": list(self.node.receipts)[-1] if self.node.receipts else None,
            "booked_payout": str(done.payout),
            "tokens_on_chain_after": {
                t.token_id: str(from_raw(self.node.balance(CONDITIONAL_TOKENS, self.client.wallet, t.token_id)))
                for t in market.tokens
                if t.token_id in self.evidence["shares"]
            },
        }
        return outcome

    def close(self, account: str) -> dict[str, Any]:
        """The evidence, with the ledger's REDEEM entries of the market's transactions (one expected: the retry's)."""
        hashes = {run["transaction"] for key in ("first", "retry") if (run := self.evidence.get(key))}
        entries = [e for e in LedgerEntryModel.query(account) if e.entry_id.removeprefix("REDEEM#") in hashes]
        self.evidence["ledger_entries"] = [{"entry": e.entry_id, "cash": str(e.cash_delta)} for e in entries]
        self.evidence["transactions_sent"] = len(self.client.sent)
        return self.evidence
