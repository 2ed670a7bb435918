"""The listener's environment: required names, defaults, overrides, clear errors, and a log summary without URLs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from copytrader.errors import ConfigError
from copytrader.listener.config import (
    ENV_DATA_API_LOOKBACK_S,
    ENV_DATA_API_POLL_INTERVAL_S,
    ENV_DATA_API_RATE_LIMIT,
    ENV_DATA_API_URL,
    ENV_MARKS_TABLE,
    ENV_WATCH_LIST_REFRESH_S,
    ListenerConfig,
)
from copytrader.polymarket.data_api import DATA_API_URL
from copytrader.runtime.env import EVENT_BUS_NAME, LISTENER_HEARTBEAT_FILE, TRADE_QUEUE_URL

QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/copytrader-trades.fifo"
MAIN = Path(__file__).resolve().parents[3] / "functions" / "listener" / "main.py"


def entry_point() -> ModuleType:
    spec = importlib.util.spec_from_file_location("listener_main", MAIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_defaults_follow_the_documented_limits() -> None:
    config = ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE})
    assert config.queue_url == QUEUE and config.bus_name is None and config.marks_table is None
    assert config.data_api_url == DATA_API_URL == "https://data-api.polymarket.com"
    assert (config.rate_limit, config.rate_window_s) == (200, 10.0)


def test_overrides_are_read() -> None:
    config = ListenerConfig.from_env(
        {
            TRADE_QUEUE_URL: QUEUE,
            EVENT_BUS_NAME: "bus",
            ENV_MARKS_TABLE: "copytrader-watermarks",
            ENV_DATA_API_URL: "http://127.0.0.1:9000/data",
            ENV_DATA_API_RATE_LIMIT: "150",
            ENV_DATA_API_POLL_INTERVAL_S: "0.5",
            ENV_DATA_API_LOOKBACK_S: "900",
            ENV_WATCH_LIST_REFRESH_S: "30",
        }
    )
    assert (config.bus_name, config.marks_table) == ("bus", "copytrader-watermarks")
    assert config.data_api_url == "http://127.0.0.1:9000/data" and config.rate_limit == 150
    assert config.poller.poll_interval_s == 0.5 and config.poller.initial_lookback_s == 900
    assert config.listener.refresh_interval_s == 30
    assert ENV_MARKS_TABLE == "COPYTRADER_TABLE_WATERMARKS"


def test_the_heartbeat_file_is_read_from_the_environment_and_off_without_it() -> None:
    assert ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE}).listener.heartbeat_file is None
    config = ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE, LISTENER_HEARTBEAT_FILE: "/run/copytrader/heartbeat"})
    assert config.listener.heartbeat_file == "/run/copytrader/heartbeat"


def test_region_follows_ecs_then_the_sdk_default() -> None:
    assert ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE, "AWS_REGION": "eu-west-1"}).aws_region == "eu-west-1"
    assert (
        ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE, "AWS_DEFAULT_REGION": "us-east-2"}).aws_region == "us-east-2"
    )
    assert ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE}).aws_region is None


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({}, TRADE_QUEUE_URL),
        ({TRADE_QUEUE_URL: QUEUE, ENV_DATA_API_RATE_LIMIT: "lots"}, ENV_DATA_API_RATE_LIMIT),
        ({TRADE_QUEUE_URL: QUEUE, ENV_DATA_API_RATE_LIMIT: "0"}, ENV_DATA_API_RATE_LIMIT),
        ({TRADE_QUEUE_URL: QUEUE, ENV_DATA_API_POLL_INTERVAL_S: "nan"}, ENV_DATA_API_POLL_INTERVAL_S),
    ],
)
def test_bad_environments_name_the_variable(environ: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        ListenerConfig.from_env(environ)


def test_the_startup_summary_names_hosts_not_urls() -> None:
    config = ListenerConfig.from_env({TRADE_QUEUE_URL: QUEUE, ENV_DATA_API_URL: "https://user:s3cret@proxy.example/x"})
    summary = entry_point().summary(config)
    assert summary["data_api_host"] == "proxy.example"
    assert "s3cret" not in repr(summary) and QUEUE not in repr(summary)
