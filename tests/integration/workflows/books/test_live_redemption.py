"""Live redemption (workflows/books/live_redeem.py) against DynamoDB on moto server and a loopback Polygon + relayer
(`copytrader.sim.chain`): the SDK-backed sender builds its calldata with the SDK's builders and waits with the
SDK's own relayer handle over HTTP; only `SecureClient.execute_transaction` is stood in for (it hands the calls to
the loopback chain). Every booked redemption is one ledger entry per transaction, after the burn and the payout
were read back over JSON-RPC; the audit holds after each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.execution.redemption_sender import SdkRedemptionSender
from copytrader.model import ExecutionStatus, OutcomeToken
from copytrader.polymarket.chain_reads import ChainReads
from copytrader.polymarket.http import JsonHttp
from copytrader.risk import redemption
from copytrader.risk.audit import violations
from copytrader.risk.changes import Holding
from copytrader.risk.redemption import (
    CONDITIONAL_TOKENS,
    CTF_COLLATERAL_ADAPTER,
    NEG_RISK_CTF_COLLATERAL_ADAPTER,
    POSITION_MANAGER,
    ROUTER,
)
from copytrader.risk.rules import screen
from copytrader.runtime import env
from copytrader.runtime.alerts import NoAlerts
from copytrader.settings import load_settings
from copytrader.sim.chain import EvmNode, SdkClientStandIn
from copytrader.store.redemptions import Intent, Redemptions, State
from copytrader.store.tables import LedgerEntryModel
from copytrader.workflows import wiring
from copytrader.workflows.books import steps
from copytrader.workflows.books.live_redeem import LiveRedeemer, LiveRedemptions
from copytrader.workflows.books.steps import audit_report
from tests.support import builders as b

pytestmark = pytest.mark.integration
D = Decimal
WALLET = b.wallet("our-proxy")
M = 10**6


@pytest.fixture
def node() -> Iterator[EvmNode]:
    chain = EvmNode().start()
    yield chain
    chain.stop()


def _hold(deps, clock, key: str, market, token: str, cost: str, shares: str) -> None:
    order = b.sized_order(key, market="m", condition_id=market.condition_id, token_id=token, max_cost=cost)
    deps.account.items.open_account(deps.settings.paper_bankroll, clock())
    decision = deps.account.reservations.reserve(screen(order, deps.settings.risk, clock()), clock())
    assert deps.ledger.begin(order, decision.reserved, clock()) is None
    deps.ledger.record(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, clock())


class World:
    def __init__(self, deps, clock, node: EvmNode, polymarket) -> None:
        self.deps, self.clock, self.node, self.polymarket = deps, clock, node, polymarket
        self.client = SdkClientStandIn(node, WALLET)
        self.alerts = NoAlerts()
        node.set_pusd(WALLET, 500 * M)

    def redeemer(self) -> LiveRedeemer:
        """A new process: a new sender (no handles kept), the same tables and chain."""
        sender = SdkRedemptionSender(self.client, poll_delay_s=0)
        chain = ChainReads(JsonHttp(self.node.url))
        intents = Redemptions(self.deps.account.items)
        return LiveRedeemer(self.deps.account.settlements, intents, chain, sender, self.alerts, self.clock)

    def run(self, market) -> tuple[str, LiveRedemptions]:
        done = LiveRedemptions()
        return self.redeemer().redeem(market, done), done

    def redeem_entries(self) -> list[LedgerEntryModel]:
        account = self.deps.account.account
        return [e for e in LedgerEntryModel.query(account) if e.kind == "REDEEM"]

    def audit_ok(self) -> bool:
        return violations(audit_report(self.deps)) == []


@pytest.fixture
def world(aws, polymarket, make_deps, clock, node) -> World:
    return World(make_deps(), clock, node, polymarket)


def _ctf_market(world: World, label: str, *, neg_risk: bool, yes_pays: str) -> tuple:
    market = b.market(label, neg_risk=neg_risk)
    yes, no = (t.token_id for t in market.tokens)
    world.polymarket.markets[market.condition_id] = market
    world.node.conditions[market.condition_id] = [int(yes), int(no)]
    world.node.payouts.update({int(yes): D(yes_pays), int(no): 1 - D(yes_pays)})
    resolved = market.model_copy(update={"closed": True, "payouts": {yes: D(yes_pays), no: 1 - D(yes_pays)}})
    return market, resolved, yes, no


def _resolve(world: World, resolved) -> None:
    world.polymarket.markets[resolved.condition_id] = resolved
    world.clock.now = b.T0 + timedelta(minutes=5)


def test_a_neg_risk_market_held_on_both_sides_is_redeemed_in_one_transaction_and_booked_once(world: World) -> None:
    # GIVEN YES 100 (cost 40) and NO 20 (cost 9) of a neg-risk market, held on chain by our proxy wallet
    market, resolved, yes, no = _ctf_market(world, "nr", neg_risk=True, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "40", "100")
    _hold(world.deps, world.clock, "k2", market, no, "9", "20")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 100 * M)
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, no, 20 * M)
    _resolve(world, resolved)
    # WHEN the settle run redeems it
    outcome, done = world.run(resolved)
    # THEN one transaction was sent, to the neg-risk collateral adapter, and it burned both and paid 100
    assert outcome == "redeemed" and done.counts["redemption_transactions"] == 1 and done.counts["redeemed"] == 2
    assert world.node.calls_seen == [(NEG_RISK_CTF_COLLATERAL_ADAPTER, "0x01b7037c")]
    assert (world.node.balance(CONDITIONAL_TOKENS, WALLET, yes), world.node.pusd(WALLET)) == (0, 600 * M)
    # AND one ledger entry for the transaction: cash +100, P&L 100 - 49 = +51
    (entry,) = world.redeem_entries()
    tx_hash = "0x" + f"{1:064x}"
    assert (entry.entry_id, entry.cash_delta, entry.realized_pnl, entry.token_id) == (
        f"REDEEM#{tx_hash}", D(100), D(51), None,
    )  # fmt: skip
    assert (done.payout, done.pnl) == (D(100), D(51))
    state = world.deps.account.reads.state(world.clock())
    assert (state.cash, state.open_cost) == (D(10000) - 49 + 100, D(0))
    assert world.audit_ok()
    # AND a second run sends nothing and books nothing
    assert world.run(resolved)[0] == "nothing_held"
    assert len(world.client.sent) == 1 and len(world.redeem_entries()) == 1


def test_a_standard_market_goes_to_the_ctf_adapter(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "std", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "30", "50")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 50 * M)
    _resolve(world, resolved)
    assert world.run(resolved)[0] == "redeemed"
    assert world.node.calls_seen == [(CTF_COLLATERAL_ADAPTER, "0x01b7037c")]
    (entry,) = world.redeem_entries()
    assert (entry.token_id, entry.shares_delta, entry.cash_delta) == (yes, D(-50), D(50))


def test_a_crash_between_confirmed_and_booked_books_once_on_the_next_run_without_sending_again(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "crash", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "30", "50")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 50 * M)
    _resolve(world, resolved)
    # GIVEN a run that sent the transaction and stopped before it was confirmed (relayer: STATE_EXECUTED)
    world.client.mined = False
    assert world.run(resolved)[0] == "redemption_pending"
    intent = Redemptions(world.deps.account.items).get(resolved.condition_id)
    assert intent is not None and (intent.state, intent.transaction_id) == (State.SENT, "relay-1")
    assert world.redeem_entries() == []
    # WHEN the chain confirms it and a new process runs (its SDK handle is gone: it follows the relayer id)
    world.node.confirm("relay-1")
    assert world.run(resolved)[0] == "redeemed"
    # THEN it was booked once, from the one transaction sent, and later runs change nothing
    assert world.run(resolved)[0] == "nothing_held"
    assert len(world.client.sent) == 1 and len(world.redeem_entries()) == 1
    assert Redemptions(world.deps.account.items).get(resolved.condition_id).state is State.BOOKED
    assert world.audit_ok()


def test_a_success_that_burned_nothing_is_not_booked_and_alarmed_and_the_next_attempt_redeems(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "noburn", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "30", "50")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 50 * M)
    _resolve(world, resolved)
    world.client.burn = False  # the relayer confirms, the chain burned nothing and paid nothing
    outcome, done = world.run(resolved)
    assert outcome == "redemption_burned_nothing" and done.counts["redemption_burned_nothing"] == 1
    assert world.redeem_entries() == [] and world.deps.positions.get(yes).shares == D(50)
    (subject, detail) = world.alerts.sent[-1]
    assert subject == "copytrader: redemption_burned_nothing" and detail["expected_payout"] == "50.000000"
    assert detail["received"] == "0.000000" and detail["left"] == {yes: 50 * M}
    # the position is kept: the books still add up, and the audit names what is left to redeem
    assert [c.name for c in violations(audit_report(world.deps))] == ["resolved_settled"]
    world.client.burn = True
    assert world.run(resolved)[0] == "redeemed"
    assert len(world.client.sent) == 2 and len(world.redeem_entries()) == 1
    assert world.audit_ok()


def test_a_market_lost_on_everything_held_is_closed_without_a_transaction(world: World) -> None:
    market, resolved, _, no = _ctf_market(world, "lost", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, no, "12", "40")
    _resolve(world, resolved)
    outcome, done = world.run(resolved)
    assert outcome == "redeemed_lost" and world.client.sent == [] and done.pnl == D(-12)
    (entry,) = world.redeem_entries()
    assert (entry.cash_delta, entry.realized_pnl, entry.shares_delta) == (D(0), D(-12), D(-40))
    assert world.audit_ok()


def test_books_and_chain_that_disagree_send_nothing_and_alarm(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "mismatch", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "30", "50")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 49 * M)
    _resolve(world, resolved)
    assert world.run(resolved)[0] == "redemption_balance_mismatch"
    assert world.client.sent == [] and world.alerts.sent[-1][1]["chain"] == {yes: 49 * M}


def test_a_send_that_failed_is_resumed_never_resent_until_stale_then_retried(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "sendfail", neg_risk=False, yes_pays="1")
    _hold(world.deps, world.clock, "k1", market, yes, "30", "50")
    world.node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 50 * M)
    _resolve(world, resolved)
    world.client.fail_send = True
    assert world.run(resolved)[0] == "redemption_send_unknown"
    world.client.fail_send = False
    assert world.run(resolved)[0] == "redemption_pending"  # within 15 minutes: it may still land
    world.clock.now += timedelta(minutes=16)
    assert world.run(resolved)[0] == "redemption_abandoned"  # tokens unmoved: it never left
    assert world.run(resolved)[0] == "redeemed"
    assert len(world.client.sent) == 1 and len(world.redeem_entries()) == 1
    assert Redemptions(world.deps.account.items).get(resolved.condition_id).attempt == 2


def test_a_v2_market_is_redeemed_through_the_router_with_the_positionmanager_balance(world: World) -> None:
    cond31 = "01" + "cd" * 16 + "0002" + "00" * 8 + "0001" + "0000"
    yes, no = str(int(cond31 + "00", 16)), str(int(cond31 + "01", 16))
    market = b.market("v2", tokens=(OutcomeToken(token_id=yes, outcome="Yes"), OutcomeToken(token_id=no, outcome="No")))
    world.polymarket.markets[market.condition_id] = market
    world.node.payouts.update({int(yes): D("0.5"), int(no): D("0.5")})
    _hold(world.deps, world.clock, "k1", market, no, "2", "10")
    world.node.set_1155(POSITION_MANAGER, WALLET, no, 10 * M)
    resolved = market.model_copy(update={"closed": True, "payouts": {yes: D("0.5"), no: D("0.5")}})
    _resolve(world, resolved)
    assert world.run(resolved)[0] == "redeemed"
    assert world.node.calls_seen == [(ROUTER, "0xd217a3cc")]
    (entry,) = world.redeem_entries()
    assert (entry.cash_delta, entry.realized_pnl) == (D(5), D(3))
    assert world.audit_ok()


def test_the_settle_step_in_live_mode_redeems_through_the_wired_sender_factory(aws, polymarket, clock, node) -> None:
    live = {"mode": "live", "live_confirmed": True, "account": "live-1", "gamma_url": f"{polymarket.url}/gamma"}
    settings = load_settings(environ={}, overrides=live)
    client = SdkClientStandIn(node, WALLET)
    environ = {env.POLYGON_HTTP_RPC_URL: node.url}

    def deps_with(factory) -> wiring.Deps:
        return wiring.Deps(settings, clock=clock, environ=environ, alerts=NoAlerts(), redemption_sender=factory)

    deps = deps_with(None)
    world = World(deps, clock, node, polymarket)
    market, resolved, yes, _ = _ctf_market(world, "step", neg_risk=True, yes_pays="1")
    _hold(deps, clock, "k1", market, yes, "30", "50")
    node.set_1155(CONDITIONAL_TOKENS, WALLET, yes, 50 * M)
    _resolve(world, resolved)
    # without a sender factory: counted as awaiting redemption, nothing sent
    assert steps.settle({}, deps).output["awaiting_redemption"] == 1 and client.sent == []
    # with the factory the lead wires, while the node answers errors: counted, nothing sent, the next run redeems
    wired = deps_with(lambda: SdkRedemptionSender(client, poll_delay_s=0))
    node.fail_rpc = True
    assert steps.settle({}, wired).output["redemption_error"] == 1 and client.sent == []
    node.fail_rpc = False
    result = steps.settle({}, wired)
    assert (result.output["redeemed"], result.output["redemption_transactions"]) == (1, 1)
    assert (result.output["payout"], result.output["pnl"]) == ("50", "20")
    assert result.counts["redemption_transactions"] == 1.0 and len(client.sent) == 1


def test_an_intent_is_begun_once_and_moved_only_from_what_was_read(world: World) -> None:
    market, resolved, yes, _ = _ctf_market(world, "race", neg_risk=False, yes_pays="1")
    plan = redemption.plan(resolved, [Holding(yes, market.condition_id, D(50), D(30))])
    now = world.clock()
    intent = Intent(market.condition_id, State.SENDING, 1, plan, {yes: 50 * M}, 500 * M, now)
    store = Redemptions(world.deps.account.items)
    assert store.begin(intent, None, now) is True
    assert store.begin(intent, None, now) is False  # a concurrent run: it does not send
    sent = store.sent(intent, "relay-9", None, now)
    with pytest.raises(LookupError):
        store.sent(intent, "relay-10", None, now)  # a stale copy cannot overwrite the recorded ids
    assert store.get(market.condition_id) == sent and sent.transaction_id == "relay-9"
