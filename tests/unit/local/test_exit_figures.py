"""The demo's marked-equity figures (`copytrader.local.exit_summary`, `copytrader.local.report.underwater`) and the
faulted day's planned price crash (`copytrader.local.faults`), without AWS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from copytrader.local import faults
from copytrader.local.exit_summary import max_drawdown_pct
from copytrader.local.faults import plan_faults
from copytrader.local.injectors import Injected
from copytrader.local.report import underwater
from tests.support import builders as b
from tests.support.clock import Clock

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def _curve(*levels: str) -> list[tuple[str, str]]:
    return [((DAY + timedelta(minutes=5 * i)).isoformat(), level) for i, level in enumerate(levels)]


def test_the_marked_drawdown_is_the_largest_fall_from_a_running_peak():
    # peaks 10000 then 10400; the falls are 10000 -> 9800 (2 %) and 10400 -> 9880 (5 %)
    curve = _curve("10000", "9800", "10400", "10100", "9880", "10500")
    assert max_drawdown_pct(curve) == Decimal(5)
    assert max_drawdown_pct(_curve("10000", "10100", "10200")) == 0
    assert max_drawdown_pct([]) == 0


def test_the_underwater_curve_is_each_point_below_its_peak_in_percent():
    curve = _curve("10000", "9800", "10400", "9880")
    assert [v for _, v in underwater(curve)] == ["0.0000", "-2.0000", "0.0000", "-5.0000"]
    assert [t for t, _ in underwater(curve)] == [t for t, _ in curve]


def test_the_crash_comes_after_a_buy_in_a_market_that_ends_much_later():
    soon = b.market("soon", end_time=DAY + timedelta(hours=4))
    late = b.market("late", end_time=DAY + timedelta(days=2))
    markets = {m.condition_id: m for m in (soon, late)}
    feed = [
        b.trade(soon, "w0", at=DAY + timedelta(hours=1), tx="a"),
        b.trade(late, "w1", at=DAY + timedelta(hours=2), tx="b"),
    ]
    plan = plan_faults(7, feed, markets, ["sports", "crypto"])
    crash = plan.crash
    assert crash is not None and crash.token_id == feed[1].token_id and crash.drop_logit == faults.CRASH_DROP_LOGIT
    assert DAY + timedelta(hours=2, minutes=10) <= crash.at <= DAY + timedelta(hours=2, minutes=40)
    assert plan_faults(7, feed, markets, ["sports", "crypto"]).crash == crash
    assert plan_faults(7, feed[:1], markets, ["sports", "crypto"]).crash is None  # ends 3 h after the only BUY


def test_exit_sells_stand_in_for_the_sells_pending_at_midnight_from_the_planned_time_on():
    none = faults.Targets((), 0)
    start = DAY + timedelta(hours=12)
    plan = faults.FaultPlan(
        seed=0, venue_timeout=none, venue_5xx=none, crash_before_ledger=none, crash_after_venue=none, throttled=none,
        sells_at_midnight=none, midnight=DAY + timedelta(days=1), redeliveries=(), retags=(), malformed=(),
        exit_sells_from=start,
    )  # fmt: skip
    clock = Clock(DAY + timedelta(hours=11))
    injected = Injected(plan, clock)
    assert injected.claim_exit_sell("e0", "tok-a") is False  # before the planned time
    clock.now = start
    injected.crashed_token = "tok-crashed"
    assert injected.claim_exit_sell("e1", "tok-crashed") is False  # the crash's own stop is never lost
    assert injected.claim_exit_sell("e2", "tok-a") is True
    assert injected.claim_exit_sell("e3", "tok-b") is False  # no whale SELL was planned: one exit SELL at most
    assert injected.fired(faults.SELL_AT_MIDNIGHT) == ["e2"]
