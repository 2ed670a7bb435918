"""The chain source's tunables: the socket's watchdog and timeouts, log filters, block completion and backfill.

Read by `chain_source` (the connection loop) and `chain_blocks` (legs, block times, backfill).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChainSourceSettings:
    stale_after_s: float = 20.0  # no newHeads for this long: open a new socket (Polygon mines every ~2 s)
    max_block_range: int = 2_000  # blocks per eth_getLogs call (public RPCs cap ranges and result counts)
    max_backfill_blocks: int = 43_200  # ~24 h of blocks; older gaps are left to the Data API poller
    max_topics: int = 500  # wallets per logs filter
    flush_delay_s: float = 0.25  # a block with no new leg for this long is flushed without its successor
    retry_s: float = 1.0  # wait before retrying legs whose look-up or claim failed
    request_timeout_s: float = 15.0
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    block_times_kept: int = 4_096
    remember_blocks: int = 256  # log ids and emitted keys are remembered this far behind the cursor
    max_message_bytes: int = 64 * 2**20  # one eth_getLogs answer can be large
    lookup_concurrency: int = 8
