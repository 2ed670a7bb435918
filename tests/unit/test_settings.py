import json
from decimal import Decimal

import pytest

from copytrader.errors import SettingsError
from copytrader.settings import Mode, load_settings


def test_defaults_are_paper_with_quarter_kelly_and_documented_limits():
    s = load_settings(environ={})
    assert s.mode is Mode.PAPER
    assert s.sizing.kelly_fraction == Decimal("0.25")
    assert s.risk.daily_loss_limit == Decimal("0.05")
    assert s.risk.stop_loss == Decimal("0.15")


def test_environment_overrides_nested_fields():
    s = load_settings(
        environ={
            "COPYTRADER_SIZING__KELLY_FRACTION": "0.1",
            "COPYTRADER_RISK__KILL_SWITCH": "true",
            "COPYTRADER_TABLE_ORDERS": "not-a-setting",
        }
    )
    assert s.sizing.kelly_fraction == Decimal("0.1")
    assert s.risk.kill_switch is True


def test_file_then_environment(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"paper_bankroll": "2500", "filters": {"max_spread": "0.02"}}))
    s = load_settings(environ={"COPYTRADER_SETTINGS_FILE": str(path), "COPYTRADER_FILTERS__MAX_SPREAD": "0.03"})
    assert s.paper_bankroll == Decimal(2500)
    assert s.filters.max_spread == Decimal("0.03")


def test_errors_name_the_field_the_value_and_the_allowed_range():
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"COPYTRADER_SIZING__KELLY_FRACTION": "1.5", "COPYTRADER_RISK__DAILY_LOSS_LIMIT": "0"})
    text = str(caught.value)
    assert (
        "sizing.kelly_fraction = 1.5: Input should be less than or equal to 1" in text and "allowed: 0 < x <= 1" in text
    )
    assert "risk.daily_loss_limit = 0: Input should be greater than 0" in text


def test_live_mode_needs_a_second_switch():
    with pytest.raises(SettingsError, match="live_confirmed"):
        load_settings(environ={"COPYTRADER_MODE": "live"})
    with pytest.raises(SettingsError, match="one of paper, live"):
        load_settings(environ={"COPYTRADER_MODE": "yolo"})


def test_live_mode_refuses_the_paper_account():
    # the paper account holds paper cash and positions: used live, the wallet's balance would never open it
    with pytest.raises(SettingsError, match="mode=live needs an account of its own"):
        load_settings(environ={}, overrides={"mode": "live", "live_confirmed": True})
    live = load_settings(environ={}, overrides={"mode": "live", "live_confirmed": True, "account": "live"})
    assert live.account == "live"


def test_price_band_must_be_ordered():
    with pytest.raises(SettingsError, match="min_price"):
        load_settings(environ={}, overrides={"filters": {"min_price": "0.9", "max_price": "0.2"}})


def test_unknown_settings_are_refused(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"kely_fraction": 0.3}))
    with pytest.raises(SettingsError, match="kely_fraction"):
        load_settings(path=path, environ={})


@pytest.mark.parametrize(
    ("venue", "floor"),
    [
        ({"reconcile_after_s": 0}, "68"),  # default send: 3 s connect + 5 s read, plus the 60 s margin
        ({"reconcile_after_s": 5}, "68"),  # below the send timeout itself
        ({"reconcile_after_s": 67}, "68"),  # above the send timeout but inside the margin
        ({"order_timeout_s": 30, "reconcile_after_s": 92}, "93"),  # 3 + 30 + 60
        ({"paper_latency_ms": 10000, "order_timeout_s": 1, "reconcile_after_s": 69}, "70"),  # paper: 10 s + 60
    ],
)
def test_reconcile_after_below_send_timeout_plus_margin_is_refused(venue, floor):
    # an in-flight order would be booked never_placed, its reservation freed and the fill that arrives discarded
    with pytest.raises(SettingsError, match=rf"venue\.reconcile_after_s = {venue['reconcile_after_s']}: .* {floor} s"):
        load_settings(environ={}, overrides={"venue": venue})


def test_reconcile_after_at_the_send_timeout_plus_margin_is_accepted():
    assert load_settings(environ={}).venue.reconcile_after_s == 120
    s = load_settings(environ={}, overrides={"venue": {"reconcile_after_s": 68}})
    assert s.venue.longest_send_s == 8.0 and s.venue.reconcile_after_s == 68
    s = load_settings(environ={}, overrides={"venue": {"order_timeout_s": 30, "reconcile_after_s": 93}})
    assert s.venue.longest_send_s == 33.0
