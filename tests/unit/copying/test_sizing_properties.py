"""Property tests of the sizing invariants over random books, prices, fee rates, bankrolls, rooms and settings.

For every input the size step must give a PLACE that respects every bound, or a SKIP with a sizing reason:
shares never negative; the cost never above the (fractional, status-scaled) Kelly budget or the mode's stake; the
worst-case cost (at the limit price) never above the per-copy cap or the room under the exposure caps; never
rounded up (one more 0.01 share would break a bound or not fill); a PLACE on the size grid, at or above the market
minimum, at a limit on the tick grid; a SELL never sells more than we hold.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from copytrader.copying.pricing import drift_limit_price, status_multiplier
from copytrader.copying.sizing import category_edge, copy_win_probability, kelly_fraction, plan, size_copy, whale_edge
from copytrader.model import CategoryRecord, Level, OrderBook, Side, WhaleStatus
from copytrader.money import SIZE_STEP, ZERO, is_on_grid
from copytrader.reasons import Reason
from copytrader.risk.affordability import worst_case_cost
from copytrader.settings import SizingMode, load_settings
from tests.support import builders as b

D = Decimal
SIZING_SKIPS = {Reason.NO_EDGE, Reason.BELOW_MIN_SIZE, Reason.EXPOSURE_AT_CAP}


@st.composite
def scenarios(draw):
    tick = draw(st.sampled_from([D("0.01"), D("0.001")]))
    ticks = int(1 / tick)
    start = draw(st.integers(min_value=int(0.06 * ticks), max_value=int(0.9 * ticks)))
    gaps = draw(
        st.lists(
            st.integers(min_value=1, max_value=3) | st.integers(min_value=1, max_value=ticks // 50),
            min_size=1,
            max_size=6,
        )
    )
    sizes = draw(st.lists(st.integers(min_value=1, max_value=40_000), min_size=len(gaps), max_size=len(gaps)))
    asks, price = [], start
    for gap, size in zip(gaps, sizes, strict=True):
        if price >= ticks:
            break
        asks.append(Level(price=D(price) * tick, size=D(size) / 8))
        price += gap
    bid = max(start - draw(st.integers(min_value=1, max_value=5)), 1)
    bids = (Level(price=D(bid) * tick, size=D(draw(st.integers(min_value=1, max_value=40_000))) / 8),)
    book = OrderBook(token_id="1", bids=bids, asks=tuple(asks), timestamp=b.T0)
    # the whale's price: at or a little below our best ask (the decision already bounded the drift)
    whale_ticks = max(
        1, start - draw(st.integers(min_value=0, max_value=2) | st.integers(min_value=0, max_value=ticks // 50))
    )
    return tick, book, D(whale_ticks) * tick


@st.composite
def inputs(draw):
    tick, book, whale_price = draw(scenarios())
    market = b.market(
        tick_size=tick,
        min_order_size=draw(st.sampled_from([D(1), D(5), D(15)])),
        taker_fee_rate=draw(st.sampled_from([D(0), D("0.02"), D("0.04"), D("0.0625"), D("0.25")])),
    )
    n = draw(st.integers(min_value=0, max_value=2000))
    p_bar = D(draw(st.integers(min_value=5, max_value=95))) / 100
    skill = D(draw(st.integers(min_value=-5, max_value=30))) / 100  # wins around n x (p̄ + skill), any k allowed
    k = min(n, max(0, int(n * (p_bar + skill)) + draw(st.integers(min_value=-3, max_value=3))))
    categories = {}
    if n and draw(st.booleans()):
        n_c = draw(st.integers(min_value=0, max_value=n))
        k_c = draw(st.integers(min_value=0, max_value=min(n_c, k)))
        categories["politics"] = CategoryRecord(resolved_trades=n_c, wins=k_c, mean_entry_price=p_bar)
    whale = b.whale(
        status=draw(st.sampled_from([WhaleStatus.ACTIVE, WhaleStatus.PROBATION])),
        resolved_trades=n,
        wins=k,
        mean_entry_price=p_bar,
        categories=categories,
    )
    side = draw(st.sampled_from(["BUY", "BUY", "SELL"]))
    trade = b.trade(
        market, price=str(whale_price), side=side, size=str(draw(st.integers(min_value=1, max_value=50_000)))
    )
    held = D(draw(st.integers(min_value=0, max_value=200_000))) / 1000
    room = draw(st.none() | st.integers(min_value=0, max_value=5_000_000).map(lambda c: D(c) / 1000))
    signal = b.copy_signal(market, trade, book, whale, held_shares=held if side == "SELL" else D(0), room=room)
    overrides = {
        "sizing": {
            "mode": draw(st.sampled_from(["kelly", "fixed", "proportional"])),
            "kelly_fraction": draw(st.sampled_from(["0.1", "0.25", "0.5", "1"])),
            "max_trade_notional": draw(
                st.integers(min_value=1, max_value=20) | st.integers(min_value=20, max_value=5000)
            ),
            "fixed_notional": draw(st.integers(min_value=1, max_value=500)),
            "proportional_ratio": draw(st.sampled_from(["0.01", "0.1", "1", "3"])),
            "population_edge": draw(st.sampled_from(["-0.05", "0", "0.02"])),
            "probation_multiplier": draw(st.sampled_from(["0.25", "0.5", "1"])),
            "min_edge": draw(st.sampled_from(["0", "0.01", "0.05"])),
        },
        "filters": {"max_drift_abs": draw(st.sampled_from(["0.01", "0.03", "0.05"]))},
    }
    bankroll = D(draw(st.integers(min_value=0, max_value=20_000_000))) / 100
    return signal, load_settings(environ={}, overrides=overrides), bankroll


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=inputs())
def test_every_sized_order_respects_every_bound(case):
    signal, s, bankroll = case
    trade, market, book, whale = signal.trade, signal.market, signal.book, signal.whale
    order = size_copy(signal, bankroll=bankroll, settings=s, account="a")
    event(f"{trade.side.value} {order.action} {order.reason or ''}")

    assert order.shares >= 0
    if order.action == "SKIP":
        assert order.reason in SIZING_SKIPS, order.detail
        assert order.shares == 0
        return
    limit = drift_limit_price(trade.side, trade.price, market.tick_size, s.filters)
    # a PLACE meets the size grid, the market minimum, the tick grid and the venue's price range
    assert is_on_grid(order.shares, SIZE_STEP) and order.shares >= market.min_order_size
    assert order.limit_price == limit and is_on_grid(order.limit_price, market.tick_size)
    assert market.tick_size <= order.limit_price <= 1 - market.tick_size

    if trade.side is Side.SELL:
        assert order.shares <= signal.held_shares and order.max_cost == 0
        return

    rate = market.taker_fee_rate
    chosen = plan(book, Side.BUY, order.shares, limit, rate)
    assert chosen.shares == order.shares  # the book fills it within the limit
    m = status_multiplier(whale.status, s.sizing)
    cap = s.sizing.max_trade_notional

    def budget(cost_per_share: Decimal) -> Decimal:
        if s.sizing.mode is SizingMode.KELLY:
            return m * s.sizing.kelly_fraction * kelly_fraction(order.win_probability, cost_per_share) * bankroll
        stake = (
            s.sizing.fixed_notional
            if s.sizing.mode is SizingMode.FIXED
            else s.sizing.proportional_ratio * trade.notional
        )
        return m * stake

    assert chosen.cost <= budget(chosen.cost_per_share)  # never above the Kelly size or the stake
    assert order.max_cost >= chosen.cost  # the reservation covers the worst case
    assert order.max_cost == worst_case_cost(order.shares, limit, rate, book.best_ask)
    assert order.max_cost <= cap  # the per-copy cap holds at the limit price, not only at the planned cost
    if signal.room is not None:
        assert order.max_cost <= signal.room
    # never rounded down further than needed: one more step breaks a bound or does not fill
    bigger = plan(book, Side.BUY, order.shares + SIZE_STEP, limit, rate)
    if bigger.shares == order.shares + SIZE_STEP:
        worst = worst_case_cost(bigger.shares, limit, rate, book.best_ask)
        over_room = signal.room is not None and worst > signal.room
        assert bigger.cost > budget(bigger.cost_per_share) or worst > cap or over_room


@settings(max_examples=300, deadline=None)
@given(case=inputs())
def test_win_probability_is_bounded_and_the_category_posterior_lies_between_its_centre_and_its_data(case):
    signal, s, _ = case
    whale, trade = signal.whale, signal.trade
    q = copy_win_probability(whale, trade.price, "politics", s.sizing)
    assert D("0.0001") <= q <= s.sizing.max_win_probability
    record = whale.categories.get("politics")
    delta_c = category_edge(whale, "politics", s.sizing)
    if record is None or record.resolved_trades == 0:
        assert delta_c == whale_edge(whale, s.sizing.prior_strength, s.sizing.population_edge)
        return
    raw = (record.wins - record.resolved_trades * record.mean_entry_price) / record.resolved_trades
    n, k = whale.resolved_trades - record.resolved_trades, whale.wins - record.wins
    centre = (
        s.sizing.prior_strength * s.sizing.population_edge
        + k
        - (whale.resolved_trades * whale.mean_entry_price - record.resolved_trades * record.mean_entry_price)
    ) / (s.sizing.prior_strength + n)
    low, high = min(raw, centre), max(raw, centre)
    tolerance = D("1e-20")
    assert low - tolerance <= delta_c <= high + tolerance
    assert ZERO <= abs(delta_c - centre) <= abs(raw - centre) + tolerance
