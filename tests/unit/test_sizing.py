import math
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copytrader.model import CopySignal, Decision, Level, OrderBook, Side, WhaleProfile, WhaleStatus
from copytrader.money import SIZE_STEP, ZERO
from copytrader.reasons import Reason
from copytrader.settings import load_settings
from copytrader.sizing import beta_posterior, kelly_fraction, plan, size_copy, whale_edge, win_probability
from tests.support import builders as b
from tests.support.handbook import vector

D = Decimal


def test_kelly_matches_the_published_and_oracle_vectors():
    for case in vector("kelly_binary_contract_yes")["expected"]["results"]:
        f = kelly_fraction(D(str(case["q"])), D(str(case["p"])))
        assert math.isclose(float(f), case["f_star"], abs_tol=1e-12)
    thorp = vector("kelly_thorp_even_money")  # even money is a contract costing 0.5
    assert kelly_fraction(D("0.51"), D("0.5")) == D(str(thorp["expected"]["f_star"]))


def test_kelly_is_zero_without_edge_and_at_the_edges():
    assert kelly_fraction(D("0.5"), D("0.5")) == 0
    assert kelly_fraction(D("0.4"), D("0.5")) == 0
    assert kelly_fraction(D("0.9"), D("1")) == 0


def test_beta_posterior_matches_the_uniform_prior_vector():
    # prior strength 2 centred on 0.5 is Beta(1, 1); 7 wins in 10 gives Beta(8, 4) with mean 2/3
    whale = b.whale(resolved_trades=10, wins=7, mean_entry_price=D("0.5"))
    alpha, beta = beta_posterior(whale, D(2))
    expected = vector("beta_posterior_uniform_prior")["expected"]
    assert (alpha, beta) == (D(8), D(4))
    assert math.isclose(float(alpha / (alpha + beta)), expected["mean"], abs_tol=1e-12)


def test_edge_shrinks_to_zero_for_unproven_wallets_and_grows_with_evidence():
    prior = D(30)
    assert whale_edge(b.whale(resolved_trades=0, wins=0), prior) == 0
    small = whale_edge(b.whale(resolved_trades=10, wins=8, mean_entry_price=D("0.5")), prior)
    large = whale_edge(b.whale(resolved_trades=1000, wins=800, mean_entry_price=D("0.5")), prior)
    assert 0 < small < large < D("0.3")  # raw edge 0.3, shrunk
    assert small == D(3) / D(40)
    # a wallet that buys at 0.90 and wins 90% has no edge
    assert whale_edge(b.whale(resolved_trades=1000, wins=900, mean_entry_price=D("0.9")), prior) == 0
    assert win_probability(b.whale(resolved_trades=1000, wins=1000), D("0.9"), prior, D("0.97")) == D("0.97")


def _signal(
    book: OrderBook, whale: WhaleProfile, price: str = "0.50", side: str = "BUY", held: str = "0"
) -> CopySignal:
    market = b.market(taker_fee_rate=D("0.04"))
    book = book.model_copy(update={"token_id": market.tokens[0].token_id})
    trade = b.trade(market, price=price, side=side)
    return CopySignal(
        action=Decision.COPY,
        trade=trade,
        market=market,
        book=book,
        whale=whale,
        held_shares=D(held),
        decided_at=trade.detected_at + timedelta(seconds=1),
    )


def test_sizing_caps_at_max_trade_notional_and_reserves_the_worst_case():
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    order = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=s, account="paper")
    assert order.action == "PLACE"
    cost = plan(book, Side.BUY, order.shares, order.limit_price, D("0.04")).cost
    assert cost <= s.sizing.max_trade_notional
    assert cost + D("0.52") > s.sizing.max_trade_notional  # the next 0.01 share would not fit
    assert order.max_cost >= cost
    assert order.limit_price == D("0.53")


def test_small_bankroll_gives_below_min_size_instead_of_rounding_up():
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    order = size_copy(_signal(book, b.whale()), bankroll=D(30), settings=s, account="paper")
    assert order.action == "SKIP" and order.reason is Reason.BELOW_MIN_SIZE


def test_no_edge_after_fees_is_a_skip():
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    unproven = b.whale(resolved_trades=5, wins=3)
    order = size_copy(_signal(book, unproven), bankroll=D(10000), settings=s, account="paper")
    assert order.action == "SKIP" and order.reason is Reason.NO_EDGE


def test_fixed_and_proportional_modes():
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    fixed = load_settings(environ={}, overrides={"sizing": {"mode": "fixed", "fixed_notional": "20"}})
    order = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=fixed, account="paper")
    assert order.action == "PLACE" and plan(book, Side.BUY, order.shares, order.limit_price, D("0.04")).cost <= 20
    prop = load_settings(environ={}, overrides={"sizing": {"mode": "proportional", "proportional_ratio": "0.5"}})
    order = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=prop, account="paper")
    # whale notional 100 x 0.50 = 50 -> 25 pUSD; a share costs 0.50 + 0.04 x 0.25 = 0.51 -> floor(25/0.51)
    assert plan(book, Side.BUY, order.shares, order.limit_price, D("0.04")).cost <= 25
    assert order.shares == D("49.01")


def test_sell_mirrors_the_exit_of_what_we_hold():
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.60", "300")], asks=[("0.62", "100")])
    order = size_copy(
        _signal(book, b.whale(), price="0.60", side="SELL", held="12.345"),
        bankroll=D(10000),
        settings=s,
        account="paper",
    )
    assert order.action == "PLACE" and order.side is Side.SELL
    assert order.shares == D("12.34") and order.max_cost == 0
    assert order.limit_price == D("0.57")


prices = st.integers(min_value=5, max_value=95).map(lambda c: D(c) / 100)


@st.composite
def books(draw):
    start = draw(st.integers(min_value=40, max_value=60))
    levels = draw(st.lists(st.integers(min_value=1, max_value=2000), min_size=1, max_size=6))
    asks = tuple(Level(price=D(start + i) / 100, size=D(size) / 4) for i, size in enumerate(levels))
    return OrderBook(token_id="1", bids=(Level(price=D(start - 1) / 100, size=D(100)),), asks=asks, timestamp=b.T0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    book=books(),
    wins=st.integers(min_value=0, max_value=400),
    bankroll=st.integers(min_value=1, max_value=200_000),
    fraction=st.sampled_from(["0.1", "0.25", "0.5", "1"]),
    cap=st.integers(min_value=1, max_value=5000),
)
def test_size_never_exceeds_kelly_or_caps_and_is_maximal_on_the_grid(book, wins, bankroll, fraction, cap):
    s = load_settings(
        environ={},
        overrides={
            "sizing": {"kelly_fraction": fraction, "max_trade_notional": cap},
            "filters": {"max_drift_abs": "0.05", "max_drift_rel": "1"},
        },
    )
    whale = b.whale(resolved_trades=400, wins=wins, mean_entry_price=D("0.5"))
    whale_price = book.best_ask
    order = size_copy(_signal(book, whale, price=str(whale_price)), bankroll=D(bankroll), settings=s, account="a")
    if order.action == "SKIP":
        assert order.reason in (Reason.NO_EDGE, Reason.BELOW_MIN_SIZE)
        return
    q = order.win_probability
    chosen = plan(book, Side.BUY, order.shares, order.limit_price, D("0.04"))
    budget = min(D(fraction) * kelly_fraction(q, chosen.cost_per_share) * D(bankroll), D(cap))
    assert order.shares > 0 and order.shares % SIZE_STEP == 0 and order.shares >= D(5)
    assert chosen.shares == order.shares
    assert chosen.cost <= budget  # never above the (fractional) Kelly size or the cap
    assert order.max_cost >= chosen.cost
    bigger = plan(book, Side.BUY, order.shares + SIZE_STEP, order.limit_price, D("0.04"))
    if bigger.shares > order.shares:  # the book could fill one more step: then it would not be affordable
        more = min(D(fraction) * kelly_fraction(q, bigger.cost_per_share) * D(bankroll), D(cap))
        assert bigger.cost > more
    assert chosen.fee >= ZERO


@pytest.mark.parametrize("status", [WhaleStatus.ACTIVE, WhaleStatus.PROBATION])
def test_copyable_statuses_size_alike(status):
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    order = size_copy(_signal(book, b.whale(status=status)), bankroll=D(10000), settings=s, account="paper")
    assert order.action == "PLACE"
