"""The listener's configuration, read from the task's environment (names shared with the CDK app).

Required: `COPYTRADER_TRADE_QUEUE_URL`. The region comes from `AWS_REGION` (set by ECS) or
`AWS_DEFAULT_REGION`, as for the tables in `copytrader.store`. Optional: `COPYTRADER_EVENT_BUS_NAME`
(fan-out), the tables' `COPYTRADER_TABLE_<NAME>` (read by `copytrader.store`), `COPYTRADER_TABLE_WATERMARKS`
(the high-water marks table; without it marks live in memory and a restart starts every wallet from the
initial lookback), the Data API knobs and the RTDS switches below, and `COPYTRADER_POLYGON_RPC_URL` (the
Polygon JSON-RPC WebSocket URL, an operator secret injected by ECS: with it the chain source runs; it is
kept out of `repr` and never logged), and `COPYTRADER_LISTENER_HEARTBEAT_FILE` (the liveness file the
container's health check reads). Price marks (`copytrader.listener.marks_feed`) run when
`COPYTRADER_TABLE_MARKS` is set (unless `COPYTRADER_PRICE_MARKS_ENABLED=false`), for the positions of
`COPYTRADER_ACCOUNT` (default `paper`), over `COPYTRADER_CLOB_WS_URL` and `COPYTRADER_CLOB_URL`; with them the
fast stops (`copytrader.listener.fast_exits`, unless `COPYTRADER_FAST_EXITS_ENABLED=false`), whose rules are the
settings' (`COPYTRADER_SETTINGS_SSM`, as the Lambdas read them). Every other value is a name or a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from copytrader.copying.exits import ExitRules
from copytrader.errors import ConfigError
from copytrader.listener.data_api_poller import DataApiPollerSettings
from copytrader.listener.marks_feed import MarkFeedSettings
from copytrader.listener.rtds_source import RtdsSettings
from copytrader.listener.service import ListenerSettings
from copytrader.polymarket.clob_market import MARKET_CHANNEL_URL
from copytrader.polymarket.data_api import DATA_API_URL
from copytrader.polymarket.data_api.rate_limit import TRADES_RATE_LIMIT, TRADES_RATE_WINDOW_S
from copytrader.runtime.env import EVENT_BUS_NAME, LISTENER_HEARTBEAT_FILE, POLYGON_RPC_URL, TRADE_QUEUE_URL
from copytrader.settings import PAPER_ACCOUNT, load_settings
from copytrader.store.connection import table_env_var

MARKS_TABLE = "watermarks"  # logical table name of the high-water marks
ENV_MARKS_TABLE = table_env_var(MARKS_TABLE)
ENV_DATA_API_URL = "COPYTRADER_DATA_API_URL"
ENV_DATA_API_RATE_LIMIT = "COPYTRADER_DATA_API_RATE_LIMIT"  # requests per 10 s window for this task
ENV_DATA_API_POLL_INTERVAL_S = "COPYTRADER_DATA_API_POLL_INTERVAL_S"
ENV_DATA_API_LOOKBACK_S = "COPYTRADER_DATA_API_LOOKBACK_S"
ENV_WATCH_LIST_REFRESH_S = "COPYTRADER_WATCH_LIST_REFRESH_S"
ENV_GAMMA_URL = "COPYTRADER_GAMMA_URL"  # token -> market look-ups for the chain source
GAMMA_URL = "https://gamma-api.polymarket.com"
ENV_RTDS_ENABLED = "COPYTRADER_RTDS_ENABLED"  # "false" turns the RTDS source off (it is unofficial)
ENV_RTDS_URL = "COPYTRADER_RTDS_URL"
ENV_RTDS_STALE_S = "COPYTRADER_RTDS_STALE_S"
PRICE_MARKS_TABLE = "marks"  # logical name of the price marks table (not the high-water marks above)
ENV_PRICE_MARKS_ENABLED = "COPYTRADER_PRICE_MARKS_ENABLED"  # "false" turns the mark feed off
ENV_FAST_EXITS_ENABLED = "COPYTRADER_FAST_EXITS_ENABLED"  # "false" turns the fast stops off (they need the marks)
ENV_CLOB_WS_URL = "COPYTRADER_CLOB_WS_URL"  # the CLOB market channel
ENV_CLOB_URL = "COPYTRADER_CLOB_URL"  # the CLOB REST base (GET /book, the fallback); the settings' `clob_url`
ENV_ACCOUNT = "COPYTRADER_ACCOUNT"  # the settings' `account`: whose positions are marked
ENV_MARKS_REST_AFTER_S = "COPYTRADER_MARKS_REST_AFTER_S"
CLOB_URL = "https://clob.polymarket.com"


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
    rtds: RtdsSettings | None = field(default_factory=RtdsSettings)  # None: the RTDS source is off
    rpc_url: str | None = field(default=None, repr=False)  # the chain source's secret; None: chain source off
    gamma_url: str = GAMMA_URL
    price_marks: MarkFeedSettings | None = None  # None: no price marks (no marks table configured)
    account: str = PAPER_ACCOUNT  # whose positions are marked
    clob_url: str = CLOB_URL
    exit_rules: ExitRules | None = None  # the fast stops' rules (the settings'); None: no fast stops

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
            refresh_interval_s=_number(environ, ENV_WATCH_LIST_REFRESH_S, ListenerSettings.refresh_interval_s, 1),
            heartbeat_file=environ.get(LISTENER_HEARTBEAT_FILE, "").strip() or None,
        )
        enabled = environ.get(ENV_RTDS_ENABLED, "true").strip().lower()
        if enabled not in ("true", "false"):
            raise ConfigError(f"{ENV_RTDS_ENABLED} must be true or false, got {enabled!r}")
        rtds = (
            RtdsSettings(
                url=environ.get(ENV_RTDS_URL, "").strip() or RtdsSettings.url,
                stale_after_s=_number(environ, ENV_RTDS_STALE_S, RtdsSettings.stale_after_s, 1),
            )
            if enabled == "true"
            else None
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
            rtds=rtds,
            rpc_url=environ.get(POLYGON_RPC_URL, "").strip() or None,
            gamma_url=environ.get(ENV_GAMMA_URL, "").strip() or GAMMA_URL,
            price_marks=_price_marks(environ),
            account=environ.get(ENV_ACCOUNT, "").strip() or PAPER_ACCOUNT,
            clob_url=environ.get(ENV_CLOB_URL, "").strip() or CLOB_URL,
            exit_rules=_exit_rules(environ),
        )


def _price_marks(environ: Mapping[str, str]) -> MarkFeedSettings | None:
    """Price marks run when the marks table is configured, unless switched off."""
    enabled = environ.get(ENV_PRICE_MARKS_ENABLED, "true").strip().lower()
    if enabled not in ("true", "false"):
        raise ConfigError(f"{ENV_PRICE_MARKS_ENABLED} must be true or false, got {enabled!r}")
    if enabled == "false" or not environ.get(table_env_var(PRICE_MARKS_TABLE), "").strip():
        return None
    return MarkFeedSettings(
        url=environ.get(ENV_CLOB_WS_URL, "").strip() or MARKET_CHANNEL_URL,
        rest_after_s=_number(environ, ENV_MARKS_REST_AFTER_S, MarkFeedSettings.rest_after_s, 1),
    )


def _exit_rules(environ: Mapping[str, str]) -> ExitRules | None:
    """The fast stops run with the price marks, unless switched off, on the same settings as the exits job
    (`load_settings`: the settings parameter, then COPYTRADER_* variables)."""
    enabled = environ.get(ENV_FAST_EXITS_ENABLED, "true").strip().lower()
    if enabled not in ("true", "false"):
        raise ConfigError(f"{ENV_FAST_EXITS_ENABLED} must be true or false, got {enabled!r}")
    if enabled == "false" or _price_marks(environ) is None:
        return None
    return ExitRules.from_settings(load_settings(environ=environ))
