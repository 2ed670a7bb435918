"""How whale trades travel: the SQS FIFO queue into the copy pipeline, and the EventBridge bus for fan-out.

The listener sends each canonical trade to both. The queue is the hot path: one message group per market
keeps a market's trades in order while markets proceed in parallel, and the publisher sets
`MessageDeduplicationId` to the trade key, so content-based deduplication stays off (two feeds reporting
the same fill produce different bodies but the same key). The bus carries the same trades to any other
consumer and archives them for replay.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from copytrader.runtime.env import EVENT_DETAIL_TYPE, EVENT_SOURCE
from copytrader_infra.constants import (
    TRADE_QUEUE_MAX_RECEIVES,
    TRADE_QUEUE_VISIBILITY_TIMEOUT,
    WHALE_TRADE_ARCHIVE_RETENTION,
)


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = sqs.Queue(
            self,
            "TradeDeadLetterQueue",
            fifo=True,
            retention_period=Duration.days(14),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.trade_queue = sqs.Queue(
            self,
            "TradeQueue",
            fifo=True,
            content_based_deduplication=False,
            # High-throughput FIFO: deduplication and throughput limits apply per message group (market).
            deduplication_scope=sqs.DeduplicationScope.MESSAGE_GROUP,
            fifo_throughput_limit=sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
            visibility_timeout=TRADE_QUEUE_VISIBILITY_TIMEOUT,
            dead_letter_queue=sqs.DeadLetterQueue(
                max_receive_count=TRADE_QUEUE_MAX_RECEIVES, queue=self.dead_letter_queue
            ),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.event_bus = events.EventBus(self, "WhaleTradeBus", description="WhaleTrade fan-out from the listener")
        self.archive = self.event_bus.archive(
            "WhaleTradeArchive",
            description="Every WhaleTrade the listener published, for replay",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[EVENT_DETAIL_TYPE]),
            retention=WHALE_TRADE_ARCHIVE_RETENTION,
        )
        # The L2 writes `KmsKeyIdentifier: ""` for "no key" (aws-cdk issue 37847), which some regions reject; without
        # the property the archive uses an AWS owned key, which is what the empty string meant.
        archive = self.archive.node.default_child
        assert isinstance(archive, events.CfnArchive)
        archive.add_property_deletion_override("KmsKeyIdentifier")
