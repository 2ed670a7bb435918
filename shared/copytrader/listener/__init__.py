"""The whale-trade listener: trade sources -> canonical WhaleTrade -> claim once -> SQS FIFO + EventBridge.

Parts (each module's docstring says why it is built the way it is):
- `ports`: the Protocols between sources and the listener (`TradeSource`, `TradeSink`, `WatchList`, ...);
- `data_api_poller`: `DataApiPoller`, the safety-net source polling `/trades?user=` round robin within the
  rate limit, with per-wallet high-water marks (`high_water`, persisted by `high_water_dynamo`);
- `chain_source` (with `chain_blocks`, `chain_legs`, `chain_rpc`): `ChainSource`, Polygon `OrderFilled` logs of
  both V2 exchanges over a JSON-RPC WebSocket, the primary feed (complete and final, about one block late);
- `rtds_source`: `RtdsSource`, the RTDS `activity` firehose filtered client-side, with its stall watchdog;
- `health`: when each source last delivered, which drives the poller's speed, the metrics and the alarms;
- `outbox`: claim (`SeenTrades.claim`), publish at once (`TradePublisher`), mark published, and republish
  claims a killed process left pending; `sightings`: which source saw each fill first, and who missed it;
- `rejects`: inputs that could not become a trade, counted and kept; `telemetry`: the EMF metrics;
- `service`: `Listener`, which runs the sources and the periodic chores and shuts down cleanly;
- `watch_list`, `config`, `build`: the tracked wallets, the environment, and the wiring.

Exactly once: a trade is claimed (a conditional put) before it is published, so sources, restarts and
concurrent tasks publish it once; a claim stays pending until SQS accepted it, and a claim still pending
a minute later (its process was killed between claim and publish) is retaken by exactly one task and
published again, so a kill loses nothing either.
"""

from copytrader.listener.build import build_listener, deployed_listener
from copytrader.listener.chain_settings import ChainSourceSettings
from copytrader.listener.chain_source import ChainSource
from copytrader.listener.config import ListenerConfig
from copytrader.listener.data_api_poller import DataApiPoller, DataApiPollerSettings
from copytrader.listener.health import SourceHealth
from copytrader.listener.high_water import HighWaterMark, HighWaterMarkStore, InMemoryHighWaterMarks
from copytrader.listener.high_water_dynamo import DynamoHighWaterMarks
from copytrader.listener.outbox import Outbox
from copytrader.listener.ports import TradeSink, TradeSource, WatchList
from copytrader.listener.rtds_source import RtdsSettings, RtdsSource
from copytrader.listener.service import Listener, ListenerSettings
from copytrader.listener.watch_list import WhaleWatchList

__all__ = [
    "ChainSource",
    "ChainSourceSettings",
    "DataApiPoller",
    "DataApiPollerSettings",
    "DynamoHighWaterMarks",
    "HighWaterMark",
    "HighWaterMarkStore",
    "InMemoryHighWaterMarks",
    "Listener",
    "ListenerConfig",
    "ListenerSettings",
    "Outbox",
    "RtdsSettings",
    "RtdsSource",
    "SourceHealth",
    "TradeSink",
    "TradeSource",
    "WatchList",
    "WhaleWatchList",
    "build_listener",
    "deployed_listener",
]
