from decimal import Decimal

import pytest

from copytrader.polymarket.gamma import market_from_gamma
from tests.support.handbook import load_json

D = Decimal
FIXTURES = "nautilus-polymarket-fixtures"


def _one(name):
    payload = load_json(f"{FIXTURES}/{name}")
    return payload[0] if isinstance(payload, list) else payload


def test_open_crypto_market_decodes_json_strings_and_fee_type():
    m = market_from_gamma(_one("gamma_market.json"))
    assert [t.outcome for t in m.tokens] == ["Up", "Down"]
    assert m.tokens[0].token_id.startswith("1042398980388071360523998")
    assert m.tick_size == D("0.01") and m.min_order_size == D(5)
    assert m.category == "crypto" and m.taker_fee_rate == D("0.07")
    assert m.accepting_orders and not m.closed and m.payouts is None
    assert m.event_id == "260654"


def test_resolved_binary_markets_carry_payouts():
    m = market_from_gamma(_one("gamma_market_closed_binary_accepting_false.json"))
    assert m.closed and not m.accepting_orders
    assert list(m.payouts.values()) == [D(0), D(1)]
    assert m.tick_size == D("0.001")


def test_zero_zero_closed_market_is_not_treated_as_resolved():
    m = market_from_gamma(_one("gamma_market_closed_zero_zero_legacy.json"))
    assert m.closed and m.payouts is None  # real resolved markets sometimes show ["0","0"]
    assert m.tick_size == D("0.01") and m.min_order_size == D(5)  # legacy: documented defaults


def test_fractional_closed_prices_without_uma_resolution_are_not_payouts():
    m = market_from_gamma(_one("gamma_market_closed_nonbinary_legacy.json"))
    assert m.payouts is None


@pytest.mark.parametrize(
    "broken",
    [
        {"clobTokenIds": "not json"},
        {"clobTokenIds": '["1"]', "outcomes": '["Yes", "No"]'},
        {"conditionId": "0x12"},
    ],
)
def test_unusable_markets_raise(broken):
    payload = dict(_one("gamma_market.json"), **broken)
    with pytest.raises(ValueError):
        market_from_gamma(payload)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Geopolitics", "geopolitics"), ("US-Politics", "politics"), ("Crypto", "crypto"), ("Pop-Culture ", "culture")],
)
def test_categories_match_the_longest_known_name(raw, expected):
    payload = dict(_one("gamma_market.json"), category=raw, feeType=None, feeSchedule=None, feesEnabled=True)
    m = market_from_gamma(payload)
    assert m.category == expected
    assert (
        m.taker_fee_rate
        == {"geopolitics": D(0), "politics": D("0.04"), "crypto": D("0.07"), "culture": D("0.05")}[expected]
    )
