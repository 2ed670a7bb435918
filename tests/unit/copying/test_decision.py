from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from copytrader.copying.conflicts import LONG, SHORT, Stance, conflict_group
from copytrader.copying.decision import MAX_FILL_AHEAD, decide, drift_limit_price, stance_to_record
from copytrader.model import Decision, Side, WhaleStatus
from copytrader.reasons import Reason
from copytrader.settings import FilterSettings, SizingSettings
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

    def decide(self, trade, now=None, filters=FILTERS, **loaders):
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
            **loaders,
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


def test_a_fill_from_the_future_is_an_invalid_trade_before_any_read():
    # a valid time far ahead of our clock (year 9999 would overflow the stance's expiry): malformed, not early
    w = FullWorld()
    trade = b.trade(w.market, at=datetime(9999, 12, 31, 23, tzinfo=UTC))
    signal = w.decide(trade, now=b.T0)
    assert signal.reason is Reason.INVALID_TRADE and "ahead of our clock" in signal.detail
    assert w.loaded == [] and stance_to_record(signal) is None
    # a block time a little ahead of our clock is normal
    assert w.decide(b.trade(w.market, at=b.T0 + MAX_FILL_AHEAD), now=b.T0).action is Decision.COPY
    ahead = w.decide(b.trade(w.market, at=b.T0 + MAX_FILL_AHEAD + timedelta(seconds=1)), now=b.T0)
    assert ahead.reason is Reason.INVALID_TRADE and "301s ahead" in ahead.detail


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


def test_a_whale_sell_is_mirrored_on_its_part_only():
    w = World()
    w.held[w.yes] = D("20")
    sell = b.trade(w.market, side="SELL", price="0.49")
    signal = w.decide(sell, load_mirror=lambda trade, held: held / 4)  # a quarter of its part
    assert signal.action is Decision.COPY and (signal.held_shares, signal.sell_shares) == (D(20), D(5))
    assert w.decide(sell, load_mirror=lambda trade, held: D(0)).reason is Reason.NO_WHALE_PART
    below = w.decide(sell, load_mirror=lambda trade, held: D("4.99"))  # under the market minimum of 5
    assert below.reason is Reason.MIN_SIZE_UNREACHABLE


def test_relative_drift_cap_binds_on_cheap_contracts():
    # 0.03 absolute would allow 0.10 -> 0.13; 10% relative allows only 0.11
    assert drift_limit_price(Side.BUY, D("0.10"), D("0.01"), FILTERS) == D("0.11")
    assert drift_limit_price(Side.BUY, D("0.50"), D("0.01"), FILTERS) == D("0.53")
    assert drift_limit_price(Side.SELL, D("0.50"), D("0.01"), FILTERS) == D("0.47")
    assert drift_limit_price(Side.BUY, D("0.985"), D("0.01"), FILTERS) == D("0.99")
    assert drift_limit_price(Side.BUY, D("0.5"), D("0.001"), FILTERS) == D("0.530")


# ---------------------------------------------------------------- whale quality, min size, conflicts, room


class FullWorld(World):
    """World with the sizing settings, a stance loader and a room loader (check order recorded in `loaded`)."""

    def __init__(self):
        super().__init__()
        self.stances = []
        self.room = None

    def decide(self, trade, now=None, filters=FILTERS, sizing=None):
        def stances(group):
            self.loaded.append("stances")
            return [s for s in self.stances if s.group == group]

        def room(market, t):
            self.loaded.append("room")
            return self.room

        return super().decide(
            trade, now, filters, sizing=sizing or SizingSettings(), load_stances=stances, load_room=room
        )


def test_checks_run_cheap_first_and_a_copy_carries_the_room():
    w = FullWorld()
    w.room = D("250")
    signal = w.decide(b.trade(w.market))
    assert signal.action is Decision.COPY and signal.room == D("250")
    assert w.loaded == ["whale", "market", "stances", "room", "book"]


def test_whale_score_lower_bound_must_be_above_the_minimum_when_scored():
    w = FullWorld()
    w.whales[b.wallet("w1")] = b.whale("w1", status=WhaleStatus.PROBATION, score_ci_low=D("0"))
    signal = w.decide(b.trade(w.market))
    assert signal.reason is Reason.WHALE_SCORE_TOO_LOW and "probation" in signal.detail
    assert w.loaded == ["whale"]
    w.whales[b.wallet("w1")] = b.whale("w1", status=WhaleStatus.PROBATION, score_ci_low=D("0.01"))
    assert w.decide(b.trade(w.market)).action is Decision.COPY
    strict = FilterSettings(min_score_ci_low=D("0.02"))
    assert w.decide(b.trade(w.market), filters=strict).reason is Reason.WHALE_SCORE_TOO_LOW


def test_market_minimum_must_fit_the_stake_ceiling_before_any_book_is_fetched():
    w = FullWorld()
    # fixed 2.60 pUSD: 5 shares at the limit 0.53 cost 2.65 + fee 5 x 0.04 x 0.53 x 0.47 = 2.69982 > 2.60
    sizing = SizingSettings(mode="fixed", fixed_notional=D("2.60"))
    signal = w.decide(b.trade(w.market), sizing=sizing)
    assert signal.reason is Reason.MIN_SIZE_UNREACHABLE and "2.6998" in signal.detail
    assert "book" not in w.loaded and "stances" not in w.loaded
    assert w.decide(b.trade(w.market), sizing=SizingSettings(mode="fixed", fixed_notional=D("2.70"))).action is (
        Decision.COPY
    )
    # probation halves the fixed stake: 5 pUSD becomes 2.50 < 2.69982
    w.whales[b.wallet("w1")] = b.whale("w1", status=WhaleStatus.PROBATION)
    halved = w.decide(b.trade(w.market), sizing=SizingSettings(mode="fixed", fixed_notional=D("5")))
    assert halved.reason is Reason.MIN_SIZE_UNREACHABLE


def test_book_must_hold_the_market_minimum_within_the_limit():
    w = FullWorld()
    filters = FilterSettings(min_book_depth=D(0))
    w.books[w.yes] = b.book(w.yes, bids=[("0.49", "500")], asks=[("0.50", "3"), ("0.54", "500")])
    signal = w.decide(b.trade(w.market), filters=filters)
    assert signal.reason is Reason.MIN_SIZE_UNREACHABLE and "3 shares within 0.53" in signal.detail


def test_a_sell_of_less_than_the_market_minimum_is_unreachable():
    w = FullWorld()
    w.held[w.yes] = D("4.999")
    signal = w.decide(b.trade(w.market, side="SELL", price="0.49"))
    assert signal.reason is Reason.MIN_SIZE_UNREACHABLE
    assert "stances" not in w.loaded and "room" not in w.loaded  # exits are never held back by conflicts or caps


def test_an_opposing_whale_stops_the_copy_under_the_default_policy():
    w = FullWorld()
    w.stances.append(
        Stance(
            group=conflict_group(w.market),
            condition_id=w.market.condition_id,
            wallet=b.wallet("rival"),
            direction=SHORT,
            score=D("2"),
            at=b.T0,
        )
    )
    signal = w.decide(b.trade(w.market))
    assert signal.reason is Reason.CONFLICTING_WHALES and signal.market is not None
    assert "room" not in w.loaded and "book" not in w.loaded
    # follow_higher: the rival scores 2 > 1.5, so this whale loses
    follow = FilterSettings(conflict_policy="follow_higher")
    assert w.decide(b.trade(w.market), filters=follow).reason is Reason.CONFLICT_LOWER_SCORE


def test_no_room_under_our_caps_is_a_skip_before_the_book():
    w = FullWorld()
    # the market minimum's worst case: 5 x 0.53 + 5 x 0.04 x 0.5 x 0.5 = 2.70 pUSD
    w.room = D("2.69")
    signal = w.decide(b.trade(w.market))
    assert signal.reason is Reason.EXPOSURE_AT_CAP and signal.room == D("2.69") and "book" not in w.loaded
    w.room = D("2.70")
    assert w.decide(b.trade(w.market)).action is Decision.COPY


def test_stance_to_record_needs_a_known_market_and_a_whale_that_passed():
    w = FullWorld()
    w.books.pop(w.yes)
    skipped = w.decide(b.trade(w.market))  # skipped for the book: the stance still counts
    stance = stance_to_record(skipped)
    assert skipped.reason is Reason.NO_BOOK and stance is not None and stance.direction == LONG
    assert stance_to_record(w.decide(b.trade(w.market, "stranger"))) is None
    w.whales[b.wallet("w1")] = b.whale("w1", score_ci_low=D("-0.1"))
    assert stance_to_record(w.decide(b.trade(w.market))) is None


def _neg_risk_member(label: str):
    return b.market(label, neg_risk=True, neg_risk_market_id="0xgroup", event_id="e")


def _decide_in(market, trade, *, load_stances, record_stance):
    books = {
        t.token_id: b.book(t.token_id, bids=[("0.49", "500")], asks=[("0.50", "500"), ("0.51", "500")])
        for t in market.tokens
    }
    whales = {b.wallet("a"): b.whale("a"), b.wallet("b"): b.whale("b")}
    return decide(
        trade,
        now=trade.detected_at,
        filters=FILTERS,
        load_whale=whales.get,
        load_market=lambda c: market if c == market.condition_id else None,
        load_book=books.get,
        load_held_shares=lambda t: D(0),
        sizing=SizingSettings(),
        load_stances=load_stances,
        record_stance=record_stance,
    )


def test_two_whales_on_opposite_sides_of_one_market_at_once_are_not_both_copied():
    # GIVEN whale a buying YES and whale b buying NO on one member of a neg-risk group, in two score executions
    # that interleave: b runs entirely while a is reading the group
    x = _neg_risk_member("x")
    store: list[Stance] = []
    outcomes: dict[str, object] = {}

    def read(group: str) -> list[Stance]:
        return [s for s in store if s.group == group]

    def read_while_b_runs(group: str) -> list[Stance]:
        seen = read(group)  # a's read reaches the table first ...
        no_x = b.trade(x, "b", outcome_index=1)
        outcomes["b"] = _decide_in(x, no_x, load_stances=read, record_stance=store.append)
        return seen  # ... and returns before b's stance was written

    # WHEN a records its stance before reading (write-then-read)
    outcomes["a"] = _decide_in(x, b.trade(x, "a"), load_stances=read_while_b_runs, record_stance=store.append)

    # THEN b's read saw a's stance: at most one of the two is copied
    assert outcomes["a"].action is Decision.COPY
    assert outcomes["b"].action is Decision.SKIP and outcomes["b"].reason is Reason.CONFLICTING_WHALES
    assert {s.wallet for s in store} == {b.wallet("a"), b.wallet("b")}


def test_two_whales_long_on_two_members_of_one_neg_risk_group_are_both_copied():
    # YES on X and YES on Y both say "the rest of the field is overpriced": they agree, whatever the order
    x, y = _neg_risk_member("x"), _neg_risk_member("y")
    store: list[Stance] = []

    def read(group: str) -> list[Stance]:
        return [s for s in store if s.group == group]

    first = _decide_in(x, b.trade(x, "a"), load_stances=read, record_stance=store.append)
    second = _decide_in(y, b.trade(y, "b"), load_stances=read, record_stance=store.append)
    assert (first.action, second.action) == (Decision.COPY, Decision.COPY)
    assert {s.condition_id for s in store} == {x.condition_id, y.condition_id}
