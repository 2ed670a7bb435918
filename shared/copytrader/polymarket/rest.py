"""The REST reads the copy pipeline makes of Polymarket, over `JsonHttp`: one Gamma market (REFERENCE.md section e),
one CLOB order book (section d), and a wallet's open position in one token from the Data API v2 (`/v2/positions`,
section 0b; the mirror exit's fallback). Parsing is in `copytrader.polymarket.gamma` and `copytrader.model.OrderBook`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from copytrader.errors import UpstreamError
from copytrader.model import Market, OrderBook, utc_from_epoch
from copytrader.money import ZERO, to_decimal
from copytrader.polymarket.gamma import market_from_gamma
from copytrader.polymarket.http import JsonHttp


class GammaMarkets:
    """Market look-ups by condition id (`GET /markets?condition_ids=`)."""

    def __init__(self, http: JsonHttp) -> None:
        self._http = http

    def market(self, condition_id: str) -> Market | None:
        """The market, or None when Gamma knows no market with this condition id.

        A plain lookup by id may inherit a `closed=false` default and drop closed markets (see
        `copytrader.discovery.gamma_markets`), so an empty answer is asked again with `closed=true`: a closed
        market must read as closed (`market_closed`), not unknown.
        """
        rows = self._http.get("/markets", {"condition_ids": condition_id})
        if not rows:
            rows = self._http.get("/markets", {"condition_ids": condition_id, "closed": "true"})
        if not rows:
            return None
        if not isinstance(rows, list):
            raise UpstreamError(f"Gamma /markets returned {type(rows).__name__}, expected a list")
        try:
            return market_from_gamma(rows[0])
        except (ValueError, KeyError, TypeError) as exc:
            raise UpstreamError(f"unusable Gamma market {condition_id}: {exc}") from exc


class ClobMarketData:
    """`GET /book?token_id=` parsed into an `OrderBook` (levels re-sorted best-first)."""

    def __init__(self, http: JsonHttp) -> None:
        self._http = http

    def book(self, token_id: str) -> OrderBook | None:
        """The current book, or None when the CLOB has no book for this token (404)."""
        payload: Any = self._http.get("/book", {"token_id": token_id})
        if payload is None:
            return None
        try:
            return OrderBook.from_clob(payload)
        except (ValidationError, KeyError, TypeError, ValueError) as exc:
            raise UpstreamError(f"malformed book for token {token_id}: {exc}") from exc


class DataPositions:
    """`GET /v2/positions?user=&condition_id=&status=OPEN`: a wallet's open size of one token, and its last event."""

    def __init__(self, http: JsonHttp) -> None:
        self._http = http

    def position(self, wallet: str, condition_id: str, token_id: str) -> tuple[Decimal, datetime | None]:
        """(`current_size`, `last_event_at`) of the wallet's open position in the token; (0, None) when it holds
        none. An answer without `data` as a list of objects raises UpstreamError."""
        payload: Any = self._http.get("/v2/positions", {"user": wallet, "condition_id": condition_id, "status": "OPEN"})
        rows = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise UpstreamError(f"Data API /v2/positions returned no data list for {wallet}")
        for row in rows:
            if str(row.get("token_id")) == token_id:
                try:
                    size = to_decimal(row["current_size"])
                    last = row.get("last_event_at")
                    return size, utc_from_epoch(last) if last is not None else None
                except (KeyError, TypeError, ValueError) as exc:
                    raise UpstreamError(f"unusable Data API position of {wallet}: {exc}") from exc
        return ZERO, None
