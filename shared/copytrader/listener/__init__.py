"""The whale-trade listener: trade sources -> canonical WhaleTrade -> claim once -> SQS FIFO + EventBridge.

Parts (each module's docstring says why it is built the way it is):
- `ports`: the Protocols between sources and the listener (`TradeSource`, `TradeSink`, `WatchList`, ...);
- `data_api_poller`: `DataApiPoller`, the safety-net source polling `/trades?user=` round robin within the
  rate limit, with per-wallet high-water marks (`high_water`, persisted by `high_water_dynamo`);
- `outbox`: claim (`SeenTrades.claim`), batch and publish (`TradePublisher`);
- `service`: `Listener`, which runs the sources and the periodic chores and shuts down cleanly;
- `watch_list`, `config`, `build`: the tracked wallets, the environment, and the wiring.

More sources (Polygon `OrderFilled` logs, RTDS) plug in as further `TradeSource`s beside the poller.

Known limit: a trade is claimed before it is published. If the process is killed between the two (not a
SIGTERM, which drains), the claim makes every later sighting a duplicate and the trade is never
published. Closing this needs a "published" state on the trades-table record and a re-publish of stale
unpublished claims; the conditional put lives in `copytrader.store.trades`.
"""

from copytrader.listener.build import build_listener, deployed_listener
from copytrader.listener.config import ConfigError, ListenerConfig
from copytrader.listener.data_api_poller import DataApiPoller, DataApiPollerSettings
from copytrader.listener.high_water import HighWaterMark, HighWaterMarkStore, InMemoryHighWaterMarks
from copytrader.listener.high_water_dynamo import DynamoHighWaterMarks
from copytrader.listener.outbox import Outbox
from copytrader.listener.ports import TradeSink, TradeSource, WatchList
from copytrader.listener.service import Listener, ListenerSettings, SourceEnded
from copytrader.listener.watch_list import WhaleWatchList

__all__ = [
    "ConfigError",
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
    "SourceEnded",
    "TradeSink",
    "TradeSource",
    "WatchList",
    "WhaleWatchList",
    "build_listener",
    "deployed_listener",
]
