"""Settlement in DynamoDB (moto server over real HTTP): fills, sells and redemptions convert a reservation into
exposure and release it from every cap item (market, group, category, each whale)."""

from __future__ import annotations

from decimal import Decimal

from copytrader.model import ExecutionStatus, Side, SizedOrder
from copytrader.risk.rules import Scope, screen
from copytrader.settings import RiskLimits
from copytrader.store.account import AccountStore
from copytrader.store.orders import OrderLedger
from tests.support import builders as b

D = Decimal


def _settled(
    store: AccountStore, ledger: OrderLedger, order: SizedOrder, limits: RiskLimits, status, shares: str, cash: str
):
    """Reserve for `order`, then record the venue's answer: `shares` filled for `cash` pUSD."""
    decision = store.reservations.reserve(screen(order, limits, b.T0), b.T0)
    assert decision.approved
    assert ledger.begin(order, decision.reserved, b.T0) is None
    ledger.record(order, b.execution(order, status, shares, cash), decision.reserved, b.T0)
    return decision


def test_fills_sells_and_redemptions_convert_and_release_every_cap_item(aws):
    # GIVEN two whales copied into the same token of a market in group "event:e", category "politics"
    store = AccountStore("paper")
    store.items.open_account(D(10000), b.T0)
    ledger = OrderLedger(store)
    limits = RiskLimits(stop_loss=D("0.2"))
    w1, w2 = b.wallet("w1"), b.wallet("w2")
    market = b.market("m1")
    condition, (yes, no) = market.condition_id, market.tokens

    def buy(key: str, wallet: str, amount: str) -> SizedOrder:
        return b.sized_order(key, max_cost=amount, risk_group="event:e", category="politics", wallet=wallet)

    def exposures() -> tuple[Decimal, ...]:
        return (
            store.reads.exposure(Scope.MARKET, condition),
            store.reads.exposure(Scope.GROUP, "event:e"),
            store.reads.exposure(Scope.CATEGORY, "politics"),
            store.reads.exposure(Scope.WHALE, w1),
            store.reads.exposure(Scope.WHALE, w2),
        )

    # WHEN w1's copy reserves 100 and fills 60 pUSD (120 shares), THEN every item holds the fill's cost
    _settled(store, ledger, buy("b1", w1, "100"), limits, ExecutionStatus.PARTIAL, "120", "60")
    assert exposures() == (D(60), D(60), D(60), D(60), D(0))
    # WHEN w2's copy reserves 50 and fills 40 (80 shares), THEN w2 holds its own 40
    _settled(store, ledger, buy("b2", w2, "50"), limits, ExecutionStatus.FILLED, "80", "40")
    assert exposures() == (D(100), D(100), D(100), D(60), D(40))
    # WHEN a copy finds nothing to fill, THEN its reservation comes back from every item
    _settled(store, ledger, buy("b3", w1, "30"), limits, ExecutionStatus.UNFILLED, "0", "0")
    assert exposures() == (D(100), D(100), D(100), D(60), D(40))
    assert store.reads.open_orders() == 0 and store.reads.state(b.T0).reserved == 0

    position = store.positions.get(yes.token_id)
    assert position is not None and position.whales == {w1, w2}
    assert (position.risk_group, position.category, position.stop_loss) == ("event:e", "politics", D("0.2"))

    # WHEN half the position (100 of 200 shares, cost 50) is sold by an exit no whale is named for (a stop-loss),
    # THEN each whale releases half its part (a SELL naming a whale releases its part first: test_book.py)
    sell = b.sized_order(
        "s1", side=Side.SELL, shares="100", limit_price="0.4", risk_group="event:e", category="politics", wallet=""
    )
    assert ledger.begin(sell, D(0), b.T0) is None
    ledger.record(sell, b.execution(sell, ExecutionStatus.FILLED, "100", "45"), D(0), b.T0)
    assert exposures() == (D(50), D(50), D(50), D(30), D(20))

    # WHEN the market resolves, THEN the redemption releases the rest everywhere
    resolved = b.market("m1", closed=True, payouts={yes.token_id: D(1), no.token_id: D(0)})
    assert [r.token_id for r in store.settlements.redeem(resolved, b.T0)] == [yes.token_id]
    assert exposures() == (0, 0, 0, 0, 0)
    state = store.reads.state(b.T0)
    assert state.open_cost == 0 and state.cash == D(10000) - 100 + 45 + 100
    assert store.reads.risk_status(b.T0)["equity"] == str(state.cash)
