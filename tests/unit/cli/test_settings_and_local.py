import json

from copytrader.cli import main
from copytrader.local.lambdas import emf_metrics


def test_settings_command_prints_effective_settings(capsys, monkeypatch):
    monkeypatch.setenv("COPYTRADER_SIZING__KELLY_FRACTION", "0.2")
    assert main(["settings"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sizing"]["kelly_fraction"] == "0.2" and printed["mode"] == "paper"


def test_settings_command_reports_errors_with_exit_code_2(capsys, monkeypatch):
    monkeypatch.setenv("COPYTRADER_RISK__DAILY_LOSS_LIMIT", "7")
    assert main(["settings"]) == 2
    assert "risk.daily_loss_limit = 7" in capsys.readouterr().err


def test_emf_documents_are_summed_per_metric():
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "CopyTrader",
                        "Dimensions": [["service"]],
                        "Metrics": [{"Name": "score_skip"}, {"Name": "x"}],
                    }
                ],
            },
            "service": "copytrader",
            "score_skip": [1.0, 1.0, 1.0],
            "x": 2.0,
        }
    )
    assert emf_metrics(line) == {"score_skip": 3.0, "x": 2.0}
    assert emf_metrics('{"level": "INFO", "message": "scored"}') == {}
    assert emf_metrics("not json") == {}
