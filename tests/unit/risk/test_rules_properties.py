"""Property tests of the pure risk rules: thresholds, room, the cap arithmetic the store's conditions rely on."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.model import RiskDecision
from copytrader.money import MICRO
from copytrader.reasons import Reason
from copytrader.risk.affordability import Exposures, room
from copytrader.risk.rules import ReservationRequest, drawdown_breached, drawdown_floor, screen, stop_triggered
from copytrader.settings import RiskLimits
from tests.support import builders as b

D = Decimal
CAP_REASONS = {Reason.MARKET_CAP, Reason.GROUP_CAP, Reason.CATEGORY_CAP, Reason.WHALE_CAP, Reason.TOTAL_CAP}


def money(low: str = "0", high: str = "20000", places: int = 6) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=D(low), max_value=D(high), places=places, allow_nan=False, allow_infinity=False)


@st.composite
def limits(draw: st.DrawFn) -> RiskLimits:
    """Valid nested caps: market <= group, category <= total; whale <= total."""
    market = draw(money("1", "2000", 2))
    group = market + draw(money("0", "2000", 2))
    category = market + draw(money("0", "3000", 2))
    total = max(group, category) + draw(money("0", "5000", 2))
    whale = draw(money("1", "1", 0)) + draw(money("0", "1", 6)) * (total - 1)
    return RiskLimits(
        max_market_exposure=market,
        max_group_exposure=group,
        max_category_exposure=category,
        max_whale_exposure=whale.quantize(MICRO),
        max_total_exposure=total,
        max_open_orders=draw(st.integers(1, 100)),
        max_orders_per_minute=draw(st.integers(1, 100)),
        max_drawdown=draw(money("0.01", "0.99", 2)),
    )


def _order(key: str, max_cost: Decimal, market: int = 0, group: int = 0, category: int = 0, whale: int = 0):
    return b.sized_order(
        key,
        market=f"m{market}",
        max_cost=max_cost,
        risk_group=f"event:g{group}",
        category=f"cat{category}",
        wallet=b.wallet(f"w{whale}"),
    )


@settings(max_examples=300, deadline=None)
@given(limits(), money("0.000001", "8000", 8))
def test_screen_rejects_with_a_cap_reason_or_builds_nonnegative_thresholds_on_the_micro_grid(lim, cost):
    screened = screen(_order("k", cost), lim, b.T0)
    if isinstance(screened, RiskDecision):
        assert not screened.approved and screened.reason in CAP_REASONS
        return
    assert isinstance(screened, ReservationRequest)
    assert screened.amount == screened.amount.quantize(MICRO) and cost <= screened.amount < cost + MICRO
    for threshold, cap in (
        (screened.market_threshold, lim.max_market_exposure),
        (screened.group_threshold, lim.max_group_exposure),
        (screened.category_threshold, lim.max_category_exposure),
        (screened.whale_threshold, lim.max_whale_exposure),
        (screened.committed_threshold, lim.max_total_exposure),
    ):
        assert threshold >= 0 and threshold + screened.amount == cap
    assert 0 <= screened.open_orders_threshold == lim.max_open_orders - 1
    assert 0 <= screened.rate_threshold == lim.max_orders_per_minute - 1


@settings(max_examples=300, deadline=None)
@given(limits(), money(places=8), money(places=8), money(places=8), money(places=8), money(places=8), money(places=8))
def test_room_fits_under_every_cap_at_once_and_is_the_largest_that_does(lim, m, g, c, w, committed, available):
    exposures = Exposures(market=m, group=g, category=c, whale=w, committed=committed, available=available)
    r = room(exposures, lim)
    assert r >= 0 and r == r.quantize(MICRO)
    if r > 0:
        assert m + r <= lim.max_market_exposure and g + r <= lim.max_group_exposure
        assert c + r <= lim.max_category_exposure and w + r <= lim.max_whale_exposure
        assert committed + r <= lim.max_total_exposure and r <= available
    more = r + MICRO
    assert (
        m + more > lim.max_market_exposure
        or g + more > lim.max_group_exposure
        or c + more > lim.max_category_exposure
        or w + more > lim.max_whale_exposure
        or committed + more > lim.max_total_exposure
        or more > available
    )


@settings(max_examples=150, deadline=None)
@given(
    limits(),
    st.lists(
        st.tuples(money("0.01", "900", 2), *(st.integers(0, 3) for _ in range(4))),
        min_size=1,
        max_size=60,
    ),
    money("0", "20000", 2),
)
def test_the_stores_conditions_never_let_any_exposure_past_its_cap(lim, orders, cash):
    """Replays reservations with exactly the conditions the store writes (x <= threshold, available >= amount,
    n <= max - 1) on a dictionary standing in for the items: no cap, count or cash limit is ever exceeded."""
    items: dict[str, Decimal] = {}
    committed, available, open_orders, rate = D(0), cash, 0, 0
    for i, (cost, market, group, category, whale) in enumerate(orders):
        request = screen(_order(f"k{i}", cost, market, group, category, whale), lim, b.T0)
        if not isinstance(request, ReservationRequest):
            continue
        keys = {
            "market:" + request.condition_id: request.market_threshold,
            "group:" + request.group: request.group_threshold,
            "category:" + request.category: request.category_threshold,
            "whale:" + request.wallet: request.whale_threshold,
        }
        if (
            all(items.get(key, D(0)) <= threshold for key, threshold in keys.items())
            and committed <= request.committed_threshold
            and available >= request.amount
            and open_orders <= request.open_orders_threshold
            and rate <= request.rate_threshold
        ):
            for key in keys:
                items[key] = items.get(key, D(0)) + request.amount
            committed += request.amount
            available -= request.amount
            open_orders += 1
            rate += 1
        caps = {
            "market": lim.max_market_exposure,
            "group": lim.max_group_exposure,
            "category": lim.max_category_exposure,
            "whale": lim.max_whale_exposure,
        }
        for key, value in items.items():
            assert value <= caps[key.split(":")[0]]
        assert committed <= lim.max_total_exposure and available >= 0
        assert open_orders <= lim.max_open_orders and rate <= lim.max_orders_per_minute


@settings(max_examples=200, deadline=None)
@given(money("1", "100000", 6), money("0", "100000", 6), money("0.01", "0.99", 2))
def test_drawdown_halts_exactly_below_the_floor(mark, equity, fraction):
    lim = RiskLimits(max_drawdown=fraction)
    assert drawdown_breached(equity, mark, lim) == (equity < mark * (1 - fraction))
    assert drawdown_floor(mark, lim) <= mark


class _Position:
    def __init__(self, shares: Decimal, cost_basis: Decimal, stop_loss: Decimal | None) -> None:
        self.token_id, self.shares, self.cost_basis, self.stop_loss = "t", shares, cost_basis, stop_loss


@settings(max_examples=200, deadline=None)
@given(
    money("0.01", "10000", 2),
    money("0.01", "0.99", 4),
    st.one_of(st.none(), money("0.01", "1", 2)),
    money("0", "1", 4),
    money("0", "1", 4),
)
def test_a_triggered_stop_stays_triggered_at_any_lower_mark(shares, avg, fraction, mark, lower_by):
    position = _Position(shares, shares * avg, fraction)
    lower = max(D(0), mark - lower_by)
    if stop_triggered(position, mark):
        assert stop_triggered(position, lower)
    level = avg * (1 - (fraction if fraction is not None else D("0.15")))
    assert stop_triggered(position, mark) == (mark <= level)
