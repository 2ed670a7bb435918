from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from copytrader.model import OrderBook, Side, Source, WhaleTrade, average_price, trade_key
from tests.support import builders as b
from tests.support.handbook import load_json


def _rtds_trade() -> WhaleTrade:
    frame = load_json("rtds-activity-frame-sample/rtds_activity_trades_frame_2026-08-19.json")
    p = frame["payload"]
    return WhaleTrade.create(
        wallet=p["proxyWallet"],
        side=p["side"],
        token_id=p["asset"],
        condition_id=p["conditionId"],
        outcome=p["outcome"],
        outcome_index=p["outcomeIndex"],
        price=p["price"],
        size=p["size"],
        timestamp=p["timestamp"],
        tx_hash=p["transactionHash"],
        source=Source.RTDS,
        detected_at=frame["timestamp"],
    )


def test_real_rtds_trade_normalises_checksummed_wallet_and_float_amounts():
    trade = _rtds_trade()
    assert trade.wallet == "0x510f4963b66b1b18505faab74b0bb943d1dda43c"
    assert trade.price == Decimal("0.26") and trade.size == Decimal("2.7027")
    assert trade.timestamp == datetime.fromtimestamp(1787102287, tz=UTC)
    # detected_at came in milliseconds (RTDS envelope) and is read as such
    assert trade.detected_at == datetime.fromtimestamp(1787102287.053, tz=UTC)


def test_key_is_source_independent_and_case_insensitive():
    trade = _rtds_trade()
    same = trade.model_copy(update={"source": Source.CHAIN}).model_dump()
    same["wallet"] = same["wallet"].upper().replace("0X", "0x")
    assert WhaleTrade.create(**{k: v for k, v in same.items() if k != "key"}).key == trade.key
    assert trade.key == trade_key(trade.tx_hash.upper().replace("0X", "0x"), trade.wallet, trade.token_id, "buy")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("price", "0", "greater than 0"),
        ("price", "1", "less than 1"),
        ("size", "0", "greater than 0"),
        ("size", "-3", "greater than 0"),
        ("wallet", "0x123", "0x address"),
        ("token_id", "0xabc", "token id"),
        ("condition_id", "0x12", "32-byte hash"),
        ("side", "HOLD", "BUY"),
        ("price", "nan", "finite"),
    ],
)
def test_bad_trades_are_rejected_with_the_field_named(field, value, message):
    fields = b.trade(b.market()).model_dump()
    fields.pop("key")
    fields[field] = value
    with pytest.raises((ValidationError, ValueError)) as caught:
        WhaleTrade.create(**fields)
    assert message in str(caught.value)


def test_a_forged_key_is_refused():
    fields = b.trade(b.market()).model_dump()
    fields["key"] = "0" * 32
    with pytest.raises(ValidationError, match="key does not match"):
        WhaleTrade.model_validate(fields)


def test_real_captured_book_is_sorted_best_first():
    # GIVEN a real 2026 market-channel book (levels sent worst-first)
    payload = load_json("nautilus-polymarket-fixtures/newer_commits/ws_book_snapshot_captured.json")
    book = OrderBook.from_clob(payload)
    # THEN bids descend and asks ascend from the touch, and the spread is the real one
    assert book.best_bid == Decimal(payload["bids"][-1]["price"])
    assert book.best_ask == Decimal(payload["asks"][-1]["price"])
    assert book.best_bid < book.best_ask
    assert [lv.price for lv in book.bids] == sorted((lv.price for lv in book.bids), reverse=True)
    assert len(book.asks) == len(payload["asks"])


def test_book_walk_stops_at_the_limit_and_averages_exactly():
    m = b.market()
    book = b.book(m.tokens[0].token_id, bids=[("0.48", "10")], asks=[("0.50", "100"), ("0.52", "50"), ("0.60", "500")])
    fills = book.walk(Side.BUY, Decimal(200), Decimal("0.55"))
    assert [(f.price, f.shares) for f in fills] == [(Decimal("0.50"), Decimal(100)), (Decimal("0.52"), Decimal(50))]
    assert average_price(fills) == (Decimal(50) + Decimal(26)) / 150
    assert book.depth(Side.BUY, Decimal("0.52")) == 150
    sells = book.walk(Side.SELL, Decimal(5), None)
    assert sells[0].price == Decimal("0.48") and sells[0].shares == 5


def test_unsorted_book_is_refused():
    with pytest.raises(ValidationError, match="asks must be sorted"):
        b.book(b.market().tokens[0].token_id, bids=[], asks=[("0.6", "1"), ("0.5", "1")])


def test_clob_round_trip_keeps_levels():
    m = b.market()
    book = b.book(m.tokens[0].token_id, bids=[("0.49", "3"), ("0.48", "4")], asks=[("0.51", "5")])
    again = OrderBook.from_clob(book.to_clob(m.condition_id))
    assert again.bids == book.bids and again.asks == book.asks
    assert book.to_clob()["bids"][0]["price"] == "0.48"  # worst first, as the CLOB sends them


@pytest.mark.parametrize("epoch", [1e300, -1e300, 10**400, 10**22, -(10**15), float("nan")])
def test_an_absurd_epoch_is_a_validation_error_not_a_crash(epoch):
    # issue 10, class 10: datetime.fromtimestamp raises OverflowError or OSError (not ValueError) out of its range,
    # which escaped the model and crashed the score step instead of making the message an invalid_trade
    body = b.trade(b.market()).model_dump(mode="json")
    body["timestamp"] = epoch
    with pytest.raises(ValidationError, match="timestamp"):
        WhaleTrade.model_validate(body)
