"""PaperVenue rules and the exactly-once protocol, with an in-memory ledger."""

from datetime import timedelta
from decimal import Decimal

import pytest

from copytrader.errors import VenueAmbiguous, VenueRejected
from copytrader.execution.paper import PaperVenue
from copytrader.execution.protocol import LedgerEntry, execute_once
from copytrader.execution.venue import PreparedOrder, VenueOrder
from copytrader.model import ExecutionResult, ExecutionStatus, Fill, OrderType
from copytrader.reasons import Reason
from tests.support import builders as b

D = Decimal
TOKEN = b.token_id("t")
BOOK = b.book(TOKEN, bids=[("0.48", "100")], asks=[("0.50", "10"), ("0.52", "10"), ("0.60", "100")])


def order(**overrides):
    """A FAK BUY of 15 shares of TOKEN up to 0.52 at a 5 % fee, reserving 10 pUSD."""
    fields = {
        "token_id": TOKEN,
        "order_type": OrderType.FAK,
        "shares": D(15),
        "limit_price": D("0.52"),
        "max_cost": D(10),
        "taker_fee_rate": D("0.05"),
    }
    return b.sized_order("k1", **{**fields, **overrides})


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
        self.created = {}
        self.venue_ids = {}
        self.signed = {}
        self.unknown = []
        self.recorded = []

    def begin(self, o, reserved, now, venue_order_id=None, signed_order=None):
        if o.idempotency_key in self.entries:
            return self.entries[o.idempotency_key].model_copy(update={"duplicate": True})
        self.entries[o.idempotency_key] = ExecutionResult(
            idempotency_key=o.idempotency_key, status=ExecutionStatus.PENDING, executed_at=now
        )
        self.created[o.idempotency_key] = now
        self.venue_ids[o.idempotency_key] = venue_order_id
        self.signed[o.idempotency_key] = signed_order
        return None

    def entry(self, key):
        if key not in self.entries:
            return None
        result = self.entries[key]
        return LedgerEntry(key, result.status, self.venue_ids[key], self.created[key], result, self.signed[key])

    def mark_unknown(self, key, detail, now):
        self.unknown.append((key, detail))
        entry = self.entries[key]
        self.entries[key] = entry.model_copy(update={"status": ExecutionStatus.UNKNOWN})
        return True

    def record(self, o, result, reserved, now, stop_at_entry=None):
        assert self.entries[o.idempotency_key].status in (ExecutionStatus.PENDING, ExecutionStatus.UNKNOWN)
        self.entries[o.idempotency_key] = result
        self.recorded.append(result)


class CountingVenue:
    """Counts sends; `outcome` is a function of the order or an exception; `held` is what lookup finds."""

    name = "counting"

    def __init__(self, outcome, held=None):
        self.outcome = outcome
        self.held = held
        self.calls = 0
        self.lookups = 0
        self.sent = []  # (venue order id, signed order) of every send

    def prepare(self, o, signed_at):
        return PreparedOrder(f"v-{o.idempotency_key}", signed_at, f"signed-{o.idempotency_key}-{signed_at:%S.%f}")

    def place(self, o, prepared):
        self.calls += 1
        self.sent.append((prepared.venue_order_id, prepared.payload))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome(o)

    def lookup(self, o, venue_order_id, signed_at):
        self.lookups += 1
        if isinstance(self.held, Exception):
            raise self.held
        return self.held


def run(venue, ledger, o=None, at=1, reconcile_after=timedelta(seconds=120)):
    clock = lambda: b.T0 + timedelta(seconds=at)  # noqa: E731
    return execute_once(o or order(), D(10), ledger=ledger, venue=venue, clock=clock, reconcile_after=reconcile_after)


def test_redelivery_returns_the_first_result_without_a_second_call():
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place)
    first = run(venue, ledger)
    again = [run(venue, ledger) for _ in range(3)]
    assert venue.calls == 1 and venue.lookups == 0
    assert first.status is ExecutionStatus.FILLED and first.filled_shares == D(15)
    assert all(r.duplicate and r.filled_shares == first.filled_shares for r in again)
    assert first.cash_amount == first.filled_shares * first.avg_price + first.fee
    assert ledger.venue_ids["k1"] == "v-k1"  # the venue id was in the entry before the send


@pytest.mark.parametrize(
    "error", [VenueAmbiguous("read timeout after 5s"), TimeoutError("socket"), RuntimeError("bug")]
)
def test_ambiguous_outcomes_become_unknown_and_are_never_resent(error):
    ledger, venue = MemoryLedger(), CountingVenue(error)  # the venue holds nothing, the entry is young
    result = run(venue, ledger)
    assert result.status is ExecutionStatus.UNKNOWN and result.reason is Reason.VENUE_AMBIGUOUS
    retried = run(venue, ledger, at=30)
    assert venue.calls == 1 and venue.lookups == 1  # the retry looked the order up and sent nothing
    assert retried.status is ExecutionStatus.UNKNOWN and retried.duplicate
    assert "not at the venue yet" in retried.detail


def test_unknown_order_found_filled_at_the_venue_is_recorded_by_the_redelivery():
    # GIVEN a send that timed out although the venue filled the order
    filled = PaperVenue(lambda t: BOOK).place(order(), PreparedOrder("v-k1", b.T0))
    ledger, venue = MemoryLedger(), CountingVenue(VenueAmbiguous("read timeout"), held=filled)
    assert run(venue, ledger).status is ExecutionStatus.UNKNOWN
    # WHEN the message is redelivered
    again = run(venue, ledger, at=5)
    # THEN the fill is recorded from the venue's answer, with no second send
    assert venue.calls == 1 and venue.lookups == 1
    assert again.status is ExecutionStatus.FILLED and again.duplicate
    assert again.filled_shares == D(15) and again.fee == filled.fee
    assert ledger.entries["k1"].status is ExecutionStatus.FILLED and len(ledger.recorded) == 1
    assert run(venue, ledger, at=6).status is ExecutionStatus.FILLED and venue.lookups == 1


def test_an_order_the_venue_never_saw_is_not_filled_only_after_the_grace_period():
    ledger, venue = MemoryLedger(), CountingVenue(VenueAmbiguous("HTTP 502"), held=None)
    run(venue, ledger, at=0)
    assert run(venue, ledger, at=60).status is ExecutionStatus.UNKNOWN  # a request may still be in flight
    late = run(venue, ledger, at=121)
    assert late.status is ExecutionStatus.UNFILLED and late.reason is Reason.NEVER_PLACED
    assert "not re-placed" in late.detail and late.filled_shares == 0
    assert venue.calls == 1 and ledger.entries["k1"].status is ExecutionStatus.UNFILLED


def test_an_order_still_working_at_the_venue_stays_unknown_with_its_reservation():
    working = VenueOrder("v-k1", ExecutionStatus.UNKNOWN, (), D(0), detail="working at the venue (live)")
    ledger, venue = MemoryLedger(), CountingVenue(lambda o: working, held=working)
    first = run(venue, ledger, o=order(order_type=OrderType.GTD))
    assert first.status is ExecutionStatus.UNKNOWN and first.venue_order_id == "v-k1"
    assert "working" in first.detail and not ledger.recorded
    assert run(venue, ledger, o=order(order_type=OrderType.GTD), at=500).status is ExecutionStatus.UNKNOWN
    assert venue.calls == 1


def test_a_failed_lookup_leaves_the_entry_unknown():
    ledger, venue = MemoryLedger(), CountingVenue(VenueAmbiguous("timeout"), held=VenueAmbiguous("HTTP 503"))
    run(venue, ledger)
    again = run(venue, ledger, at=500)
    assert again.status is ExecutionStatus.UNKNOWN and "lookup failed" in again.detail and not ledger.recorded


def test_an_unfinished_earlier_attempt_is_reconciled_not_resent():
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place, held=None)
    ledger.begin(order(), D(10), b.T0, venue_order_id="v-k1")  # an attempt that died after begin
    result = run(venue, ledger)
    assert venue.calls == 0 and venue.lookups == 1
    assert result.status is ExecutionStatus.UNKNOWN and ledger.unknown


def test_an_unfinished_earlier_attempt_resends_its_stored_order_while_the_copy_is_fresh():
    # GIVEN an attempt that died after writing its entry (with the signed order) and before sending it
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place, held=None)
    ledger.begin(order(), D(10), b.T0, venue_order_id="v-k1", signed_order="the-signed-order")

    # WHEN the message is redelivered 30 s later (under reconcile_after / 2 = 60 s)
    result = run(venue, ledger, at=30)

    # THEN exactly the stored order went out (not the one the redelivery prepared) and its fill is settled
    assert venue.sent == [("v-k1", "the-signed-order")] and venue.lookups == 1
    assert result.status is ExecutionStatus.FILLED and result.duplicate and result.filled_shares == D(15)
    assert ledger.entries["k1"].status is ExecutionStatus.FILLED and len(ledger.recorded) == 1


@pytest.mark.parametrize(
    "outcome",
    [
        lambda o: VenueOrder("v-k1", ExecutionStatus.UNFILLED, (), D(0), detail="killed"),
        VenueRejected("INVALID_ORDER_NOT_ENOUGH_BALANCE"),
        VenueAmbiguous("read timeout"),
    ],
)
def test_a_resend_that_does_not_fill_leaves_the_entry_unknown_for_the_lookup_by_id(outcome):
    # a first attempt may still be in flight: only the venue's record of the order id may conclude
    ledger, venue = MemoryLedger(), CountingVenue(outcome, held=None)
    ledger.begin(order(), D(10), b.T0, venue_order_id="v-k1", signed_order="the-signed-order")
    result = run(venue, ledger, at=30)
    assert venue.calls == 1 and result.status is ExecutionStatus.UNKNOWN and not ledger.recorded
    assert "re-sent the stored order" in result.detail
    late = run(venue, ledger, at=121)  # UNKNOWN now, not PENDING: looked up, never sent again
    assert venue.calls == 1 and late.reason is Reason.NEVER_PLACED


def test_a_stored_order_is_not_resent_once_the_copy_is_half_way_to_never_placed():
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place, held=None)
    ledger.begin(order(), D(10), b.T0, venue_order_id="v-k1", signed_order="the-signed-order")
    assert run(venue, ledger, at=60).status is ExecutionStatus.UNKNOWN and venue.calls == 0


def test_a_resting_order_whose_copy_went_stale_is_cancelled_and_settled_from_what_filled():
    class RestingVenue(CountingVenue):
        def __init__(self, outcome, held=None):
            super().__init__(outcome, held)
            self.cancelled = []

        def cancel(self, o, venue_order_id):
            self.cancelled.append(venue_order_id)
            self.held = VenueOrder("v-k1", ExecutionStatus.PARTIAL, (Fill(price=D("0.50"), shares=D(10)),), D(0))

    working = VenueOrder("v-k1", ExecutionStatus.UNKNOWN, (), D(0), detail="working at the venue (live)")
    ledger, venue = MemoryLedger(), RestingVenue(lambda o: working, held=working)
    o = order(order_type=OrderType.GTC, shares=D(30), limit_price=D("0.50"))
    assert run(venue, ledger, o=o).status is ExecutionStatus.UNKNOWN
    assert run(venue, ledger, o=o, at=119).status is ExecutionStatus.UNKNOWN and venue.cancelled == []  # fresh
    settled = run(venue, ledger, o=o, at=121)
    assert venue.cancelled == ["v-k1"] and venue.calls == 1
    assert settled.status is ExecutionStatus.PARTIAL and settled.filled_shares == D(10)


def test_rejection_is_recorded_as_definite():
    ledger, venue = MemoryLedger(), CountingVenue(VenueRejected("INVALID_ORDER_NOT_ENOUGH_BALANCE"))
    result = run(venue, ledger)
    assert result.status is ExecutionStatus.REJECTED and result.reason is Reason.VENUE_REJECTED
    assert ledger.entries["k1"].status is ExecutionStatus.REJECTED


def test_an_order_that_cannot_be_built_is_rejected_without_a_send():
    class Unbuildable(CountingVenue):
        def prepare(self, o, signed_at):
            raise VenueRejected("INVALID_ORDER_MIN_TICK_SIZE", "unsupported tick size 0.003")

    ledger, venue = MemoryLedger(), Unbuildable(PaperVenue(lambda t: BOOK).place)
    result = run(venue, ledger)
    assert result.status is ExecutionStatus.REJECTED and "INVALID_ORDER_MIN_TICK_SIZE" in result.detail
    assert venue.calls == 0 and ledger.venue_ids["k1"] is None


def test_an_entry_without_a_venue_order_id_is_settled_never_placed_not_left_unknown():
    # GIVEN an attempt that died between writing its entry (the order could not be built: no venue id) and settling
    ledger, venue = MemoryLedger(), CountingVenue(PaperVenue(lambda t: BOOK).place)
    ledger.begin(order(), D(10), b.T0, venue_order_id=None)
    # WHEN it is reconciled (a redelivery or the sweep), THEN it is settled as never placed: the reservation comes back
    result = run(venue, ledger)
    assert (result.status, result.reason) == (ExecutionStatus.REJECTED, Reason.NEVER_PLACED)
    assert (
        venue.calls == 0 and venue.lookups == 0 and ledger.recorded == [result.model_copy(update={"duplicate": False})]
    )


def test_paper_latency_reads_the_book_after_the_delay():
    events = []
    moved = b.book(TOKEN, bids=[("0.50", "10")], asks=[("0.55", "100")])  # the book after the delay

    def books(token):
        events.append("book")
        return moved

    venue = PaperVenue(books, latency_s=0.25, sleep=lambda s: events.append(f"sleep {s}"))
    placed = venue.place(order(limit_price=D("0.56")), venue.prepare(order(), b.T0))
    assert events == ["sleep 0.25", "book"] and placed.venue_order_id == "paper-k1"
    assert placed.fills[0].price == D("0.55")  # priced on the book read after the latency
    assert venue.lookup(order(), "paper-k1", b.T0) == placed and venue.lookup(order(), "paper-k2", b.T0) is None
