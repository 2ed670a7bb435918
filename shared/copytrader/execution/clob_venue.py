"""`ClobVenue`: live orders on the Polymarket CLOB through the unified SDK (polymarket-client 0.14.0, REFERENCE.md
§0b.2), signed by `copytrader.execution.clob_order`, on the session `copytrader.execution.clob_session` opens.

Outcomes of `post_order` (sent once, never retried here; the SDK never retries a trading call):
- `AcceptedOrder`: `matched` -> fills from making/taking amounts (one fill at their average price; fee = the market's
  taker fee on it); `live` (resting GTC/GTD) and `delayed` (taker delay) -> UNKNOWN: working at the venue, settled
  later by `lookup` (and a resting order older than the copy's freshness is cancelled first: `cancel`). Its
  `order_id` is checked against the id computed before sending; should they ever differ, the venue's is recorded.
- `RejectedOrder`: `unmatched`, `fok_not_filled`, `fak_not_filled` -> not filled (an FOK/FAK the venue killed is not
  a rejection); any other code -> VenueRejected with the venue's code;
- `RequestRejectedError`: 408, 425 (engine restarting) and 5xx -> VenueAmbiguous; 503 cancel-only / post-only ->
  VenueRejected (the venue refused every new order); a duplicate (the venue already holds this order id) ->
  VenueAmbiguous; other 4xx -> VenueRejected with the venue's code (the kill texts -> not filled);
- `RateLimitError` (429), `TransportError` once the request may have left, an unreadable answer -> VenueAmbiguous:
  reconcile by order id, never resend blindly. A connection never made -> VenueRejected("VENUE_UNREACHABLE").

`lookup` reads `get_order(order_id=)` (404 or an empty answer: the venue has no such order) and our trades on the
token since the order was signed (`list_account_trades(asset_id=, after=)`), keeping those whose taker order or
maker order is ours, skipping FAILED ones.

Order heartbeats are never sent: the first accepted one arms a dead-man switch that cancels ALL open orders of the API
key when the beats stop, and it cannot be disarmed. FOK/FAK copies rest nothing; a GTC/GTD copy rests until it fills,
expires (GTD) or the sweep cancels it as stale, and no process of ours keeps beating for it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from copytrader.errors import VenueAmbiguous, VenueRejected
from copytrader.execution.clob_order import MICRO, restore, sign_order, wanted_shares
from copytrader.execution.clob_session import ClobSession, connect
from copytrader.execution.credentials import VenueCredentials
from copytrader.execution.funds import Collateral, Funds, read_collateral
from copytrader.execution.venue import PreparedOrder, VenueOrder
from copytrader.model import ExecutionStatus, Fill, OrderType, Side, SizedOrder
from copytrader.money import ONE, ZERO, taker_fee

__all__ = ["ClobVenue", "connect"]

KNOWN_ERRORS = (
    "INVALID_ORDER_MIN_TICK_SIZE",
    "INVALID_ORDER_MIN_SIZE",
    "INVALID_ORDER_NOT_ENOUGH_BALANCE",
    "INVALID_ORDER_EXPIRATION",
    "INVALID_POST_ONLY_ORDER_TYPE",
    "INVALID_POST_ONLY_ORDER",
    "INVALID_ORDER_ERROR",
    "EXECUTION_ERROR",
    "DELAYING_ORDER_ERROR",
    "MARKET_NOT_READY",
)
_KILLED = (  # the venue's "nothing (or not all, for FOK) could match": not filled, not a rejection
    "FOK_ORDER_NOT_FILLED_ERROR",
    "FULLY FILLED OR KILLED",
    "COULDN'T BE FULLY FILLED",
    "NO ORDERS FOUND TO MATCH",
)
_KILLED_CODES = frozenset({"unmatched", "fok_not_filled", "fak_not_filled"})
_REJECTED_CODES = {
    "market_not_ready": "MARKET_NOT_READY",
    "not_enough_balance": "INVALID_ORDER_NOT_ENOUGH_BALANCE",
    "invalid_nonce": "INVALID_ORDER_NONCE",
    "invalid_expiration": "INVALID_ORDER_EXPIRATION",
    "post_only_would_cross": "INVALID_POST_ONLY_ORDER",
    "post_only_mode": "VENUE_POST_ONLY",
}
_AMBIGUOUS_STATUSES = frozenset({408, 425, 429})
_MAX_TRADE_PAGES = 20


def _code_of(text: str) -> str:
    upper = text.upper()
    for code in KNOWN_ERRORS:
        if code in upper:
            return code
    if "BALANCE" in upper or "ALLOWANCE" in upper:
        return "INVALID_ORDER_NOT_ENOUGH_BALANCE"
    if "TICK" in upper:
        return "INVALID_ORDER_MIN_TICK_SIZE"
    if "MINIMUM" in upper or "MIN SIZE" in upper:
        return "INVALID_ORDER_MIN_SIZE"
    return "INVALID_ORDER_ERROR"


def _killed(text: str) -> bool:
    return any(marker in text.upper() for marker in _KILLED)


def _duplicate(text: str) -> bool:
    return "DUPLICATE" in text.upper()


def _not_sent(exc: BaseException) -> bool:
    """Whether a TransportError certainly never left the process (the connection was not made)."""
    import httpx

    return isinstance(exc.__cause__, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _empty_answer(exc: BaseException) -> bool:
    """Whether an UnexpectedResponseError was an empty answer (no body, `null`, ""), the venue's 'no such order'."""
    from pydantic import ValidationError

    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return all(error.get("input") in (None, "", {}, []) for error in cause.errors())
    return isinstance(cause, ValueError)  # not JSON at all: an empty body


class ClobVenue:
    """The live venue on an open `ClobSession` (see `connect`).

    A BUY is prepared only when the wallet can pay its worst case (`copytrader.execution.funds`: balance less
    `min_balance` kept, allowance; the balance read is kept `balance_cache_s`), else VenueRejected, nothing sent."""

    name = "clob"

    def __init__(
        self,
        session: ClobSession,
        *,
        gtd_lifetime_s: int = 240,
        order_timeout_s: float | None = None,
        min_balance: Decimal = ZERO,
        balance_cache_s: float = 5.0,
    ) -> None:
        self._session = session
        self._client = session.client
        self._gtd_lifetime_s = gtd_lifetime_s
        if order_timeout_s is not None:
            session.set_timeout(order_timeout_s)
        self.funds = Funds(lambda: read_collateral(self._client), reserve=min_balance, keep_s=balance_cache_s)

    @property
    def credentials(self) -> VenueCredentials:
        return self._session.credentials

    def prepare(self, order: SizedOrder, signed_at: datetime) -> PreparedOrder:
        signed = sign_order(self._client, order, signed_at=signed_at, gtd_lifetime_s=self._gtd_lifetime_s)
        if order.side is Side.BUY:  # what it may cost at worst: the reservation, at least the signed pUSD
            self.funds.cover(max(order.max_cost, Decimal(signed.maker_amount) / MICRO), signed.exchange)
        return PreparedOrder(signed.order_id, signed_at, signed.stored)

    def collateral(self) -> Collateral:
        """The wallet's pUSD read now; raises VenueRejected("VENUE_UNREACHABLE") when it cannot be read."""
        return self.funds.fresh()

    def place(self, order: SizedOrder, prepared: PreparedOrder) -> VenueOrder:
        from polymarket import (
            PolymarketError,
            RateLimitError,
            RejectedOrder,
            RequestRejectedError,
            TransportError,
        )

        ours = prepared.venue_order_id
        if not isinstance(prepared.payload, str):
            raise VenueRejected("INVALID_ORDER_ERROR", f"order {ours} has no signed form to send")
        try:
            response = self._client.post_order(restore(prepared.payload))
        except TransportError as exc:
            if _not_sent(exc):
                raise VenueRejected("VENUE_UNREACHABLE", f"not connected ({type(exc.__cause__).__name__})") from None
            raise VenueAmbiguous(f"order {ours}: no answer ({type(exc.__cause__).__name__})") from None
        except RateLimitError as exc:
            raise VenueAmbiguous(f"order {ours}: HTTP 429 (retry after {exc.retry_after})") from None
        except RequestRejectedError as exc:
            return self._refused(ours, exc)
        except PolymarketError as exc:  # an answer we cannot read: the order may exist
            raise VenueAmbiguous(f"order {ours}: {type(exc).__name__}") from None
        if isinstance(response, RejectedOrder):
            text = response.message[:200]
            if response.code in _KILLED_CODES or _killed(text):
                return VenueOrder(ours, ExecutionStatus.UNFILLED, (), ZERO, detail=text)
            if _duplicate(text):
                raise VenueAmbiguous(f"order {ours}: the venue already holds it ({text})")
            raise VenueRejected(_REJECTED_CODES.get(response.code) or _code_of(text), text)
        venue_id = str(response.order_id or ours)
        note = "" if venue_id.lower() == ours.lower() else f"signed id {ours}"
        if response.status == "matched":
            matched = self._matched(order, venue_id, response.making_amount, response.taking_amount)
            return replace(matched, detail=" ".join(filter(None, (matched.detail, note))))
        detail = f"working at the venue ({response.status}) {note}".strip()
        return VenueOrder(venue_id, ExecutionStatus.UNKNOWN, (), ZERO, detail=detail)

    @staticmethod
    def _refused(ours: str, exc: Any) -> VenueOrder:
        """A non-2xx answer to the order POST: ambiguous, not filled, or a definite rejection (module docstring)."""
        status, text = int(exc.status), str(exc)[:200]
        if exc.restriction in ("cancel_only", "post_only"):
            raise VenueRejected(f"VENUE_{exc.restriction.upper()}", f"HTTP {status}: {text}")
        if status in _AMBIGUOUS_STATUSES or status >= 500:
            raise VenueAmbiguous(f"order {ours}: HTTP {status} {text}")
        if _killed(text):
            return VenueOrder(ours, ExecutionStatus.UNFILLED, (), ZERO, detail=text)
        if _duplicate(text):
            raise VenueAmbiguous(f"order {ours}: the venue already holds it ({text})")
        raise VenueRejected(_code_of(text), f"HTTP {status}: {text}")

    def _matched(self, order: SizedOrder, venue_id: str, making: Decimal, taking: Decimal) -> VenueOrder:
        if not making or not taking:  # matched without amounts: read them from the trades
            found = self.lookup(order, venue_id, None)
            if found is None:
                raise VenueAmbiguous(f"order {venue_id} matched but unknown to the venue")
            return found
        shares, cash = (taking, making) if order.side is Side.BUY else (making, taking)
        price = (cash / shares).quantize(Decimal("0.000001"))
        if not (ZERO < price < ONE):
            raise VenueAmbiguous(f"order {venue_id}: matched amounts give price {price}")
        fee = taker_fee(shares, price, order.taker_fee_rate)
        complete = shares >= wanted_shares(order) or order.order_type is OrderType.FOK
        status = ExecutionStatus.FILLED if complete else ExecutionStatus.PARTIAL
        return VenueOrder(venue_id, status, (Fill(price=price, shares=shares),), fee, cash_notional=cash)

    def lookup(self, order: SizedOrder, venue_order_id: str, signed_at: datetime | None) -> VenueOrder | None:
        found = self._order(venue_order_id)
        if found is None:
            # Not found by id. Whether the venue keeps a killed or fully matched immediate order under its id is
            # not documented, so its trades decide: any fill of this order id means it was placed and matched.
            fills, fee = self._fills(order, venue_order_id, signed_at)
            if not fills:
                return None
            filled = sum((f.shares for f in fills), ZERO)
            status = ExecutionStatus.FILLED if filled >= wanted_shares(order) else ExecutionStatus.PARTIAL
            return VenueOrder(
                venue_order_id, status, fills, fee, detail="reconciled from trades: order not found by id"
            )
        state = found.status.upper().removeprefix("ORDER_STATUS_")
        fills, fee = self._fills(order, venue_order_id, signed_at)
        filled = sum((f.shares for f in fills), ZERO)
        if found.size_matched > filled:  # trades not visible yet: the rest at our limit (the worst price we allowed)
            rest = found.size_matched - filled
            fills = (*fills, Fill(price=order.limit_price, shares=rest))
            fee += taker_fee(rest, order.limit_price, order.taker_fee_rate)
            filled = found.size_matched
        if state in ("LIVE", "DELAYED"):
            return VenueOrder(
                venue_order_id, ExecutionStatus.UNKNOWN, (), ZERO, detail=f"working at the venue ({state})"
            )
        if filled == 0:
            return VenueOrder(venue_order_id, ExecutionStatus.UNFILLED, (), ZERO, detail=f"venue status {state}")
        complete = state == "MATCHED" or filled >= wanted_shares(order)
        status = ExecutionStatus.FILLED if complete else ExecutionStatus.PARTIAL
        return VenueOrder(venue_order_id, status, fills, fee, detail=f"reconciled: venue status {state}")

    def cancel(self, order: SizedOrder, venue_order_id: str) -> None:
        """Cancel a resting order (`DELETE /order`); raises VenueAmbiguous when the venue cannot be asked. An order
        that is already done is 'not canceled' by the venue, which is fine: the lookup that follows settles it."""
        from polymarket import PolymarketError

        try:
            self._client.cancel_order(order_id=venue_order_id)
        except PolymarketError as exc:
            raise VenueAmbiguous(f"cancel {venue_order_id}: {type(exc).__name__}") from None

    def _order(self, venue_order_id: str) -> Any:
        """The venue's open-order record of `venue_order_id`, or None when it has none."""
        from polymarket import PolymarketError, RequestRejectedError, UnexpectedResponseError

        try:
            return self._client.get_order(order_id=venue_order_id)
        except RequestRejectedError as exc:
            if exc.status == 404:
                return None
            raise VenueAmbiguous(f"GET order {venue_order_id}: HTTP {exc.status}") from None
        except UnexpectedResponseError as exc:
            if _empty_answer(exc):
                return None
            raise VenueAmbiguous(f"GET order {venue_order_id}: unreadable answer") from None
        except PolymarketError as exc:
            raise VenueAmbiguous(f"GET order {venue_order_id}: {type(exc).__name__}") from None

    def _fills(
        self, order: SizedOrder, venue_order_id: str, signed_at: datetime | None
    ) -> tuple[tuple[Fill, ...], Decimal]:
        """Our fills of `venue_order_id` from the trades on its token (taker legs pay the taker fee)."""
        from polymarket import PolymarketError

        after = str(int(signed_at.timestamp()) - 5) if signed_at is not None else None
        fills: list[Fill] = []
        fee = ZERO
        try:
            pages = self._client.list_account_trades(asset_id=order.token_id, after=after)
            for number, page in enumerate(pages):
                if number >= _MAX_TRADE_PAGES:
                    break
                for trade in page.items:
                    if str(trade.status).upper() == "FAILED":
                        continue
                    for fill, taker in self._legs(order, venue_order_id, trade):
                        fills.append(fill)
                        if taker:
                            fee += taker_fee(fill.shares, fill.price, order.taker_fee_rate)
        except PolymarketError as exc:
            raise VenueAmbiguous(f"trades of {venue_order_id}: {type(exc).__name__}") from None
        return tuple(fills), fee

    @staticmethod
    def _legs(order: SizedOrder, venue_order_id: str, trade: Any) -> list[tuple[Fill, bool]]:
        ours = venue_order_id.lower()
        if trade.taker_order_id.lower() == ours:
            legs = []
            for maker in trade.maker_orders:
                price, size = maker.price, maker.matched_amount
                if size <= 0:
                    continue
                if str(maker.asset_id) != order.token_id:
                    price = ONE - price  # matched against the complementary token's order
                legs.append((Fill(price=price, shares=size), True))
            if not legs and trade.size > 0:
                legs.append((Fill(price=trade.price, shares=trade.size), True))
            return legs
        for maker in trade.maker_orders:
            if maker.order_id.lower() == ours and maker.matched_amount > 0:
                return [(Fill(price=maker.price, shares=maker.matched_amount), False)]
        return []
