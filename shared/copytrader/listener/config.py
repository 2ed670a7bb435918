"""The listener's configuration, read from the task's environment (names shared with the CDK app).

Required: `COPYTRADER_TRADE_QUEUE_URL`. The region comes from `AWS_REGION` (set by ECS) or
`AWS_DEFAULT_REGION`, as for the tables in `copytrader.store`. Optional: `COPYTRADER_EVENT_BUS_NAME`
(fan-out), the tables' `COPYTRADER_TABLE_<NAME>` (read by `copytrader.store`), `COPYTRADER_TABLE_WATERMARKS`
(the high-water marks table; without it marks live in memory and a restart starts every wallet from the
initial lookback), and the Data API knobs below. Every value here is a name or a number: nothing secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from copytrader.listener.data_api_poller import DataApiPollerSettings
from copytrader.listener.service import ListenerSettings
from copytrader.polymarket.data_api import DATA_API_URL, TRADES_RATE_LIMIT, TRADES_RATE_WINDOW_S
from copytrader.runtime_env import EVENT_BUS_NAME, TRADE_QUEUE_URL
from copytrader.store.tables import table_env_var

MARKS_TABLE = "watermarks"  # logical table name of the high-water marks
ENV_MARKS_TABLE = table_env_var(MARKS_TABLE)
ENV_DATA_API_URL = "COPYTRADER_DATA_API_URL"
ENV_DATA_API_RATE_LIMIT = "COPYTRADER_DATA_API_RATE_LIMIT"  # requests per 10 s window for this task
ENV_DATA_API_POLL_INTERVAL_S = "COPYTRADER_DATA_API_POLL_INTERVAL_S"
ENV_DATA_API_LOOKBACK_S = "COPYTRADER_DATA_API_LOOKBACK_S"
ENV_WATCH_LIST_REFRESH_S = "COPYTRADER_WATCH_LIST_REFRESH_S"


class ConfigError(ValueError):
    """The environment does not describe a runnable listener (the message names the variable)."""


def _number(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {raw!r}")
    return value


@dataclass(frozen=True)
class ListenerConfig:
    queue_url: str
    aws_region: str | None = None  # None: boto3's default chain
    bus_name: str | None = None
    marks_table: str | None = None
    data_api_url: str = DATA_API_URL
    rate_limit: int = TRADES_RATE_LIMIT
    rate_window_s: float = TRADES_RATE_WINDOW_S
    request_timeout_s: float = 5.0
    poller: DataApiPollerSettings = field(default_factory=DataApiPollerSettings)
    listener: ListenerSettings = field(default_factory=ListenerSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ListenerConfig:
        queue_url = environ.get(TRADE_QUEUE_URL, "").strip()
        if not queue_url:
            raise ConfigError(f"{TRADE_QUEUE_URL} is not set: the listener has nowhere to publish trades")
        poller = DataApiPollerSettings(
            poll_interval_s=_number(environ, ENV_DATA_API_POLL_INTERVAL_S, DataApiPollerSettings.poll_interval_s, 0.05),
            initial_lookback_s=int(
                _number(environ, ENV_DATA_API_LOOKBACK_S, DataApiPollerSettings.initial_lookback_s, 0)
            ),
        )
        listener = ListenerSettings(
            refresh_interval_s=_number(environ, ENV_WATCH_LIST_REFRESH_S, ListenerSettings.refresh_interval_s, 1)
        )
        return cls(
            queue_url=queue_url,
            aws_region=environ.get("AWS_REGION", "").strip() or environ.get("AWS_DEFAULT_REGION", "").strip() or None,
            bus_name=environ.get(EVENT_BUS_NAME, "").strip() or None,
            marks_table=environ.get(ENV_MARKS_TABLE, "").strip() or None,
            data_api_url=environ.get(ENV_DATA_API_URL, "").strip() or DATA_API_URL,
            rate_limit=int(_number(environ, ENV_DATA_API_RATE_LIMIT, TRADES_RATE_LIMIT, 1)),
            poller=poller,
            listener=listener,
        )
