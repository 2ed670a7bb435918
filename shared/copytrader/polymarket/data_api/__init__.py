"""Polymarket Data API (REFERENCE.md section a), in four parts:

- `rows`: `/trades` rows (v1 camelCase or v2 snake_case) -> canonical `WhaleTrade`, or a counted `RowReject`;
  row identities and the merging of legs of one fill;
- `rate_limit`: `SlidingWindowLimiter`, the documented requests per sliding window, shared by every task;
- `client`: `DataApiClient`, async GETs with the limiter, retries, a cache buster and `/trades` paging;
- `positions_v2`: a wallet's `/v2/positions`, every cursor page, read strictly (the venue sync's reader).
"""

DATA_API_URL = "https://data-api.polymarket.com"
