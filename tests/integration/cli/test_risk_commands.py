import json

from copytrader.cli import main
from tests.support import builders as b


def test_risk_commands_flip_the_kill_switch_and_show_state(aws, capsys):
    # GIVEN the local AWS with an account (risk_check creates it on first use; here, the operator's first look)
    from datetime import UTC, datetime
    from decimal import Decimal

    from copytrader.store.account import AccountStore

    AccountStore("paper").items.open_account(Decimal(1000), datetime.now(UTC))

    # WHEN the operator turns the kill switch on, THEN the printed state says so; off again clears it
    assert main(["risk", "kill-switch", "on"]) == 0
    assert json.loads(capsys.readouterr().out)["kill_switch"] is True
    assert main(["risk", "kill-switch", "off"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["kill_switch"] is False and state["cash"] == "1000"
    assert main(["risk", "reset-breaker"]) == 0
    assert json.loads(capsys.readouterr().out)["breaker_open"] is False


def test_risk_reset_drawdown_lifts_the_halt_and_rebases_the_mark(aws, capsys):
    # GIVEN an account halted by a drawdown (equity 700 after a high-water mark of 1000)
    from datetime import UTC, datetime
    from decimal import Decimal

    from copytrader.risk.changes import AccountDelta, Changes
    from copytrader.store.account import AccountStore

    now = datetime.now(UTC)
    store = AccountStore("paper")
    store.items.open_account(Decimal(1000), now)
    store.settlements.commit(Changes(account=AccountDelta(cash=Decimal(-300))), now)
    assert store.breakers.trip_drawdown_if_needed(now, lambda mark: Decimal("0.8") * mark)
    assert main(["risk", "status"]) == 0
    halted = json.loads(capsys.readouterr().out)
    assert halted["drawdown_halt"] is True and halted["equity"] == "700" and halted["open_orders"] == 0

    # WHEN the operator resets it, THEN the halt is off and the mark is today's equity
    assert main(["risk", "reset-drawdown"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["drawdown_halt"] is False and state["equity_high_water_mark"] == "700"


def test_risk_reset_breaker_reopens_buys_after_a_tripped_day(aws, capsys):
    from datetime import UTC, datetime
    from decimal import Decimal

    from copytrader.reasons import Reason
    from copytrader.risk.rules import screen, utc_day
    from copytrader.settings import RiskLimits
    from copytrader.store.account import AccountStore
    from copytrader.store.tables import RiskStateModel as R

    # GIVEN today's breaker tripped by a 6 % realized loss
    now = datetime.now(UTC)
    store = AccountStore("paper")
    store.items.open_account(Decimal(1000), now)
    store.items.day_item(now)
    R.get(store.items.day_key(utc_day(now))).update(actions=[R.day_realized_pnl.set(Decimal(-60))])
    assert store.breakers.trip_breaker_if_needed(now, lambda equity: Decimal("-0.05") * equity)
    order = b.sized_order("k1", shares="10", limit_price="0.5", max_cost="5")  # a 5 pUSD BUY
    assert store.reservations.reserve(screen(order, RiskLimits(), now), now).reason is Reason.BREAKER_OPEN

    # WHEN the operator resets it, THEN the printed state says closed and a BUY is reserved again
    assert main(["risk", "reset-breaker"]) == 0
    assert json.loads(capsys.readouterr().out)["breaker_open"] is False
    assert store.reservations.reserve(screen(order, RiskLimits(), now), now).approved
