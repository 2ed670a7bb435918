"""A wallet's positions as the venue sees them: Data API v2 `/v2/positions` (REFERENCE §0b.4), read strictly.

`GET /v2/positions?user=<wallet>&status=<S>&limit=<n>[&cursor=<c>]` answers `{"data": [row...] | null,
"pagination": {"has_more", "next_cursor"}}`; rows are snake_case (`token_id`, `condition_id`, `current_size`,
`status`, ...). Every page is followed until `has_more` is false. A read is complete or it fails: an HTTP error or
timeout, a page that is not the envelope, `has_more` without a cursor, a cursor that repeats, more than `max_pages`,
a row without a token or a size, all raise `PositionsReadFailed` with a reason. `data: null` (the API's documented
"miss") is returned as `None`, not as an empty list: only the caller knows whether we hold anything, and a null
while we do is a failed read, never "no positions" (`copytrader.risk.venue_sync`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from copytrader.errors import TransientError, UpstreamError
from copytrader.polymarket.http import JsonHttp

PATH = "/v2/positions"
HELD_STATUSES = ("OPEN", "REDEEMABLE")  # everything still held (a lost position still reports REDEEMABLE)


class PositionsReadFailed(UpstreamError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class VenuePosition:
    token_id: str
    condition_id: str
    size: Decimal
    status: str


@dataclass(frozen=True)
class PositionsRead:
    positions: tuple[VenuePosition, ...] | None  # None: some status answered `data: null`
    pages: int


def _row(row: Any) -> VenuePosition:
    if not isinstance(row, dict) or not row.get("token_id"):
        raise PositionsReadFailed("malformed_row", "a row without token_id")
    try:
        size = Decimal(str(row.get("current_size")))
    except InvalidOperation:
        raise PositionsReadFailed("malformed_row", f"current_size of {row['token_id']}") from None
    if not size.is_finite():
        raise PositionsReadFailed("malformed_row", f"current_size of {row['token_id']}")
    return VenuePosition(str(row["token_id"]), str(row.get("condition_id") or ""), size, str(row.get("status") or ""))


class VenuePositionsReader:
    def __init__(self, http: JsonHttp, page_size: int = 500, max_pages: int = 50) -> None:
        self._http, self._page_size, self._max_pages = http, page_size, max_pages

    def _page(self, params: dict[str, Any]) -> Any:
        try:
            body = self._http.get(PATH, params)
        except (TransientError, UpstreamError) as exc:
            raise PositionsReadFailed("http_error", str(exc)[:200]) from None
        if not isinstance(body, dict) or "data" not in body:
            raise PositionsReadFailed("not_an_envelope", f"status {params.get('status')} page {params.get('cursor')}")
        return body

    def read(self, user: str, statuses: tuple[str, ...] = HELD_STATUSES) -> PositionsRead:
        """Every position of `user` in `statuses`, all pages of each (one row per token; sizes as the API says)."""
        found: dict[str, VenuePosition] = {}
        pages, null = 0, False
        for status in statuses:
            cursor: str | None = None
            seen: set[str] = set()
            while True:
                params: dict[str, Any] = {"user": user, "status": status, "limit": self._page_size}
                if cursor is not None:
                    params["cursor"] = cursor
                body = self._page(params)
                pages += 1
                data = body["data"]
                if data is None:
                    null = True
                elif not isinstance(data, list):
                    raise PositionsReadFailed("not_an_envelope", f"data of status {status} is not a list")
                else:
                    for row in data:
                        position = _row(row)
                        found[position.token_id] = position
                paging = body.get("pagination") or {}
                if not paging.get("has_more"):
                    break
                cursor = paging.get("next_cursor")
                if not cursor:
                    raise PositionsReadFailed("has_more_without_cursor", f"status {status} after {pages} pages")
                if cursor in seen or pages >= self._max_pages:
                    raise PositionsReadFailed("paging_runaway", f"status {status}: cursor repeats or {pages} pages")
                seen.add(cursor)
        return PositionsRead(None if null else tuple(found.values()), pages)
