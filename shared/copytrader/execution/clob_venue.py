"""`ClobVenue`: live orders on the Polymarket CLOB V2, built and signed by `copytrader.execution.clob_order`.

Outcomes of `POST /order` (sent once, never retried here):
- 200 `success:true`: `matched` -> fills from makingAmount/takingAmount (one fill at their average price;
  fee = the market's taker fee on it); `unmatched` -> not filled; `live` (resting GTC/GTD) and `delayed`
  -> UNKNOWN: working at the venue, settled later by `lookup`;
- 200 `success:false` or 4xx with `{"error": ...}` -> VenueRejected with the venue's code (an FOK that could
  not fill is "not filled", not a rejection);
- connection not made -> VenueRejected("VENUE_UNREACHABLE") (nothing was sent);
- read timeout, dropped connection, 425, 429, 5xx -> VenueAmbiguous: reconcile by order id.

`lookup` reads `GET /data/order/{id}` (404 or empty: the venue has no such order) and our trades on the
token since the order was signed (`GET /data/trades?asset_id=&after=`), keeping those whose taker order or
maker order is ours, skipping FAILED ones.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from copytrader.errors import ClobTransportError, VenueAmbiguous, VenueRejected
from copytrader.execution import signing_libs  # noqa: F401  (before the SDK: keeps the recursion limit)
from copytrader.execution.clob_auth import ClobAuthHttp
from copytrader.execution.clob_order import MICRO, SignedClobOrder, build_signed_order, wanted_shares
from copytrader.execution.credentials import VenueCredentials
from copytrader.execution.funds import Collateral, Funds, read_collateral
from copytrader.execution.venue import PreparedOrder, VenueOrder
from copytrader.model import ExecutionStatus, Fill, OrderType, Side, SizedOrder
from copytrader.money import ONE, ZERO, taker_fee

KNOWN_ERRORS = (
    "INVALID_ORDER_MIN_TICK_SIZE",
    "INVALID_ORDER_MIN_SIZE",
    "INVALID_ORDER_DUPLICATED",
    "INVALID_ORDER_NOT_ENOUGH_BALANCE",
    "INVALID_ORDER_EXPIRATION",
    "INVALID_POST_ONLY_ORDER_TYPE",
    "INVALID_POST_ONLY_ORDER",
    "INVALID_ORDER_ERROR",
    "EXECUTION_ERROR",
    "DELAYING_ORDER_ERROR",
    "MARKET_NOT_READY",
)
_FOK_KILLED = (  # the venue's "nothing (or not all, for FOK) could match": not filled, not a rejection
    "FOK_ORDER_NOT_FILLED_ERROR",
    "FULLY FILLED OR KILLED",
    "COULDN'T BE FULLY FILLED",
    "NO ORDERS FOUND TO MATCH",
)
_AMBIGUOUS_STATUSES = frozenset({408, 425, 429})
_END_CURSOR = "LTE="
_MAX_TRADE_PAGES = 20


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _shares(value: Any) -> Decimal:
    """A size the venue's REST API reports: decimal shares, with or without a point ("25.0000", "10", "1000000").

    The API never reports micro-units here (REFERENCE.md: size, size_matched, matched_amount are shares); the
    6-decimal amounts exist only on chain (makerAmountFilled / takerAmountFilled), which this module does not read."""
    return _decimal(value) or ZERO


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


class ClobVenue:
    """The live venue. Construct with credentials that already hold API credentials (see `connect`).

    A BUY is prepared only when the wallet can pay its worst case (`copytrader.execution.funds`: balance less
    `min_balance` kept, allowance; the balance read is kept `balance_cache_s`), else VenueRejected, nothing sent."""

    name = "clob"

    def __init__(
        self,
        http: ClobAuthHttp,
        *,
        chain_id: int = 137,
        gtd_lifetime_s: int = 90,
        order_timeout_s: float = 5.0,
        min_balance: Decimal = ZERO,
        balance_cache_s: float = 5.0,
    ) -> None:
        if http.credentials.api is None:
            raise RuntimeError("ClobVenue needs API credentials; derive them with ClobAuthHttp first")
        self._http = http
        self._chain_id = chain_id
        self._gtd_lifetime_s = gtd_lifetime_s
        self._order_timeout_s = order_timeout_s
        sig = int(http.credentials.signature_type)
        self.funds = Funds(lambda: read_collateral(http, sig), reserve=min_balance, keep_s=balance_cache_s)

    @property
    def credentials(self) -> VenueCredentials:
        return self._http.credentials

    def prepare(self, order: SizedOrder, signed_at: datetime) -> PreparedOrder:
        signed = build_signed_order(
            order, self.credentials, signed_at=signed_at, chain_id=self._chain_id, gtd_lifetime_s=self._gtd_lifetime_s
        )
        if order.side is Side.BUY:  # what it may cost at worst: the reservation, at least the signed pUSD
            self.funds.cover(max(order.max_cost, Decimal(signed.maker_amount) / MICRO), signed.exchange)
        return PreparedOrder(signed.order_hash, signed_at, signed)

    def collateral(self) -> Collateral:
        """The wallet's pUSD read now; raises VenueRejected("VENUE_UNREACHABLE") when it cannot be read."""
        return self.funds.fresh()

    def place(self, order: SizedOrder, prepared: PreparedOrder) -> VenueOrder:
        signed: SignedClobOrder = prepared.payload
        try:
            response = self._http.l2("POST", "/order", body=signed.body, timeout_s=self._order_timeout_s)
        except ClobTransportError as exc:
            if not exc.sent:
                raise VenueRejected("VENUE_UNREACHABLE", str(exc)) from None
            raise VenueAmbiguous(f"order {prepared.venue_order_id}: {exc}") from None
        status, body = response.status, response.body
        if status in _AMBIGUOUS_STATUSES or status >= 500:
            raise VenueAmbiguous(f"order {prepared.venue_order_id}: HTTP {status} {response.error_text()}")
        if status != 200 or not isinstance(body, dict) or not body.get("success", False):
            text = response.error_text() or f"HTTP {status}"
            if any(marker in text.upper() for marker in _FOK_KILLED):
                return VenueOrder(prepared.venue_order_id, ExecutionStatus.UNFILLED, (), ZERO, detail=text)
            raise VenueRejected(_code_of(text), text)
        # the venue's order id is the order hash (docs: "its ID (order hash)"); should it ever differ, the
        # definite answer still stands and the venue's id is what gets recorded
        venue_id = str(body.get("orderID") or prepared.venue_order_id)
        note = "" if venue_id.lower() == prepared.venue_order_id.lower() else f"signed hash {prepared.venue_order_id}"
        state = str(body.get("status") or "").lower()
        if state == "matched":
            matched = self._matched(order, venue_id, signed, body)
            return replace(matched, detail=" ".join(filter(None, (matched.detail, note))))
        if state == "unmatched":
            return VenueOrder(
                venue_id, ExecutionStatus.UNFILLED, (), ZERO, detail=" ".join(filter(None, ("unmatched", note)))
            )
        return VenueOrder(
            venue_id, ExecutionStatus.UNKNOWN, (), ZERO, detail=f"working at the venue ({state}) {note}".strip()
        )

    def _matched(self, order: SizedOrder, venue_id: str, signed: SignedClobOrder, body: dict[str, Any]) -> VenueOrder:
        making, taking = _decimal(body.get("makingAmount")), _decimal(body.get("takingAmount"))
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
        path = f"/data/order/{venue_order_id}"
        found = self._get(path)
        if found.status == 404 or not found.body:
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
        if found.status != 200 or not isinstance(found.body, dict):
            raise VenueAmbiguous(f"GET {path}: HTTP {found.status}")
        state = str(found.body.get("status") or "").upper().removeprefix("ORDER_STATUS_")
        fills, fee = self._fills(order, venue_order_id, signed_at)
        filled = sum((f.shares for f in fills), ZERO)
        matched = _shares(found.body.get("size_matched"))
        if matched > filled:  # trades not visible yet: the rest at our limit (the worst price we allowed)
            rest = matched - filled
            fills = (*fills, Fill(price=order.limit_price, shares=rest))
            fee += taker_fee(rest, order.limit_price, order.taker_fee_rate)
            filled = matched
        if state in ("LIVE", "DELAYED"):
            return VenueOrder(
                venue_order_id, ExecutionStatus.UNKNOWN, (), ZERO, detail=f"working at the venue ({state})"
            )
        if filled == 0:
            return VenueOrder(venue_order_id, ExecutionStatus.UNFILLED, (), ZERO, detail=f"venue status {state}")
        complete = state == "MATCHED" or filled >= wanted_shares(order)
        status = ExecutionStatus.FILLED if complete else ExecutionStatus.PARTIAL
        return VenueOrder(venue_order_id, status, fills, fee, detail=f"reconciled: venue status {state}")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._http.l2("GET", path, params=params)
        except ClobTransportError as exc:
            raise VenueAmbiguous(str(exc)) from None

    def _fills(
        self, order: SizedOrder, venue_order_id: str, signed_at: datetime | None
    ) -> tuple[tuple[Fill, ...], Decimal]:
        """Our fills of `venue_order_id` from the trades on its token (taker legs pay the taker fee)."""
        params: dict[str, Any] = {"asset_id": order.token_id}
        if signed_at is not None:
            params["after"] = int(signed_at.timestamp()) - 5
        fills: list[Fill] = []
        fee = ZERO
        cursor = "MA=="
        for _ in range(_MAX_TRADE_PAGES):
            response = self._get("/data/trades", {**params, "next_cursor": cursor})
            if response.status != 200 or not isinstance(response.body, dict):
                raise VenueAmbiguous(f"GET /data/trades: HTTP {response.status}")
            for trade in response.body.get("data") or []:
                if str(trade.get("status", "")).upper() == "FAILED":
                    continue
                for fill, taker in self._legs(order, venue_order_id, trade):
                    fills.append(fill)
                    if taker:
                        fee += taker_fee(fill.shares, fill.price, order.taker_fee_rate)
            cursor = str(response.body.get("next_cursor") or _END_CURSOR)
            if cursor == _END_CURSOR:
                break
        return tuple(fills), fee

    @staticmethod
    def _legs(order: SizedOrder, venue_order_id: str, trade: dict[str, Any]) -> list[tuple[Fill, bool]]:
        ours = venue_order_id.lower()
        if str(trade.get("taker_order_id", "")).lower() == ours:
            legs = []
            for maker in trade.get("maker_orders") or []:
                price, size = _decimal(maker.get("price")), _shares(maker.get("matched_amount"))
                if price is None or size <= 0:
                    continue
                if str(maker.get("asset_id", order.token_id)) != order.token_id:
                    price = ONE - price  # matched against the complementary token's order
                legs.append((Fill(price=price, shares=size), True))
            if not legs:
                price, size = _decimal(trade.get("price")), _shares(trade.get("size"))
                if price is not None and size > 0:
                    legs.append((Fill(price=price, shares=size), True))
            return legs
        for maker in trade.get("maker_orders") or []:
            if str(maker.get("order_id", "")).lower() == ours:
                price, size = _decimal(maker.get("price")), _shares(maker.get("matched_amount"))
                if price is not None and size > 0:
                    return [(Fill(price=price, shares=size), False)]
        return []


def connect(
    clob_url: str, credentials: VenueCredentials, *, chain_id: int = 137, timeout_s: float = 5.0
) -> ClobAuthHttp:
    """An authenticated transport for `credentials`, deriving the API credentials via L1 when absent."""
    http = ClobAuthHttp(clob_url, credentials, chain_id=chain_id, timeout_s=timeout_s)
    if credentials.api is None:
        http.credentials = credentials.with_api(http.derive_api_credentials())
    return http
