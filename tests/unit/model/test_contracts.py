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


OUT_OF_RANGE_TIMES = [
    -1,  # before 1970
    -(10**12),
    "-5",
    1e300,  # OverflowError in the time conversion
    10**30,
    2**63,
    10**400,
    "99999999999999999999",  # OSError (errno 75) in the time conversion
    "1e30",
    253_402_300_799_001,  # milliseconds past 9999-12-31T23:59:59
    float("inf"),
    float("-inf"),
    "inf",
    float("nan"),
    "nan",
    "9999-12-31T23:59:59-05:00",  # OverflowError converting to UTC
    "0001-01-01T00:00:00+05:00",
]


@pytest.mark.parametrize("value", OUT_OF_RANGE_TIMES)
@pytest.mark.parametrize("field", ["timestamp", "detected_at"])
def test_a_trade_time_out_of_range_is_a_validation_error_naming_the_field_not_a_crash(field, value):
    fields = b.trade(b.market()).model_dump()
    fields[field] = value
    with pytest.raises(ValidationError) as caught:
        WhaleTrade.model_validate(fields)
    error = caught.value.errors()[0]
    assert error["loc"] == (field,)
    assert "out of range" in error["msg"] or "not a finite number" in error["msg"]


def test_epoch_numbers_in_range_are_seconds_or_milliseconds():
    fields = b.trade(b.market()).model_dump()
    for value, expected in (
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_793_620_800, datetime(2026, 11, 2, 12, tzinfo=UTC)),
        ("1793620800", datetime(2026, 11, 2, 12, tzinfo=UTC)),
        (1_793_620_800_000, datetime(2026, 11, 2, 12, tzinfo=UTC)),
        (1_793_620_800.5, datetime(2026, 11, 2, 12, 0, 0, 500000, tzinfo=UTC)),
        (" 1793620800.5 ", datetime(2026, 11, 2, 12, 0, 0, 500000, tzinfo=UTC)),
        (253_402_300_799_000, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),  # the last second, in ms
    ):
        assert WhaleTrade.model_validate({**fields, "timestamp": value}).timestamp == expected


@pytest.mark.parametrize("fee", [1e28, "1e400", 10**15])
def test_an_amount_beyond_any_trade_is_a_validation_error_not_a_decimal_crash(fee):
    # 1e28 has more digits than Decimal's context: quantizing it raised decimal.InvalidOperation in the score step
    body = {**b.trade(b.market()).model_dump(mode="json"), "fee": fee}
    with pytest.raises(ValidationError, match="not a usable amount"):
        WhaleTrade.model_validate(body)
