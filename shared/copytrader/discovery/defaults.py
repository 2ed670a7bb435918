"""The defaults of a fetch, in one place. Imports nothing heavy: the CLI builds its parser from them."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_CATEGORIES = ("OVERALL",)
DEFAULT_PERIODS = ("WEEK", "MONTH", "ALL")
DEFAULT_ORDER_BYS = ("PNL",)
DEFAULT_DEPTH = 100  # rows per ranking
DEFAULT_LARGE_TRADE_LIMIT = 500  # newest large fills read from the global feed
DEFAULT_MAX_ROWS = 250_000  # per wallet and endpoint: more is a bot's history, not a whale's
DEFAULT_OVERLAP = timedelta(hours=1)  # a refresh re-reads this much before the high-water mark
DEFAULT_CONCURRENCY = 4  # wallets read at once (the limiters hold the rate whatever this is)
DEFAULT_LEADERBOARD_TTL = timedelta(hours=1)
DEFAULT_MARKET_TTL = timedelta(minutes=15)  # unresolved markets; resolved ones are kept for good
