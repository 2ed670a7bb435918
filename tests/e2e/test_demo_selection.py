"""The wallets `copytrader demo` follows by default: its world's `DEMO_HISTORY_DAYS` of resolved history must give the
scorer (the event as the unit of evidence, Benjamini-Yekutieli over every wallet screened) enough evidence to select
several of the default seed's skilled wallets and no unskilled one.

The demo's discovery names every wallet a third into the history (`SimConfig.named_at`), and each is tested on what it
did after (copytrader.scoring.holdout). Measured (seed 20, 400 wallets of which 12 skilled), testing the last two
thirds: 30 days of history select 0 wallets, 45 days 0, 60 days 0, 75 days 7, 90 days 9, all skilled. At least 6
leaves the demo's day enough whale fills to copy.
"""

from __future__ import annotations

import pytest

from copytrader.local.demo import DEFAULT_SEED, DEMO_HISTORY_DAYS, tracked_wallets
from copytrader.sim.config import SimConfig
from copytrader.sim.world import build_world

pytestmark = pytest.mark.e2e


def test_the_default_demo_follows_several_wallets_all_truly_skilled() -> None:
    world = build_world(SimConfig(seed=DEFAULT_SEED, history_days=DEMO_HISTORY_DAYS))
    tracked = {p.wallet for p in tracked_wallets(world)}
    assert len(world.skilled_addresses) == 12
    assert len(tracked) >= 6
    assert tracked <= world.skilled_addresses
