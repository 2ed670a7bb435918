"""Whale discovery and per-wallet history: what the scorer reads, fetched politely and cached.

Pure (no I/O, tested without sockets):
- `endpoints`: what each Data API endpoint allows (page size, offset bound, windows) and its rate limits;
- `rows`: row identities (legs of one fill stay distinct, repeats do not) and merging;
- `paging`: `WindowedPager`, offset paging then `end` windows past the 10,000 offset bound;
- `leaderboard`, `candidates`: leaderboard queries and rows, candidate wallets with their provenance;
- `history`: `WalletHistory` (raw rows per endpoint, when, complete or truncated and why) and the
  high-water refresh rules.

I/O:
- `data_reader`: the Data API reads, on `copytrader.polymarket.data_api.client.DataApiClient`'s retries;
- `gamma_markets`: raw Gamma markets by condition id in batches (the batching facts are in its docstring);
- `cache`, `cache_sqlite`, `cache_s3`: the cache between runs (`CacheStore` protocol, SQLite and S3);
- `discover`, `histories`, `run`: the flows behind `copytrader fetch`; `command`: the command behind its
  parser; `files`: its input and outputs; `defaults`: its defaults.

Nothing here logs or raises a base URL (it may carry proxy credentials); the cache holds none either.
"""
