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


class _ScriptedGamma:
    """Answers `/markets` like Gamma with the `closed=false` default: closed markets only when asked for."""

    def __init__(self, closed_rows):
        self.closed_rows = closed_rows
        self.asked = []

    def get(self, path, params=None):
        self.asked.append((path, dict(params or {})))
        return self.closed_rows if (params or {}).get("closed") == "true" else []


def test_a_closed_market_missing_from_the_plain_lookup_is_asked_again_and_reads_closed():
    from copytrader.polymarket.rest import GammaMarkets

    payload = {
        "conditionId": "0x" + "ab" * 32,
        "question": "q",
        "clobTokenIds": '["1", "2"]',
        "outcomes": '["Yes", "No"]',
        "outcomePrices": '["1", "0"]',
        "closed": True,
        "acceptingOrders": False,
        "orderPriceMinTickSize": 0.01,
        "orderMinSize": 5,
    }
    http = _ScriptedGamma([payload])
    market = GammaMarkets(http).market(payload["conditionId"])

    assert market is not None and market.closed and not market.accepting_orders
    assert market.payouts == {"1": D(1), "2": D(0)}
    assert http.asked == [
        ("/markets", {"condition_ids": payload["conditionId"]}),
        ("/markets", {"condition_ids": payload["conditionId"], "closed": "true"}),
    ]


def test_a_market_gamma_does_not_know_at_all_is_none():
    from copytrader.polymarket.rest import GammaMarkets

    assert GammaMarkets(_ScriptedGamma([])).market("0x" + "cd" * 32) is None


@pytest.mark.parametrize(
    ("status", "history", "expected"),
    [
        ("proposed", '["proposed"]', ("proposed", ("proposed",))),
        ("Disputed", '["proposed", "disputed"]', ("disputed", ("proposed", "disputed"))),
        (None, None, (None, ())),
        ("", "not a list", (None, ())),  # unreadable history: empty, the current status still counts
    ],
)
def test_the_uma_resolution_status_and_its_history_are_read_for_the_exit_rules(status, history, expected):
    payload = dict(_one("gamma_market.json"), umaResolutionStatus=status, umaResolutionStatuses=history)
    m = market_from_gamma(payload)
    assert (m.uma_status, m.uma_statuses) == expected
