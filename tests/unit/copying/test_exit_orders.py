"""An exit signal through the score and size steps (copytrader.copying.exit_orders): it is never held back by the
copy filters, it checks the position is still the one the rule saw, and it sells the signal's shares at its limit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from copytrader.copying.exit_orders import decide_exit, size_exit
from copytrader.model import Decision, OrderType, Side
from copytrader.model.exits import ExitReason, ExitSignal
from copytrader.reasons import Reason
from tests.support import builders as b

NOW = b.T0
# a market ending in an hour: a copy would be skipped as near resolution; an exit is not
MARKET = b.market("ex", end_time=NOW + timedelta(hours=1), taker_fee_rate=D(0))
TOKEN = MARKET.tokens[0].token_id
LOT = f"{TOKEN}#20261101T120000000000Z"
# a 0.20 spread: far beyond the copy filters' 0.05
BOOK = b.book(TOKEN, bids=[("0.30", "60"), ("0.28", "1000")], asks=[("0.50", "100")])


def signal(**overrides: object) -> ExitSignal:
    fields: dict[str, object] = {
        "account": "paper",
        "token_id": TOKEN,
        "condition_id": MARKET.condition_id,
        "lot": LOT,
        "reason": ExitReason.STOP_LOSS,
        "trigger": "stop 0.34",
        "position_shares": D("100.5"),
        "min_price": D("0.29"),
        "observed_at": NOW,
    }
    fields.update(overrides)
    return ExitSignal.create(**fields)


def decide(s: ExitSignal, held: tuple[D, str | None] = (D("100.5"), LOT)):
    return decide_exit(s, now=NOW, held=held, load_market=lambda c: MARKET, load_book=lambda t: BOOK)


def test_a_stop_sells_all_it_holds_at_its_limit_whatever_the_spread_and_the_end_date() -> None:
    decided = decide(signal())
    assert decided.action is Decision.COPY and decided.sell_shares == D("100.5")
    order = size_exit(decided, order_type=OrderType.FAK)
    assert (order.action, order.side, order.shares, order.limit_price) == ("PLACE", Side.SELL, D("100.5"), D("0.29"))
    assert order.idempotency_key == signal().key and order.max_cost == 0
    # the plan within 0.29: 60 at 0.30, then nothing at 0.28 (below the limit): average 0.30
    assert order.expected_avg_price == D("0.30")


def test_a_culled_whales_exit_sells_its_part_and_names_it() -> None:
    culled = signal(reason=ExitReason.WHALE_CULLED, trigger="culled w", shares=D("25.129"), whale=b.wallet("w"))
    order = size_exit(decide(culled), order_type=OrderType.FAK)
    assert (order.shares, order.wallet) == (D("25.12"), b.wallet("w"))  # floored to the 0.01 grid


def test_a_fraction_sells_that_fraction_of_what_is_held() -> None:
    order = size_exit(decide(signal(fraction=D("0.25"))), order_type=OrderType.FAK)
    assert order.shares == D("25.12")  # 100.5 x 0.25 = 25.125, floored


def test_a_position_sold_or_changed_since_the_rule_fired_is_skipped() -> None:
    gone = decide(signal(), held=(D(0), None))
    assert (gone.action, gone.reason) == (Decision.SKIP, Reason.POSITION_GONE)
    reduced = decide(signal(), held=(D(40), LOT))
    assert reduced.reason is Reason.POSITION_GONE and "40" in reduced.detail
    relot = decide(signal(), held=(D("100.5"), f"{TOKEN}#20261102T000000000000Z"))
    assert relot.reason is Reason.POSITION_GONE


def test_a_closed_market_no_bids_or_a_dust_exit_are_skipped_with_their_reasons() -> None:
    closed = MARKET.model_copy(update={"closed": True})
    s = signal()
    assert decide_exit(s, now=NOW, held=(D("100.5"), LOT), load_market=lambda c: closed,
                       load_book=lambda t: BOOK).reason is Reason.MARKET_CLOSED  # fmt: skip
    no_bids = b.book(TOKEN, bids=[], asks=[("0.5", "10")])
    assert decide_exit(s, now=NOW, held=(D("100.5"), LOT), load_market=lambda c: MARKET,
                       load_book=lambda t: no_bids).reason is Reason.NO_BOOK  # fmt: skip
    dust = size_exit(decide(signal(shares=D("4.99"))), order_type=OrderType.FAK)
    assert (dust.action, dust.reason) == ("SKIP", Reason.BELOW_MIN_SIZE)
