"""CLOB public market data (REFERENCE.md section d): the order book a copy is priced against."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from copytrader.errors import UpstreamError
from copytrader.model import OrderBook
from copytrader.polymarket.http import JsonHttp


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
