from decimal import Decimal

import pytest

from copytrader.money import taker_fee
from tests.support.handbook import load_json


def test_fee_matches_every_real_v2_taker_fill():
    # GIVEN 21 real CTF Exchange V2 OrderFilled taker legs (6-decimal amounts, fee in pUSD micro-units)
    legs = load_json("nautilus-polymarket-fixtures/newer_commits/chain_order_filled_taker_fees.json")
    assert len(legs) == 21
    for leg in legs:
        maker, taker = Decimal(leg["maker_amount_filled"]), Decimal(leg["taker_amount_filled"])
        shares = (taker if leg["side"] == "BUY" else maker) / 10**6
        # WHEN our fee function prices the leg
        fee = taker_fee(shares, Decimal(leg["price"]), Decimal(leg["fee_rate"]))
        # THEN it equals the fee the exchange charged, to the micro-unit
        assert fee * 10**6 == Decimal(leg["fee"]), leg


def test_fee_hand_example_and_symmetry():
    # 100 shares at 0.50 with rate 0.04: 100 x 0.04 x 0.25 = 1.00; p and 1-p cost the same
    assert taker_fee(Decimal(100), Decimal("0.5"), Decimal("0.04")) == Decimal("1.00000")
    assert taker_fee(Decimal(10), Decimal("0.3"), Decimal("0.05")) == taker_fee(
        Decimal(10), Decimal("0.7"), Decimal("0.05")
    )
    # flooring to 1e-5: 7.042251 x 0.05 x 0.71 x 0.29 = 0.0724999740... -> 0.07249
    assert taker_fee(Decimal("7.042251"), Decimal("0.71"), Decimal("0.05")) == Decimal("0.07249")


@pytest.mark.parametrize("price", ["0", "1", "-0.1", "1.2"])
def test_fee_refuses_prices_outside_the_open_interval(price):
    with pytest.raises(ValueError):
        taker_fee(Decimal(1), Decimal(price), Decimal("0.05"))
