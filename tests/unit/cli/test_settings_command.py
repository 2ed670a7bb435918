import json

from copytrader.cli import main


def test_settings_command_prints_effective_settings(capsys, monkeypatch):
    monkeypatch.setenv("COPYTRADER_SIZING__KELLY_FRACTION", "0.2")
    assert main(["settings"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sizing"]["kelly_fraction"] == "0.2" and printed["mode"] == "paper"


def test_settings_command_reports_errors_with_exit_code_2(capsys, monkeypatch):
    monkeypatch.setenv("COPYTRADER_RISK__DAILY_LOSS_LIMIT", "7")
    assert main(["settings"]) == 2
    assert "risk.daily_loss_limit = 7" in capsys.readouterr().err
