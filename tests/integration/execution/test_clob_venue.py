"""ClobVenue contract tests against the loopback CLOB (tests/support/fake_clob.py) over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from eth_account import Account

from copytrader.errors import VenueAmbiguous, VenueRejected
from copytrader.execution.clob_order import restore
from copytrader.execution.clob_venue import ClobVenue, connect
from copytrader.execution.credentials import ApiCredentials, SignatureType, VenueCredentials
from copytrader.model import ExecutionStatus, Fill, OrderType, Side, SizedOrder
from copytrader.money import taker_fee
from tests.support import builders as b
from tests.support.clob_exchange import CTF_EXCHANGE_V2, NEG_RISK_EXCHANGE_V2, order_hash_and_signer
from tests.support.fake_clob import FakeClob, fake_clob

pytestmark = pytest.mark.integration
D = Decimal
TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"


@pytest.fixture
def clob() -> Iterator[FakeClob]:
    with fake_clob() as fake:
        fake.set_book(TOKEN, asks=[("0.50", "10"), ("0.52", "10"), ("0.60", "100")], bids=[("0.48", "50")])
        yield fake


def funder_of(address: str, kind: SignatureType) -> str | None:
    """The wallet the SDK derives for `address` and `kind` (CREATE2, REFERENCE.md §0b.2); None for EOA."""
    from polymarket import PRODUCTION
    from polymarket._internal.environment import get_environment_config
    from polymarket._internal.wallet import (
        derive_beacon_deposit_wallet_address,
        derive_proxy_wallet_address,
        derive_safe_wallet_address,
    )

    derivation = get_environment_config(PRODUCTION).wallet_derivation
    derive = {
        SignatureType.POLY_PROXY: derive_proxy_wallet_address,
        SignatureType.GNOSIS_SAFE: derive_safe_wallet_address,
        SignatureType.POLY_1271: derive_beacon_deposit_wallet_address,
    }.get(kind)
    return None if derive is None else str(derive(address, derivation))


def credentials(kind: SignatureType = SignatureType.EOA) -> tuple[VenueCredentials, str]:
    account = Account.create()  # a throwaway key, made for this test
    key = account.key.hex()
    key = key if key.startswith("0x") else f"0x{key}"
    return VenueCredentials(key, kind, funder_of(account.address, kind)), account.address


def venue_for(fake: FakeClob, kind: SignatureType = SignatureType.EOA, **options) -> tuple[ClobVenue, str]:
    creds, address = credentials(kind)
    return ClobVenue(connect(fake.url, creds), **options), address  # API credentials derived via L1


def order(**overrides) -> SizedOrder:
    """A FOK BUY of 15 shares of TOKEN up to 0.52, no worst-case cap (max_cost 0)."""
    fields = {
        "token_id": TOKEN,
        "order_type": OrderType.FOK,
        "shares": D(15),
        "limit_price": D("0.52"),
        "max_cost": D(0),
        "taker_fee_rate": D("0.05"),
    }
    return b.sized_order("copy-1", **{**fields, **overrides})


def send(venue: ClobVenue, o: SizedOrder, at: datetime | None = None):
    prepared = venue.prepare(o, at or datetime.now(UTC))
    return prepared, venue.place(o, prepared)


@pytest.mark.parametrize("kind", list(SignatureType))
@pytest.mark.parametrize("neg_risk", [False, True])
def test_signed_order_is_accepted_for_every_signature_type_and_exchange(clob, kind, neg_risk):
    clob.set_book(TOKEN, asks=[("0.50", "100")], neg_risk=neg_risk)
    venue, address = venue_for(clob, kind)
    prepared, placed = send(venue, order(neg_risk=neg_risk))
    body = clob.posts[0]["order"]
    exchange = NEG_RISK_EXCHANGE_V2 if neg_risk else CTF_EXCHANGE_V2
    order_id, recovered = order_hash_and_signer(body, exchange)
    assert placed.status is ExecutionStatus.FILLED and placed.venue_order_id == prepared.venue_order_id == order_id
    if kind is not SignatureType.POLY_1271:
        assert recovered == address  # the signature recovers to the throwaway key
    assert body["signatureType"] == int(kind) and body["salt"] == restore(prepared.payload).salt
    assert clob.posts[0]["orderType"] == "FOK" and "postOnly" not in clob.posts[0]  # FOK asked, not the SDK's FAK
    assert body["maker"] == (venue.credentials.funder or address)
    assert body["signer"] == (venue.credentials.funder if kind is SignatureType.POLY_1271 else address)
    # FOK BUY is a market order: pUSD in (cents), shares out (at least amount / limit)
    assert (body["makerAmount"], body["takerAmount"]) == ("7800000", "15000000")


def test_the_order_id_follows_the_exchange_the_sdk_signed_for_even_when_our_market_data_disagrees(clob):
    # GIVEN a neg-risk market that our copy believes is not neg-risk
    clob.set_book(TOKEN, asks=[("0.50", "100")], neg_risk=True)
    venue, _ = venue_for(clob)

    # WHEN it is prepared and sent THEN the SDK signed for the neg-risk exchange (the venue's market data), and the id
    # computed before sending is the venue's
    prepared, placed = send(venue, order(neg_risk=False))
    order_id, _ = order_hash_and_signer(clob.posts[0]["order"], NEG_RISK_EXCHANGE_V2)
    assert prepared.venue_order_id == order_id == placed.venue_order_id and placed.detail == ""


def test_the_same_signed_order_sent_twice_is_one_order_at_the_venue(clob):
    venue, _ = venue_for(clob)
    o = order(order_type=OrderType.FAK, shares=D(10), limit_price=D("0.50"))
    prepared, placed = send(venue, o)
    assert placed.status is ExecutionStatus.FILLED and placed.filled_shares == 10
    with pytest.raises(VenueAmbiguous, match="already holds it"):  # the venue's duplicate: never a rejection
        venue.place(o, prepared)
    assert len(clob.posts) == 2 and len(clob.orders) == 1 and len(clob.trades) == 1


def test_fok_fills_everything_within_the_limit_or_nothing(clob):
    venue, _ = venue_for(clob)
    _, filled = send(venue, order(shares=D(15)))
    assert filled.status is ExecutionStatus.FILLED
    # 7.80 pUSD: 10 @ 0.50 + 5.38 @ 0.52 (the market order spends its pUSD, so it gets a few more shares)
    assert filled.filled_shares == D("15.38") and filled.notional == D("7.7976")
    assert filled.fee == taker_fee(D("15.38"), D("0.506996"), D("0.05"))
    _, killed = send(venue, order(idempotency_key="copy-2", shares=D(50)))  # 5 left <= 0.52
    assert killed.status is ExecutionStatus.UNFILLED and killed.filled_shares == 0
    assert clob.books[TOKEN].asks[0].price == D("0.52") and clob.books[TOKEN].asks[0].size == D("4.62")


def test_fak_fills_what_is_there_and_cancels_the_rest(clob):
    venue, _ = venue_for(clob)
    prepared, placed = send(venue, order(order_type=OrderType.FAK, shares=D(30)))
    assert placed.status is ExecutionStatus.PARTIAL and placed.filled_shares == D(20)
    assert placed.notional == D("10.20")
    found = venue.lookup(order(order_type=OrderType.FAK, shares=D(30)), prepared.venue_order_id, None)
    assert found is not None and found.status is ExecutionStatus.PARTIAL
    assert found.fills == (Fill(price=D("0.50"), shares=D(10)), Fill(price=D("0.52"), shares=D(10)))
    assert found.fee == taker_fee(D(10), D("0.50"), D("0.05")) + taker_fee(D(10), D("0.52"), D("0.05"))


def test_gtd_rests_at_the_venue_until_reconciled(clob):
    venue, _ = venue_for(clob, gtd_lifetime_s=240)
    at = datetime.now(UTC)
    o = order(order_type=OrderType.GTD, shares=D(30), limit_price=D("0.50"))
    prepared, placed = send(venue, o, at)
    assert placed.status is ExecutionStatus.UNKNOWN and "live" in placed.detail  # 10 matched, 20 resting
    assert clob.posts[0]["orderType"] == "GTD"
    assert clob.posts[0]["order"]["expiration"] == str(int(at.timestamp()) + 240)
    found = venue.lookup(o, prepared.venue_order_id, at)
    assert found is not None and found.status is ExecutionStatus.UNKNOWN
    venue.cancel(o, prepared.venue_order_id)  # its copy went stale (the sweep: `protocol.reconcile`)
    assert clob.requests[-1] == "DELETE /order" and clob.orders[prepared.venue_order_id]["status"] == "CANCELED"
    done = venue.lookup(o, prepared.venue_order_id, at)
    assert done is not None and done.status is ExecutionStatus.PARTIAL and done.filled_shares == D(10)
    venue.cancel(o, prepared.venue_order_id)  # done already: the venue says "not canceled", which is no error


@pytest.mark.parametrize(
    ("setup", "overrides", "code"),
    [
        (lambda f: f.set_book(TOKEN, asks=[("0.50", "100")], min_size="20"), {}, "INVALID_ORDER_MIN_SIZE"),
        (
            lambda f: f.set_book(TOKEN, asks=[("0.50", "100")], tick="0.01"),
            {"tick_size": D("0.001"), "limit_price": D("0.505"), "order_type": OrderType.GTC},
            "INVALID_ORDER_MIN_TICK_SIZE",
        ),
        (lambda f: setattr(f, "balance", 1_000_000), {}, "INVALID_ORDER_NOT_ENOUGH_BALANCE"),
        (lambda f: f.script.append("reject:INVALID_ORDER_EXPIRATION"), {}, "INVALID_ORDER_EXPIRATION"),
        (lambda f: f.script.append("http:401"), {}, "INVALID_ORDER_ERROR"),
    ],
)
def test_documented_rejections_are_definite(clob, setup, overrides, code):
    setup(clob)
    venue, _ = venue_for(clob)
    with pytest.raises(VenueRejected) as caught:
        send(venue, order(**overrides))
    assert caught.value.code == code and not clob.orders


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ("http:503:trading is in cancel-only mode", "VENUE_CANCEL_ONLY"),
        ("reject:the market is not yet ready to process new orders", "MARKET_NOT_READY"),
        ("reject:not enough balance / allowance", "INVALID_ORDER_NOT_ENOUGH_BALANCE"),
    ],
)
def test_the_sdks_refusals_are_definite_rejections(clob, script, code):
    venue, _ = venue_for(clob)
    clob.script.append(script)
    with pytest.raises(VenueRejected) as caught:
        send(venue, order())
    assert caught.value.code == code and len(clob.posts) == 1 and not clob.orders


@pytest.mark.parametrize("status", [500, 502, 503, 425, 429])
def test_a_5xx_or_throttle_is_ambiguous(clob, status):
    venue, _ = venue_for(clob)
    clob.script.append(f"http:{status}")
    with pytest.raises(VenueAmbiguous):
        send(venue, order())
    assert len(clob.posts) == 1  # sent once, never retried


@pytest.mark.parametrize("behaviour", ["fill_then_hang", "fill_then_drop"])
def test_timeout_or_dropped_connection_after_the_fill_is_ambiguous_and_lookup_finds_the_fill(clob, behaviour):
    clob.hang_s = 1.0
    venue, _ = venue_for(clob, order_timeout_s=0.3)
    clob.script.append(behaviour)
    prepared = venue.prepare(order(), datetime.now(UTC))
    with pytest.raises(VenueAmbiguous):
        venue.place(order(), prepared)
    found = venue.lookup(order(), prepared.venue_order_id, prepared.signed_at)
    assert found is not None and found.status is ExecutionStatus.FILLED and found.filled_shares == D("15.38")
    assert len(clob.posts) == 1


def test_a_matched_order_the_venue_no_longer_shows_by_id_is_found_through_its_trades(clob):
    # GIVEN an order that filled while our request timed out, and a venue that keeps no record of it by id
    clob.hang_s = 1.0
    venue, _ = venue_for(clob, order_timeout_s=0.3)
    clob.script.append("fill_then_hang")
    prepared = venue.prepare(order(), datetime.now(UTC))
    with pytest.raises(VenueAmbiguous):
        venue.place(order(), prepared)
    clob.orders.pop(prepared.venue_order_id)

    # WHEN it is looked up THEN its trades show the fill: never concluded "never placed"
    found = venue.lookup(order(), prepared.venue_order_id, prepared.signed_at)
    assert found is not None and found.status is ExecutionStatus.FILLED and found.filled_shares == D("15.38")
    assert len(clob.posts) == 1


def test_lookup_of_an_order_the_venue_never_saw_is_none(clob):
    venue, _ = venue_for(clob)
    prepared = venue.prepare(order(), datetime.now(UTC))
    assert venue.lookup(order(), prepared.venue_order_id, prepared.signed_at) is None


def test_an_unreachable_venue_is_a_definite_rejection(clob):
    # GIVEN a venue that was reachable when the order was prepared (its market data read) and has gone since
    venue, _ = venue_for(clob)
    o = order(side=Side.SELL, order_type=OrderType.FAK, shares=D(10), limit_price=D("0.47"))
    prepared = venue.prepare(o, datetime.now(UTC))
    clob.go_down()

    # WHEN it is sent THEN the connection is never made: nothing was sent, a definite rejection
    with pytest.raises(VenueRejected) as caught:
        venue.place(o, prepared)
    assert caught.value.code == "VENUE_UNREACHABLE" and clob.posts == []


def test_given_api_credentials_are_used_and_refused_ones_re_derived(clob):
    creds, address = credentials()
    issued = clob.issue_api_key(address)
    session = connect(clob.url, creds.with_api(ApiCredentials(*issued)))
    assert session.credentials.api == ApiCredentials(*issued) and clob.requests[0] == "GET /auth/api-keys"
    stale = connect(clob.url, creds.with_api(ApiCredentials("revoked", "c2VjcmV0", "pass")))
    assert stale.credentials.api == ApiCredentials(*issued)  # 401, then POST /auth/api-key (400), then derived


def test_secrets_never_reach_logs_or_errors(clob, caplog):
    caplog.set_level(logging.DEBUG)
    venue, _ = venue_for(clob, order_timeout_s=0.3)
    creds = venue.credentials
    errors = []
    send(venue, order())
    for script in ("http:500", "reject:INVALID_ORDER_NOT_ENOUGH_BALANCE", "fill_then_hang"):
        clob.script.append(script)
        try:
            send(venue, order(idempotency_key=f"copy-{script}"))
        except (VenueAmbiguous, VenueRejected) as exc:
            errors.append(f"{exc!r} {exc}")
    logging.getLogger("copytrader").info("venue %r ready", venue.credentials)
    assert len(errors) == 3
    shown = caplog.text + " ".join(errors) + repr(creds)
    assert creds.api is not None
    for secret in creds.secrets():
        assert secret not in shown


def test_sell_fak_sells_shares_into_the_bids_down_to_the_limit(clob):
    clob.set_book(TOKEN, bids=[("0.48", "6"), ("0.47", "10"), ("0.40", "100")])
    venue, _ = venue_for(clob)
    o = order(side=Side.SELL, order_type=OrderType.FAK, shares=D(20), limit_price=D("0.47"))
    prepared, placed = send(venue, o)
    body = clob.posts[0]["order"]
    assert (body["side"], body["makerAmount"], body["takerAmount"]) == ("SELL", "20000000", "9400000")
    assert placed.status is ExecutionStatus.PARTIAL and placed.filled_shares == D(16)
    assert placed.notional == D("7.58")  # 6 x 0.48 + 10 x 0.47: pUSD received
    found = venue.lookup(o, prepared.venue_order_id, prepared.signed_at)
    assert found is not None and found.filled_shares == D(16) and found.notional == D("7.58")


def test_an_fok_the_venue_kills_is_not_filled_not_rejected(clob):
    venue, _ = venue_for(clob)
    clob.script.append("reject:FOK_ORDER_NOT_FILLED_ERROR")
    _, placed = send(venue, order())
    assert placed.status is ExecutionStatus.UNFILLED and placed.filled_shares == 0


def test_buys_read_the_wallet_once_per_window_and_sells_never(clob):
    # GIVEN a venue keeping the balance it read for 5 s (the default)
    clob.set_book(TOKEN, asks=[("0.50", "100")], bids=[("0.48", "100")])
    venue, _ = venue_for(clob)

    # WHEN two BUYs and a SELL are sent within the window
    send(venue, order())
    send(venue, order().model_copy(update={"idempotency_key": "copy-2"}))
    send(venue, order(side=Side.SELL, order_type=OrderType.FAK, shares=D(10), limit_price=D("0.47")))

    # THEN the balance was one round trip and every order went out
    assert clob.requests.count("GET /balance-allowance") == 1 and len(clob.posts) == 3
    assert venue.funds.reads == 1


def test_a_buy_beyond_the_allowance_is_refused_before_sending(clob):
    clob.allowance = 5 * 10**6  # 5 pUSD approved; the order commits 7.80
    venue, _ = venue_for(clob)
    with pytest.raises(VenueRejected) as caught:
        send(venue, order())
    assert caught.value.code == "INVALID_ORDER_NOT_ENOUGH_BALANCE" and "pUSD allowance 5 < 7.8" in str(caught.value)
    assert clob.posts == []
