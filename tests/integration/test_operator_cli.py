import json

from copytrader.cli import main


def test_risk_commands_flip_the_kill_switch_and_show_state(aws, capsys):
    # GIVEN the local AWS with an account (risk_check creates it on first use; here, the operator's first look)
    from datetime import UTC, datetime
    from decimal import Decimal

    from copytrader.store.portfolio import PortfolioStore

    PortfolioStore("paper").ensure_account(Decimal(1000), datetime.now(UTC))

    # WHEN the operator turns the kill switch on, THEN the printed state says so; off again clears it
    assert main(["risk", "kill-switch", "on"]) == 0
    assert json.loads(capsys.readouterr().out)["kill_switch"] is True
    assert main(["risk", "kill-switch", "off"]) == 0
    state = json.loads(capsys.readouterr().out)
    assert state["kill_switch"] is False and state["cash"] == "1000"
    assert main(["risk", "reset-breaker"]) == 0
    assert json.loads(capsys.readouterr().out)["breaker_open"] is False
