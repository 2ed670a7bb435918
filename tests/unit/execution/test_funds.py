"""The per-BUY wallet check (copytrader.execution.funds): what the balance answer means, what one BUY needs, and the
short-lived copy of the balance a container keeps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from copytrader.errors import ClobTransportError, VenueRejected
from copytrader.execution.funds import Collateral, Funds, parse_collateral

D = Decimal
EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"


class Wallet:
    """A balance answer that changes when told, counting reads; `now` is the clock the cache reads."""

    def __init__(self, balance: str, allowance: str = "1000000000000") -> None:
        self.balance, self.allowance, self.reads, self.now = balance, allowance, 0, 0.0
        self.fail: Exception | None = None

    def read(self) -> Collateral:
        self.reads += 1
        if self.fail is not None:
            raise self.fail
        return parse_collateral(200, {"balance": self.balance, "allowance": self.allowance})


def funds(wallet: Wallet, **options) -> Funds:
    return Funds(wallet.read, clock=lambda: wallet.now, **options)


def test_amounts_are_micro_units_unless_written_as_decimals():
    assert parse_collateral(200, {"balance": "12500000", "allowance": "7.25"}) == Collateral(D("12.5"), {"": D("7.25")})
    for status, body in ((500, {"balance": "1"}), (200, {"allowance": "1"}), (200, {"balance": "NaN"}), (200, [])):
        with pytest.raises(ValueError):
            parse_collateral(status, body)


def test_the_allowance_to_the_orders_exchange_is_the_one_that_counts():
    body = {"balance": "1000000000", "allowances": {EXCHANGE: "500000000", NEG_RISK_EXCHANGE: "0"}}
    collateral = parse_collateral(200, body)
    assert collateral.shortfall(D(100), D(0), EXCHANGE) is None
    assert collateral.shortfall(D(100), D(0), NEG_RISK_EXCHANGE) == "pUSD allowance 0 < 100: approve the exchange"
    assert collateral.allowance() == 0  # unnamed spender: the smallest, as a conservative reading


def test_a_buy_the_wallet_cannot_pay_is_refused_with_nothing_sent():
    wallet = Wallet("30000000")  # 30 pUSD
    guard = funds(wallet, reserve=D(5))
    guard.cover(D(25))
    with pytest.raises(VenueRejected) as refused:
        funds(Wallet("30000000"), reserve=D(5)).cover(D("25.000001"))
    assert refused.value.code == "INVALID_ORDER_NOT_ENOUGH_BALANCE"
    assert "pUSD balance 30 - the 5 kept (venue.min_live_balance) < 25.000001" in str(refused.value)


def test_an_unreadable_balance_is_a_definite_rejection_not_a_crash():
    wallet = Wallet("30000000")
    wallet.fail = ClobTransportError("GET /balance-allowance: connection refused", sent=False)
    with pytest.raises(VenueRejected) as refused:
        funds(wallet).cover(D(1))
    assert refused.value.code == "VENUE_UNREACHABLE" and "nothing sent" in str(refused.value)


def test_the_balance_is_read_once_per_window_and_lowered_by_each_buy_let_through():
    wallet = Wallet("100000000")  # 100 pUSD
    guard = funds(wallet, keep_s=5.0)
    guard.cover(D(40))
    wallet.now = 1.0
    guard.cover(D(40))  # kept: 60 left of what was read
    assert wallet.reads == 1
    wallet.now = 6.0
    guard.cover(D(40))  # the window passed: read again (100 pUSD, the fake wallet did not really pay)
    assert wallet.reads == 2


def test_a_kept_balance_that_falls_short_is_read_again_before_refusing():
    wallet = Wallet("100000000")
    guard = funds(wallet, keep_s=5.0)
    guard.cover(D(80))  # kept figure now 20
    wallet.balance = "500000000"  # a deposit, or the first BUY did not fill
    wallet.now = 1.0
    guard.cover(D(80))
    assert wallet.reads == 2
    wallet.balance = "10000000"
    wallet.now = 2.0
    with pytest.raises(VenueRejected):
        guard.cover(D(500))  # kept 420 < 500: read again (10) and refuse
    assert wallet.reads == 3
