"""PaperVenue rules and the exactly-once protocol, with an in-memory ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.execution.paper import PaperVenue
from copytrader.execution.protocol import execute_once
from copytrader.execution.venue import VenueAmbiguous, VenueRejected
from copytrader.model import ExecutionResult, ExecutionStatus, OrderType, Side, SizedOrder
from copytrader.reasons import Reason
from tests.support import builders as b

D = Decimal
TOKEN = b.token_id("t")
BOOK = b.book(TOKEN, bids=[("0.48", "100")], asks=[("0.50", "10"), ("0.52", "10"), ("0.60", "100")])


def order(**overrides):
    fields = {
        "action": "PLACE",
        "idempotency_key": "k1",
        "token_id": TOKEN,
        "condition_id": b.hex_id("c", 32),
        "side": Side.BUY,
        "order_type": OrderType.FAK,
        "shares": D(15),
        "limit_price": D("0.52"),
        "tick_size": D("0.01"),
        "min_order_size": D(5),
        "taker_fee_rate": D("0.05"),
        "max_cost": D(10),
    }
    fields.update(overrides)
    return SizedOrder(**fields)


def test_fak_fills_what_the_book_holds_within_the_limit():
    placed = PaperVenue(lambda t: BOOK).place(order(shares=D(25)))
    assert placed.status is ExecutionStatus.PARTIAL and placed.filled_shares == D(20)
    # fees per fill: 10 x .05 x .5 x .5 = 0.125; 10 x .05 x .52 x .48 = 0.1248
    assert placed.fee == D("0.2498")


def test_fok_is_all_or_nothing():
    assert (
        PaperVenue(lambda t: BOOK).place(order(shares=D(25), order_type=OrderType.FOK)).status
        is ExecutionStatus.UNFILLED
    )
    assert (
        PaperVenue(lambda t: BOOK).place(order(shares=D(20), order_type=OrderType.FOK)).status is ExecutionStatus.FILLED
    )


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"limit_price": D("0.525")}, "INVALID_ORDER_MIN_TICK_SIZE"),
        ({"shares": D("4.99")}, "INVALID_ORDER_MIN_SIZE"),
    ],
)
def test_venue_rules_reject_like_the_clob(fields, code):
    with pytest.raises(VenueRejected) as caught:
        PaperVenue(lambda t: BOOK).place(order(**fields))
    assert caught.value.code == code


class MemoryLedger:
    def __init__(self):
        self.entries = {}
        self.unknown = []

    def begin(self, o, reserved, now):
        if o.idempotency_key in self.entries:
            return self.entries[o.idempotency_key].model_copy(update={"duplicate": True})
        self.entries[o.idempotency_key] = ExecutionResult(
            idempotency_key=o.idempotency_key, status=ExecutionStatus.PENDING, executed_at=now
        )
        return None

    def mark_unknown(self, key, detail, now):
        self.unknown.append((key, detail))
        entry = self.entries[key]
        self.entries[key] = entry.model_copy(update={"status": ExecutionStatus.UNKNOWN})
        return True

    def record(self, o, result, reserved, now):
        assert self.entries[o.idempotency_key].status is ExecutionStatus.PENDING
        self.entries[o.idempotency_key] = result


class CountingVenue:
    name = "counting"

    def __init__(self, outcome):
        self.outcome = outcome
        self.calls = 0

    def place(self, o):
        self.calls += 1
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome(o)


def run(venue, ledger, o=None):
    clock = lambda: b.T0 + timedelta(seconds=1)  # noqa: E731
    return execute_once(o or order(), D(10), ledger=ledger, venue=venue, clock=clock)


def test_redelivery_returns_the_first_result_without_a_second_call():
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place)
    first = run(venue, ledger)
    again = [run(venue, ledger) for _ in range(3)]
    assert venue.calls == 1
    assert first.status is ExecutionStatus.FILLED and first.filled_shares == D(15)
    assert all(r.duplicate and r.filled_shares == first.filled_shares for r in again)
    assert first.cash_amount == first.filled_shares * first.avg_price + first.fee


@pytest.mark.parametrize(
    "error", [VenueAmbiguous("read timeout after 5s"), TimeoutError("socket"), RuntimeError("bug")]
)
def test_ambiguous_outcomes_become_unknown_and_are_never_resent(error):
    ledger, venue = MemoryLedger(), CountingVenue(error)
    result = run(venue, ledger)
    assert result.status is ExecutionStatus.UNKNOWN and result.reason is Reason.VENUE_AMBIGUOUS
    retried = run(venue, ledger)
    assert venue.calls == 1  # the retry saw the UNKNOWN entry and placed nothing
    assert retried.status is ExecutionStatus.UNKNOWN and retried.duplicate


def test_an_unfinished_earlier_attempt_is_treated_as_ambiguous():
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place)
    ledger.begin(order(), D(10), b.T0)  # an attempt that died after begin
    result = run(venue, ledger)
    assert venue.calls == 0
    assert result.status is ExecutionStatus.UNKNOWN and ledger.unknown


def test_rejection_is_recorded_as_definite():
    ledger, venue = MemoryLedger(), CountingVenue(VenueRejected("INVALID_ORDER_NOT_ENOUGH_BALANCE"))
    result = run(venue, ledger)
    assert result.status is ExecutionStatus.REJECTED and result.reason is Reason.VENUE_REJECTED
    assert ledger.entries["k1"].status is ExecutionStatus.REJECTED
