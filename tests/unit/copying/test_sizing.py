import math
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copytrader.copying.sizing import (
    beta_posterior,
    category_edge,
    kelly_fraction,
    plan,
    size_copy,
    whale_edge,
    win_probability,
)
from copytrader.model import CategoryRecord, CopySignal, Level, OrderBook, Side, WhaleProfile, WhaleStatus
from copytrader.money import SIZE_STEP, ZERO
from copytrader.reasons import Reason
from copytrader.risk.affordability import shares_within_room, worst_case_cost
from copytrader.settings import load_settings
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
    return b.copy_signal(market, b.trade(market, price=price, side=side), book, whale, held_shares=held)


def test_the_worst_case_at_the_limit_price_never_exceeds_the_per_copy_cap():
    # The cap used to bound the planned cost at the best ask (194.23 shares: about 100 pUSD at 0.50-0.51), but the
    # order goes out at the limit 0.53 and reserves 194.23 x (0.53 + 0.01 fee at 0.5) = 104.88 > 100.
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "100"), ("0.51", "400")])
    order = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=s, account="paper")
    assert order.action == "PLACE" and order.limit_price == D("0.53")
    # worst case per share: 0.53 + 0.04 x 0.5 x 0.5 = 0.54 -> floor(100 / 0.54) = 185.18 shares, 99.9972 pUSD
    assert order.shares == D("185.18") and order.max_cost == D("99.9972")
    assert worst_case_cost(order.shares + SIZE_STEP, D("0.53"), D("0.04"), D("0.50")) > s.sizing.max_trade_notional
    assert plan(book, Side.BUY, order.shares, order.limit_price, D("0.04")).cost <= order.max_cost


def test_the_per_copy_cap_bounds_the_worst_case_in_fixed_and_proportional_modes():
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    for sizing in ({"mode": "fixed", "fixed_notional": "100"}, {"mode": "proportional", "proportional_ratio": "2"}):
        s = load_settings(environ={}, overrides={"sizing": sizing})
        order = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=s, account="paper")
        # a stake of 100 at 0.51 a share would buy 196.07 shares, 105.88 pUSD at the limit: capped at 185.18
        assert order.action == "PLACE" and order.shares == D("185.18") and order.max_cost == D("99.9972")


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
def test_size_never_exceeds_kelly_or_the_per_copy_cap_at_the_limit_and_is_maximal(book, wins, bankroll, fraction, cap):
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
    budget = D(fraction) * kelly_fraction(q, chosen.cost_per_share) * D(bankroll)
    assert order.shares > 0 and order.shares % SIZE_STEP == 0 and order.shares >= D(5)
    assert chosen.shares == order.shares
    assert chosen.cost <= budget  # never above the (fractional) Kelly size
    assert chosen.cost <= order.max_cost <= D(cap)  # the worst case at the limit fits the per-copy cap
    assert order.max_cost == worst_case_cost(order.shares, order.limit_price, D("0.04"), book.best_ask)
    bigger = plan(book, Side.BUY, order.shares + SIZE_STEP, order.limit_price, D("0.04"))
    if bigger.shares > order.shares:  # the book could fill one more step: then Kelly or the cap would refuse it
        more = D(fraction) * kelly_fraction(q, bigger.cost_per_share) * D(bankroll)
        worst = worst_case_cost(bigger.shares, order.limit_price, D("0.04"), book.best_ask)
        assert bigger.cost > more or worst > D(cap)
    assert chosen.fee >= ZERO


@pytest.mark.parametrize("status", [WhaleStatus.ACTIVE, WhaleStatus.PROBATION])
def test_copyable_statuses_size_alike(status):
    s = load_settings(environ={})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    order = size_copy(_signal(book, b.whale(status=status)), bankroll=D(10000), settings=s, account="paper")
    assert order.action == "PLACE"


# ------------------------------------------------- hierarchical posterior, status multiplier, room (exact values)


def _sizing(**overrides):
    return load_settings(environ={}, overrides={"sizing": overrides}).sizing


def test_whale_edge_shrinks_toward_the_population_edge():
    whale = b.whale(resolved_trades=200, wins=130, mean_entry_price=D("0.5"))
    # (s·μ + k − n·p̄)/(s + n) = (30 x 0.02 + 130 − 100)/230
    assert whale_edge(whale, D(30), D("0.02")) == D("30.6") / D(230)
    assert whale_edge(b.whale(resolved_trades=0, wins=0), D(30), D("0.02")) == D("0.02")  # unproven: the population
    assert whale_edge(whale, D(30)) == D(30) / D(230)  # μ = 0: the no-skill prior
    alpha, beta = beta_posterior(whale, D(30), D("0.02"))
    assert (alpha, beta) == (D("145.6"), D("84.4"))  # 30 x 0.52 + 130, 30 x 0.48 + 70
    assert alpha / (alpha + beta) - whale.mean_entry_price == whale_edge(whale, D(30), D("0.02"))


def test_category_edge_shrinks_toward_the_whales_other_trades():
    sizing = _sizing()  # s = 30, μ = 0, s_c = 20
    record = CategoryRecord(resolved_trades=50, wins=40, mean_entry_price=D("0.5"))
    specialist = b.whale(resolved_trades=200, wins=130, categories={"politics": record})
    # other trades: n = 150, k = 90, paid 75 -> centre 15/180 = 1/12; δ_c = (20/12 + 40 − 25)/70 = 5/21
    assert abs(category_edge(specialist, "politics", sizing) - D(5) / D(21)) < D("1e-25")
    assert category_edge(specialist, "sports", sizing) == D(30) / D(230)  # no record: the whale's edge
    weak = b.whale(
        resolved_trades=200,
        wins=130,
        categories={"politics": CategoryRecord(resolved_trades=50, wins=20, mean_entry_price=D("0.5"))},
    )
    # centre (110 − 75)/180 = 7/36; δ_c = (20 x 7/36 + 20 − 25)/70 = −1/63
    assert abs(category_edge(weak, "politics", sizing) - D(-1) / D(63)) < D("1e-25")
    only = b.whale(
        resolved_trades=200,
        wins=130,
        categories={"politics": CategoryRecord(resolved_trades=200, wins=130, mean_entry_price=D("0.5"))},
    )
    assert category_edge(only, "politics", sizing) == D(30) / D(220)  # δ_w with s_c in place of s
    broken = b.whale(
        resolved_trades=10,
        wins=6,
        categories={"politics": CategoryRecord(resolved_trades=50, wins=40, mean_entry_price=D("0.5"))},
    )
    overall = whale_edge(broken, D(30))
    assert category_edge(broken, "politics", sizing) == (20 * overall + 15) / 70  # centre falls back to δ_w


def test_a_weak_category_gives_no_edge_and_a_specialist_a_larger_order():
    s = load_settings(environ={}, overrides={"sizing": {"max_trade_notional": "5000"}})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "100000")])
    weak = b.whale(categories={"politics": CategoryRecord(resolved_trades=50, wins=20, mean_entry_price=D("0.5"))})
    assert size_copy(_signal(book, weak), bankroll=D(10000), settings=s, account="a").reason is Reason.NO_EDGE
    strong = b.whale(categories={"politics": CategoryRecord(resolved_trades=50, wins=40, mean_entry_price=D("0.5"))})
    plain = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=s, account="a")
    special = size_copy(_signal(book, strong), bankroll=D(10000), settings=s, account="a")
    assert special.win_probability == D("0.5") + D(5) / D(21) and special.shares > plain.shares


def test_probation_whales_stake_the_multiplier_times_the_kelly_stake():
    s = load_settings(environ={}, overrides={"sizing": {"max_trade_notional": "5000"}})
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "100000")])
    active = size_copy(_signal(book, b.whale()), bankroll=D(10000), settings=s, account="a")
    probation = size_copy(
        _signal(book, b.whale(status=WhaleStatus.PROBATION)), bankroll=D(10000), settings=s, account="a"
    )
    # one price level: a share costs 0.51 whatever the size, so stake = m x 0.25 x f* x 10000, floored to 0.01 share
    f_star = kelly_fraction(active.win_probability, D("0.51"))
    for order, m in ((active, D(1)), (probation, D("0.5"))):
        stake = m * D("0.25") * f_star * 10000
        assert order.shares == (stake / D("0.51") / SIZE_STEP).to_integral_value(rounding="ROUND_FLOOR") * SIZE_STEP


def test_the_room_under_our_caps_bounds_the_worst_case_cost_in_every_mode():
    book = b.book("1", bids=[("0.49", "300")], asks=[("0.50", "1000")])
    for mode in ("kelly", "fixed", "proportional"):
        s = load_settings(environ={}, overrides={"sizing": {"mode": mode, "proportional_ratio": "1"}})
        signal = _signal(book, b.whale()).model_copy(update={"room": D(20)})
        order = size_copy(signal, bankroll=D(10000), settings=s, account="a")
        # worst case per share: limit 0.53 + fee at 0.5 (0.01) = 0.54 -> floor(20 / 0.54) on the 0.01 grid
        assert order.action == "PLACE" and order.shares == D("37.03") and order.max_cost == D("19.9962")
        tight = size_copy(signal.model_copy(update={"room": D(2)}), bankroll=D(10000), settings=s, account="a")
        assert tight.action == "SKIP" and tight.reason is Reason.EXPOSURE_AT_CAP and "room 2" in tight.detail


def test_shares_within_room_never_exceed_it_after_the_micro_round_up():
    for room in (D("0.54"), D("2.7"), D("19.9962"), D("19.9961"), D("1234.567891")):
        shares = shares_within_room(room, D("0.50"), D("0.53"), D("0.04"))
        assert worst_case_cost(shares, D("0.53"), D("0.04"), D("0.50")) <= room
        assert worst_case_cost(shares + SIZE_STEP, D("0.53"), D("0.04"), D("0.50")) > room
    assert shares_within_room(D(0), D("0.5"), D("0.53"), D("0.04")) == 0
