"""Live redemption's pure parts (copytrader.risk.redemption): which contract each market is redeemed on and with which
arguments, the calldata the SDK's builders make of it, the verification arithmetic, and the one settlement (one
ledger entry) per transaction, on the in-memory book with the audit after it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

import pytest
from eth_abi import decode
from polymarket._internal.protocol import decode_v2_outcome_position_id, is_v2_position_id
from polymarket.environments import PRODUCTION

from copytrader.execution.redemption_sender import sdk_call
from copytrader.model import ExecutionStatus, OutcomeToken
from copytrader.risk import redemption as r
from copytrader.risk.audit import audit, books_of, violations
from copytrader.risk.book import AccountBook
from copytrader.risk.changes import Holding
from copytrader.risk.rules import Scope, screen
from copytrader.settings import RiskLimits
from tests.support import builders as b

MARKET = b.market("m1")
YES, NO = (t.token_id for t in MARKET.tokens)
RESOLVED = MARKET.model_copy(update={"closed": True, "payouts": {YES: D(1), NO: D(0)}})
# a V2 condition: module 1 (binary) | base hash | arity 2 | 64 reserved zero bits | resolution chain | condition index
COND31 = "0x01" + "ab" * 16 + "0002" + "00" * 8 + "0001" + "0000"
V2_YES, V2_NO = str(int(COND31[2:] + "00", 16)), str(int(COND31[2:] + "01", 16))


def _holding(token: str, shares: str, basis: str, market=MARKET) -> Holding:
    return Holding(token, market.condition_id, D(shares), D(basis))


def test_the_contract_addresses_are_the_sdks() -> None:
    config = PRODUCTION._config  # the SDK keeps its addresses on the environment (private in 0.14.0)
    assert config.collateral_token == r.PUSD and config.conditional_tokens == r.CONDITIONAL_TOKENS
    assert config.collateral_adapter == r.CTF_COLLATERAL_ADAPTER
    assert config.neg_risk_collateral_adapter == r.NEG_RISK_CTF_COLLATERAL_ADAPTER
    assert (config.protocol_v2_router, config.position_manager) == (r.ROUTER, r.POSITION_MANAGER)


@pytest.mark.parametrize(
    ("neg_risk", "adapter"), [(False, r.CTF_COLLATERAL_ADAPTER), (True, r.NEG_RISK_CTF_COLLATERAL_ADAPTER)]
)
def test_a_ctf_market_is_redeemed_on_its_collateral_adapter_never_on_conditional_tokens(neg_risk, adapter) -> None:
    market = RESOLVED.model_copy(update={"neg_risk": neg_risk})
    plan = r.plan(market, [_holding(YES, "12.5", "5"), _holding(NO, "3", "1.2")])
    # one call burns both outcomes; balances are read on ConditionalTokens
    assert plan.ledger is r.Ledger.CTF and plan.balances_on == r.CONDITIONAL_TOKENS
    assert plan.calls == (r.RedeemCall(adapter, market.condition_id, collateral=r.PUSD),)
    assert {t.token_id: (t.raw, t.payout_raw) for t in plan.tokens} == {
        YES: (12_500_000, 12_500_000),
        NO: (3_000_000, 0),
    }
    assert plan.expected_payout_raw == 12_500_000 and not plan.lost
    # the SDK's builder: redeemPositions(pUSD, 0x0, conditionId, [1, 2]) (selector 0x01b7037c) to the adapter
    call = sdk_call(plan.calls[0])
    assert call.to == adapter and call.data[:10] == "0x01b7037c"
    collateral, parent, condition, index_sets = decode(
        ["address", "bytes32", "bytes32", "uint256[]"], bytes.fromhex(call.data[10:])
    )
    assert collateral.lower() == r.PUSD.lower() and parent == b"\0" * 32
    assert "0x" + condition.hex() == market.condition_id and list(index_sets) == [1, 2]


def test_a_v2_market_is_redeemed_through_the_router_once_per_outcome_held_with_its_balance() -> None:
    assert r.is_v2_position_id(V2_YES) and not r.is_v2_position_id(YES)
    assert (is_v2_position_id(V2_YES), is_v2_position_id(YES)) == (True, False)  # the SDK agrees
    assert r.v2_condition_id(V2_NO) == (COND31, 1)
    decoded = decode_v2_outcome_position_id(V2_NO)
    assert (decoded.condition_id.lower(), decoded.outcome_index) == (COND31, 1)
    tokens = (OutcomeToken(token_id=V2_YES, outcome="Yes"), OutcomeToken(token_id=V2_NO, outcome="No"))
    market = b.market("v2", tokens=tokens)
    market = market.model_copy(update={"payouts": {V2_YES: D("0.5"), V2_NO: D("0.5")}})
    plan = r.plan(market, [Holding(V2_NO, market.condition_id, D("7.000001"), D(3))])
    assert plan.ledger is r.Ledger.V2 and plan.balances_on == r.POSITION_MANAGER
    assert plan.calls == (r.RedeemCall(r.ROUTER, COND31, outcome_index=1, amount=7_000_001),)
    assert plan.expected_payout_raw == 3_500_000  # 7.000001 x 0.5 floored to the micro-unit
    call = sdk_call(plan.calls[0])
    assert call.to == r.ROUTER and call.data[:10] == "0xd217a3cc"
    condition, index, amount = decode(["bytes31", "uint256", "uint256"], bytes.fromhex(call.data[10:]))
    assert ("0x" + condition.hex(), index, amount) == (COND31, 1, 7_000_001)


def test_a_market_lost_on_everything_held_sends_nothing() -> None:
    plan = r.plan(RESOLVED, [_holding(NO, "40", "20")])
    assert plan.lost and plan.expected_payout_raw == 0


def test_shares_off_the_micro_grid_or_an_unresolved_market_are_refused() -> None:
    with pytest.raises(ValueError, match="grid"):
        r.plan(RESOLVED, [_holding(YES, "1.0000001", "1")])
    with pytest.raises(ValueError, match="not resolved"):
        r.plan(MARKET, [_holding(YES, "1", "1")])


PLAN = r.plan(RESOLVED, [_holding(YES, "100", "40"), _holding(NO, "20", "9")])


def _seen(after_yes: int, after_no: int, received: int) -> r.Observed:
    before = {YES: 100_000_000, NO: 20_000_000}
    return r.Observed(before, {YES: after_yes, NO: after_no}, received, pusd_before=5_000_000, pusd_after=90_000_000)


@pytest.mark.parametrize(
    ("after_yes", "after_no", "received", "verdict"),
    [
        (0, 0, 100_000_000, r.Verdict.VERIFIED),  # both burned, 100 x 1 + 20 x 0 arrived
        (0, 0, 100_000_002, r.Verdict.VERIFIED),  # within 1 micro-unit per token
        (0, 0, 100_000_003, r.Verdict.PAYOUT_MISMATCH),
        (0, 0, 0, r.Verdict.PAYOUT_MISMATCH),  # burned, but nothing arrived
        (100_000_000, 20_000_000, 0, r.Verdict.BURNED_NOTHING),  # "success" that burned nothing
        (100_000_000, 20_000_000, 100_000_000, r.Verdict.BURNED_NOTHING),
        (0, 20_000_000, 100_000_000, r.Verdict.PARTLY_BURNED),
    ],
)
def test_verification_needs_every_token_burned_and_the_payout_received(after_yes, after_no, received, verdict) -> None:
    found, figures = r.verify(PLAN, _seen(after_yes, after_no, received))
    assert found is verdict
    assert figures["expected_payout"] == "100.000000" and figures["balance_rise"] == "85.000000"


def test_one_transaction_books_one_ledger_entry_for_both_outcomes_and_the_audit_holds() -> None:
    # GIVEN an account holding both outcomes of m1: YES 100 for 40, NO 20 for 9, bought by two whales
    book = AccountBook()
    book.open(D(10000), b.T0)
    limits = RiskLimits()
    for key, token, cost, shares, whale in (("k1", YES, "40", "100", "w1"), ("k2", NO, "9", "20", "w2")):
        order = b.sized_order(key, market="m1", token_id=token, max_cost=cost, wallet=b.wallet(whale))
        decision = book.reserve(screen(order, limits, b.T0), b.T0)
        book.settle(order, b.execution(order, ExecutionStatus.FILLED, shares, cost), decision.reserved, b.T0)
    later = b.T0 + timedelta(days=1)
    book.day(later)
    holdings = [(book.positions[t].holding(), book._parts(book.positions[t].holding())) for t in (YES, NO)]
    # WHEN one verified transaction redeemed both (100 pUSD arrived) and is booked
    redeemed, settled = r.booking(RESOLVED, "0xfeed", holdings, 100_000_000)
    book.apply(settled, later)
    # THEN one ledger entry, keyed by the transaction, moves both tokens' shares and the cash
    entries = [line for _, line in book.ledger.values() if line.kind == "REDEEM"]
    assert [(e.entry_id, e.token_id, e.cash_delta, e.realized_pnl) for e in entries] == [
        ("REDEEM#0xfeed", None, D(100), D(51))
    ]
    assert sorted(entries[0].share_moves()) == sorted([(YES, D(-100)), (NO, D(-20))])
    assert [x.token_id for x in redeemed] == [YES, NO]
    # AND both positions are closed, every scope released once, and every invariant holds
    assert book.positions[YES].shares == book.positions[NO].shares == 0
    assert book.exposure.get((Scope.MARKET, MARKET.condition_id), D(0)) == 0
    assert book.account.cash == D(10000) - 49 + 100
    assert violations(audit(books_of(book), now=later, orphan_after=timedelta(minutes=15), resolved=set())) == []
