"""Names of the environment variables the deployables read, shared by the CDK app and the handlers.

Table names are `copytrader.store.connection.table_env_var(<logical>)` (COPYTRADER_TABLE_<NAME>).
"""

from __future__ import annotations

SETTINGS_SSM = "COPYTRADER_SETTINGS_SSM"  # SSM parameter name holding the settings JSON
SETTINGS_FILE = "COPYTRADER_SETTINGS_FILE"
ALERT_TOPIC_ARN = "COPYTRADER_ALERT_TOPIC_ARN"  # SNS topic for alerts (breaker trips, stale feeds)
EVENT_BUS_NAME = "COPYTRADER_EVENT_BUS_NAME"  # EventBridge bus for WhaleTrade fan-out
TRADE_QUEUE_URL = "COPYTRADER_TRADE_QUEUE_URL"  # SQS FIFO queue feeding the copy pipeline
VENUE_SECRET_ARN = "COPYTRADER_VENUE_SECRET_ARN"  # Secrets Manager secret with the CLOB credentials (execute only)
POLYGON_RPC_URL = "COPYTRADER_POLYGON_RPC_URL"  # the listener's Polygon JSON-RPC WebSocket URL (an operator secret)
# Polygon JSON-RPC over HTTP for the books functions' chain reads (live redemption's verification, the venue sync)
POLYGON_HTTP_RPC_URL = "COPYTRADER_POLYGON_HTTP_RPC_URL"
# the listener's liveness file, which the container health check reads (copytrader.runtime.heartbeat); unset: none
LISTENER_HEARTBEAT_FILE = "COPYTRADER_LISTENER_HEARTBEAT_FILE"
SCORING_BUCKET = "COPYTRADER_SCORING_BUCKET"  # S3 bucket of the scoring workflow: run data and the discovery cache
DATA_API_URL = "COPYTRADER_DATA_API_URL"  # Data API base URL for the scoring workflow (default: the public one)
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
METRICS_NAMESPACE = "CopyTrader"
SERVICE_NAME = "copytrader"
EVENT_SOURCE = "copytrader.listener"  # EventBridge `source` of WhaleTrade events
EVENT_DETAIL_TYPE = "WhaleTrade"
