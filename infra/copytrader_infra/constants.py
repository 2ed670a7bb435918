"""Names, paths and tunables of the CDK app, in one place so each construct reads as wiring only."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from copytrader.runtime.env import POLYGON_RPC_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = REPO_ROOT / ".build"  # gitignored; holds the content-keyed layer builds
FUNCTIONS_DIR = REPO_ROOT / "functions"
DOMAIN_PACKAGE_DIR = REPO_ROOT / "shared" / "copytrader"
PYPROJECT = REPO_ROOT / "pyproject.toml"
LOCK_FILE = REPO_ROOT / "requirements" / "lock.txt"
LISTENER_DOCKERFILE = "functions/listener/Dockerfile"  # relative to REPO_ROOT, the image build context

STACK_ID = "CopyTrader"

# The Lambda runtime. The dependency layer's wheels are resolved for exactly this ABI and platform, and its
# bytecode compiled by the same Python minor, so these four values change together.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_WHEEL_PLATFORM = "manylinux2014_aarch64"
# Also offered to pip for the scoring layers: numpy >= 2.3 ships aarch64 wheels for glibc 2.28 only, and the
# python3.12 runtime (Amazon Linux 2023) has glibc 2.34.
LAMBDA_GLIBC_WHEEL_PLATFORM = "manylinux_2_28_aarch64"
LAMBDA_UNZIPPED_LIMIT_BYTES = 262_144_000  # 250 MB: a function's code and all its layers, unzipped

# Tables holding money or the state that guards it: deletion protection on, kept if the stack is deleted.
MONEY_TABLES = frozenset({"orders", "ledger", "positions", "risk"})

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
WHALE_TRADE_ARCHIVE_RETENTION = Duration.days(90)  # the longest scoring window (90-day EWMA half-life)

# Express workflows run for at most 5 minutes; a received trade stays invisible for longer than that, so
# a slow execution is never handed to a second one while the first is still running.
TRADE_QUEUE_VISIBILITY_TIMEOUT = Duration.seconds(330)
TRADE_QUEUE_MAX_RECEIVES = 3
# How old the head of the trade queue may get before an alarm: a copy decision is worth little after this.
TRADE_QUEUE_MAX_AGE = Duration.seconds(60)

# The listener's Polygon RPC WebSocket URL (it embeds the provider's API key), injected from Secrets Manager.
POLYGON_RPC_URL_ENV = POLYGON_RPC_URL

# `cdk synth -c <key>=<value>` switches.
CONTEXT_LISTENER_DESIRED_COUNT = "copytrader:listenerDesiredCount"
# paper (default) or live: live is refused outside a region Polymarket allows (copytrader_infra.region), and a
# paper deployment pins the copy functions to paper whatever the settings parameter says
CONTEXT_MODE = "copytrader:mode"

# The listener's liveness file (copytrader.runtime.heartbeat), on a task-storage volume: the root filesystem is
# read-only. functions/listener/Dockerfile creates its folder for the container's user.
LISTENER_HEARTBEAT_FILE_PATH = "/run/copytrader/listener.heartbeat"
