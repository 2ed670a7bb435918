"""Fargate entry point of the whale-trade listener: `python functions/listener/main.py`.

Builds the listener from the task's environment (`copytrader.listener.config`), runs it until SIGTERM
(ECS stopping the task) or SIGINT, then drains: pending trades are published and high-water marks
persisted before the process exits. Logs are one JSON object per line on stdout (Powertools formatter,
collected by the awslogs driver). Nothing is written to disk (the root filesystem is read-only) and no
secret is logged: the configuration summary names hosts and numbers only.

Exit codes: 0 after a clean stop, 2 for an invalid configuration, 1 for any other failure (ECS restarts
the task).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping

import httpx
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from copytrader.errors import ConfigError
from copytrader.listener import ListenerConfig, deployed_listener
from copytrader.runtime.env import POWERTOOLS_SERVICE_NAME, SERVICE_NAME

logger = logging.getLogger("copytrader.listener.main")


def configure_logging(environ: Mapping[str, str]) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(LambdaPowertoolsFormatter(service=environ.get(POWERTOOLS_SERVICE_NAME, SERVICE_NAME)))
    level = environ.get("POWERTOOLS_LOG_LEVEL", "INFO").strip().upper()
    logging.basicConfig(
        level=level if level in logging.getLevelNamesMapping() else logging.INFO, handlers=[handler], force=True
    )
    for noisy in ("httpx", "httpcore", "botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # httpx logs every request URL at INFO


def summary(config: ListenerConfig) -> dict[str, object]:
    """What the logs may say about the configuration: hosts and numbers, never a full URL."""
    return {
        "data_api_host": httpx.URL(config.data_api_url).host,
        "rate_limit": config.rate_limit,
        "poll_interval_s": config.poller.poll_interval_s,
        "initial_lookback_s": config.poller.initial_lookback_s,
        "refresh_interval_s": config.listener.refresh_interval_s,
        "event_bus": config.bus_name is not None,
        "persistent_marks": config.marks_table is not None,
        "price_marks": config.price_marks is not None,
    }


async def serve(config: ListenerConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with deployed_listener(config) as listener:
        logger.info("listener starting", extra=summary(config))
        if config.marks_table is None:
            logger.warning("no high-water marks table: a restart backfills only the initial lookback")
        await listener.run(stop)
    logger.info("listener stopped")


def main() -> int:
    configure_logging(os.environ)
    try:
        config = ListenerConfig.from_env(os.environ)
    except ConfigError as exc:
        logger.error("listener configuration is invalid", extra={"error": str(exc)})
        return 2
    try:
        asyncio.run(serve(config))
    except Exception:
        logger.exception("listener failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
