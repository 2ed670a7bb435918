from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.decision import decide, drift_limit_price
from copytrader.model import Decision, Side, WhaleStatus
from copytrader.reasons import Reason
from copytrader.settings import FilterSettings
from tests.support import builders as b

D = Decimal
FILTERS = FilterSettings()


class World:
    def __init__(self):
        self.market = b.market()
        self.yes = self.market.tokens[0].token_id
        self.whales = {b.wallet("w1"): b.whale("w1")}
        self.books = {self.yes: b.book(self.yes, bids=[("0.49", "500")], asks=[("0.50", "500"), ("0.51", "500")])}
        self.held = {}
        self.loaded = []

    def decide(self, trade, now=None, filters=FILTERS):
        def whale(w):
            self.loaded.append("whale")
            return self.whales.get(w)

        def market(c):
            self.loaded.append("market")
            return self.market if self.market is not None and c == self.market.condition_id else None

        def book(t):
            self.loaded.append("book")
            return self.books.get(t)

        return decide(
            trade,
            now=now or trade.detected_at,
            filters=filters,
            load_whale=whale,
            load_market=market,
            load_book=book,
            load_held_shares=lambda t: self.held.get(t, D(0)),
        )


def test_a_good_fill_is_copied_with_everything_attached():
    w = World()
    signal = w.decide(b.trade(w.market))
    assert signal.action is Decision.COPY and signal.reason is None
    assert signal.book.best_ask == D("0.50") and signal.whale.wallet == b.wallet("w1")


def test_untracked_wallet_skips_after_one_read():
    w = World()
    signal = w.decide(b.trade(w.market, "stranger"))
    assert signal.reason is Reason.UNTRACKED_WALLET
    assert w.loaded == ["whale"]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda w, t: {"now": t.timestamp + timedelta(seconds=301)}, Reason.STALE_TRADE),
        (lambda w, t: w.whales.update({t.wallet: b.whale("w1", status=WhaleStatus.PAUSED)}), Reason.WHALE_NOT_ACTIVE),
        (lambda w, t: setattr(w, "market", None), Reason.UNKNOWN_MARKET),
        (lambda w, t: setattr(w, "market", w.market.model_copy(update={"closed": True})), Reason.MARKET_CLOSED),
        (
            lambda w, t: setattr(w, "market", w.market.model_copy(update={"accepting_orders": False})),
            Reason.NOT_ACCEPTING_ORDERS,
        ),
        (
            lambda w, t: setattr(
                w, "market", w.market.model_copy(update={"end_time": t.detected_at + timedelta(minutes=5)})
            ),
            Reason.NEAR_RESOLUTION,
        ),
        (lambda w, t: w.books.pop(w.yes), Reason.NO_BOOK),
        (
            lambda w, t: w.books.update({w.yes: b.book(w.yes, bids=[("0.40", "500")], asks=[("0.50", "500")])}),
            Reason.SPREAD_TOO_WIDE,
        ),
        (
            lambda w, t: w.books.update({w.yes: b.book(w.yes, bids=[("0.53", "500")], asks=[("0.54", "500")])}),
            Reason.PRICE_DRIFT,
        ),
        (
            lambda w, t: w.books.update({w.yes: b.book(w.yes, bids=[("0.49", "500")], asks=[("0.50", "10")])}),
            Reason.THIN_BOOK,
        ),
    ],
)
def test_each_filter_names_its_reason(mutate, reason):
    w = World()
    trade = b.trade(w.market)
    extra = mutate(w, trade) or {}
    signal = w.decide(trade, **extra) if isinstance(extra, dict) else w.decide(trade)
    assert signal.action is Decision.SKIP
    assert signal.reason is reason, signal.detail
    assert signal.detail


def test_price_band_and_small_whales_and_foreign_tokens():
    w = World()
    assert w.decide(b.trade(w.market, price="0.97")).reason is Reason.PRICE_OUT_OF_BAND
    assert w.decide(b.trade(w.market, size="10")).reason is Reason.WHALE_TOO_SMALL  # 5 pUSD
    foreign = b.trade(b.market("other").model_copy(update={"condition_id": w.market.condition_id}))
    assert w.decide(foreign).reason is Reason.UNKNOWN_MARKET


def test_sells_are_copied_only_when_we_hold_the_token():
    w = World()
    sell = b.trade(w.market, side="SELL", price="0.49")
    assert w.decide(sell).reason is Reason.SELL_WITHOUT_POSITION
    w.held[w.yes] = D("20")
    signal = w.decide(sell)
    assert signal.action is Decision.COPY and signal.held_shares == D(20)


def test_relative_drift_cap_binds_on_cheap_contracts():
    # 0.03 absolute would allow 0.10 -> 0.13; 10% relative allows only 0.11
    assert drift_limit_price(Side.BUY, D("0.10"), D("0.01"), FILTERS) == D("0.11")
    assert drift_limit_price(Side.BUY, D("0.50"), D("0.01"), FILTERS) == D("0.53")
    assert drift_limit_price(Side.SELL, D("0.50"), D("0.01"), FILTERS) == D("0.47")
    assert drift_limit_price(Side.BUY, D("0.985"), D("0.01"), FILTERS) == D("0.99")
    assert drift_limit_price(Side.BUY, D("0.5"), D("0.001"), FILTERS) == D("0.530")
