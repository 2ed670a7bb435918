"""A seeded, simulated Polymarket whose truth is known: the data source of `make demo` and of scoring tests.

What it models (each module's docstring gives the formulas and `config.SimConfig` the parameters):
- markets (`markets`): true probabilities, outcomes drawn from them, neg-risk events with one winner, categories
  with their taker fee rates, ticks, trading windows and resolutions 5-30 min after the end;
- prices (`prices`): YES mid = sigmoid(logit(pi) + OU mispricing + impact of earlier fills), converging to the
  outcome in the last hour; CLOB books around it with YES/NO mirror images;
- wallets (`wallets`, `behaviour`): skilled wallets that see pi through noise and buy the underpriced side,
  noise traders, heavy "lucky" gamblers (largest volume, survivorship), two-sided makers; and, off by default,
  the selection's adversaries (`adversaries`): two-leg hedgers, one-event lucky wallets, leaderboard survivors;
- the past (`history`, columnar, vectorised) and the live day (`live`, fills replayed in time order against
  books moved by earlier fills, so followers pay the leader's impact);
- the outside view (`world`, `gamma`, `dataapi`, `server`): `Market`, `OrderBook` and `WhaleTrade` contracts,
  Gamma market objects, Data API `/trades` rows, and a loopback HTTP server speaking the CLOB, Gamma and Data
  API protocols at a settable simulated time.

Randomness comes only from `numpy.random.Generator`s spawned from `SimConfig.seed`: the same config gives the
same world, byte for byte.
"""

from copytrader.sim.config import SimConfig
from copytrader.sim.server import SimPolymarketServer
from copytrader.sim.wallets import AdversaryKind, SimWallet, WalletKind
from copytrader.sim.world import MarketTruth, Resolution, SimWorld, build_world

__all__ = [
    "AdversaryKind",
    "MarketTruth",
    "Resolution",
    "SimConfig",
    "SimPolymarketServer",
    "SimWallet",
    "SimWorld",
    "WalletKind",
    "build_world",
]
