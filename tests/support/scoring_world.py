"""A simulated market served by the fake Data API and Gamma (`tests.support.fake_data_api`), for the scoring workflow.

The sim has no leaderboards, so the fake ranks wallets by traded volume (PnL ranking by volume: the provenance
is all a leaderboard contributes here). The quietest `unranked` wallets are left off every ranking, so a test
can show that a wallet known only from the whales table is still scored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from copytrader.sim import SimConfig, SimWorld, build_world
from tests.support.data_api_rows import leaderboard_row
from tests.support.fake_data_api import FakeDataApi

# A small world where the scorer, testing only the last three weeks (the wallets named two weeks into its five),
# selects several skilled wallets and nobody else (checked by the tests that use it).
SCORING_WORLD = SimConfig(
    seed=3,
    n_wallets=30,
    n_skilled=8,
    n_makers=2,
    n_lucky=2,
    n_markets_live=4,
    n_markets_per_history_day=6,
    history_days=35,
)
PERIOD_DEPTHS = {"ALL": 1050, "MONTH": 40, "WEEK": 20}


@dataclass(frozen=True)
class ServedWorld:
    world: SimWorld
    ranked: tuple[str, ...]  # on the leaderboards, by volume
    unranked: tuple[str, ...]  # traded, but on no leaderboard


def serve_world(fake: FakeDataApi, config: SimConfig = SCORING_WORLD, unranked: int = 3) -> ServedWorld:
    world = build_world(config)
    rows = world.history_trade_rows()
    fake.add_trades(rows)
    for market in world.history_markets_gamma():
        fake.markets[str(market["conditionId"]).lower()] = market
    volume: dict[str, float] = defaultdict(float)
    for row in rows:
        volume[str(row["proxyWallet"])] += float(row["price"]) * float(row["size"])  # type: ignore[arg-type]
    by_volume = sorted(volume, key=lambda wallet: (-volume[wallet], wallet))
    ranked, quiet = by_volume[: len(by_volume) - unranked], by_volume[len(by_volume) - unranked :]
    for period, depth in PERIOD_DEPTHS.items():
        fake.leaderboards[("OVERALL", period, "PNL")] = [
            leaderboard_row(rank, wallet, pnl=round(volume[wallet], 2), vol=round(volume[wallet], 2))
            for rank, wallet in enumerate(ranked[:depth], start=1)
        ]
    return ServedWorld(world, tuple(ranked), tuple(quiet))
