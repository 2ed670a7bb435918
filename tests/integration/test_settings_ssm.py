import json
from decimal import Decimal

import pytest

from copytrader.errors import SettingsError
from copytrader.settings import load_settings


def test_settings_load_from_an_ssm_parameter_and_the_environment_wins(aws):
    # GIVEN the operator's settings JSON in an SSM parameter (as the CDK app deploys it)
    ssm = aws.client("ssm")
    ssm.put_parameter(
        Name="/copytrader/settings",
        Type="String",
        Value=json.dumps({"risk": {"max_market_exposure": "250"}, "sizing": {"kelly_fraction": "0.1"}}),
    )
    # WHEN settings load with the parameter named and one environment override
    s = load_settings(
        environ={"COPYTRADER_SETTINGS_SSM": "/copytrader/settings", "COPYTRADER_SIZING__KELLY_FRACTION": "0.2"}
    )
    # THEN the parameter's values apply and the environment overrides it
    assert s.risk.max_market_exposure == Decimal(250)
    assert s.sizing.kelly_fraction == Decimal("0.2")


def test_a_parameter_that_is_not_an_object_is_refused(aws):
    aws.client("ssm").put_parameter(Name="/copytrader/bad", Type="String", Value="[1, 2]")
    with pytest.raises(SettingsError, match="JSON object"):
        load_settings(environ={"COPYTRADER_SETTINGS_SSM": "/copytrader/bad"})
