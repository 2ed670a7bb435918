"""The trade queue (FIFO, high throughput, DLQ after 3 receives), the WhaleTrade bus and the alert topic."""

from __future__ import annotations

from typing import Any

import pytest

from copytrader.runtime.env import EVENT_DETAIL_TYPE, EVENT_SOURCE

pytestmark = pytest.mark.infra


def _ssl_only(synthesized: Any, policy_type: str, target_key: str, logical_id: str) -> bool:
    for policy in synthesized.of_type(policy_type).values():
        if not synthesized.mentions(policy["Properties"][target_key], logical_id):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement.get("Condition") == {
                "Bool": {"aws:SecureTransport": "false"}
            }:
                return True
    return False


def test_trade_queue_is_high_throughput_fifo_with_publisher_dedup(synthesized: Any) -> None:
    messaging = synthesized.stack.messaging
    queue = synthesized.resources[synthesized.logical_id(messaging.trade_queue)]["Properties"]
    dead_letters_id = synthesized.logical_id(messaging.dead_letter_queue)

    assert len(synthesized.of_type("AWS::SQS::Queue")) == 2
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False
    assert queue["DeduplicationScope"] == "messageGroup"
    assert queue["FifoThroughputLimit"] == "perMessageGroupId"
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters_id, "Arn"]},
        "maxReceiveCount": 3,
    }
    assert queue["VisibilityTimeout"] > 300  # longer than an Express execution can run
    assert queue["SqsManagedSseEnabled"] is True


def test_dead_letter_queue_is_fifo_and_keeps_messages_longest(synthesized: Any) -> None:
    dead_letters = synthesized.resources[synthesized.logical_id(synthesized.stack.messaging.dead_letter_queue)]
    assert dead_letters["Properties"]["FifoQueue"] is True
    assert dead_letters["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letters["Properties"]["SqsManagedSseEnabled"] is True


def test_queues_refuse_plain_http(synthesized: Any) -> None:
    for queue in (synthesized.stack.messaging.trade_queue, synthesized.stack.messaging.dead_letter_queue):
        assert _ssl_only(synthesized, "AWS::SQS::QueuePolicy", "Queues", synthesized.logical_id(queue))


def test_archive_has_no_empty_kms_key_identifier_that_some_regions_reject(synthesized: Any) -> None:
    # aws-cdk issue 37847: the L2 writes `KmsKeyIdentifier: ""` (no key meant); some regions refuse the empty string
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    assert "KmsKeyIdentifier" not in archive["Properties"]


def test_bus_archives_whale_trades_for_replay(synthesized: Any) -> None:
    bus_id = synthesized.logical_id(synthesized.stack.messaging.event_bus)
    (archive,) = synthesized.of_type("AWS::Events::Archive").values()
    assert len(synthesized.of_type("AWS::Events::EventBus")) == 1
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["EventPattern"] == {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE]}
    assert archive["Properties"]["RetentionDays"] == 90


def test_alert_topic_is_encrypted_with_a_key_cloudwatch_can_use(synthesized: Any) -> None:
    alerts = synthesized.stack.alerts
    topic_id, key_id = synthesized.logical_id(alerts.topic), synthesized.logical_id(alerts.key)
    topic = synthesized.resources[topic_id]["Properties"]
    key = synthesized.resources[key_id]["Properties"]

    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["EnableKeyRotation"] is True
    cloudwatch = [s for s in key["KeyPolicy"]["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert [sorted(s["Action"]) for s in cloudwatch] == [["kms:Decrypt", "kms:GenerateDataKey"]]
    assert _ssl_only(synthesized, "AWS::SNS::TopicPolicy", "Topics", topic_id)


def _alarms_of_this_account(synthesized: Any) -> str:
    """arn:<partition>:cloudwatch:<region>:<account>:alarm:*, as `Synthesized.flat` writes it."""
    return f"arn:aws:cloudwatch:{synthesized.stack.region}:<AWS::AccountId>:alarm:*"


def test_cloudwatch_alarms_of_this_account_may_publish_to_the_alert_topic(synthesized: Any) -> None:
    # enforce_ssl writes a topic policy, which replaces SNS's default one: without this statement no alarm notifies
    topic_id = synthesized.logical_id(synthesized.stack.alerts.topic)
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    assert policy["Properties"]["Topics"] == [{"Ref": topic_id}]
    allowed = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allowed == [
        {
            "Sid": "CloudWatchAlarmsOfThisAccountPublish",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": {"Ref": topic_id},
            "Condition": {
                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                "ArnLike": {"aws:SourceArn": allowed[0]["Condition"]["ArnLike"]["aws:SourceArn"]},
            },
        }
    ]
    assert synthesized.flat(allowed[0]["Condition"]["ArnLike"]["aws:SourceArn"]) == _alarms_of_this_account(synthesized)


def test_alert_key_lets_cloudwatch_encrypt_only_for_alarms_of_this_account(synthesized: Any) -> None:
    key_id = synthesized.logical_id(synthesized.stack.alerts.key)
    statements = synthesized.resources[key_id]["Properties"]["KeyPolicy"]["Statement"]
    (cloudwatch,) = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert synthesized.flat(cloudwatch["Condition"]["ArnLike"]["aws:SourceArn"]) == _alarms_of_this_account(synthesized)


def test_every_publisher_of_the_alert_topic_is_allowed_to_publish(synthesized: Any) -> None:
    """Alarms through the topic policy (above); roles through their identity policies, with the key; EventBridge
    rules would need a topic-policy statement of their own, so none may target the topic without one."""
    alerts = synthesized.stack.alerts
    topic_id, key_id = synthesized.logical_id(alerts.topic), synthesized.logical_id(alerts.key)
    by_role: dict[str, set[str]] = {}
    for role, statement in synthesized.identity_statements():
        if synthesized.mentions(statement["Resource"], topic_id) or synthesized.mentions(statement["Resource"], key_id):
            by_role.setdefault(role, set()).update(synthesized.as_list(statement["Action"]))
    publishers = {synthesized.logical_id(synthesized.stack.pipeline.functions["execute"].role)}
    publishers.add(synthesized.logical_id(synthesized.stack.scoring.state_machine.role))  # Notify
    publishers.add(synthesized.logical_id(synthesized.stack.books.functions["settle"].role))  # the halts it may trip
    publishers.add(synthesized.logical_id(synthesized.stack.books.functions["venue_sync"].role))  # a difference
    publishers.add(synthesized.logical_id(synthesized.stack.exits.scan.role))  # the halts marked equity may trip
    assert by_role == {role: {"sns:Publish", "kms:GenerateDataKey", "kms:Decrypt"} for role in publishers}
    (policy,) = synthesized.of_type("AWS::SNS::TopicPolicy").values()
    principals = [s.get("Principal") for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    for rule in synthesized.of_type("AWS::Events::Rule").values():
        if synthesized.mentions(rule["Properties"].get("Targets", []), topic_id):
            assert {"Service": "events.amazonaws.com"} in principals


def test_settings_parameter_defaults_to_empty_settings(synthesized: Any) -> None:
    (parameter,) = synthesized.of_type("AWS::SSM::Parameter").values()
    assert parameter["Properties"]["Type"] == "String"
    assert parameter["Properties"]["Value"] == "{}"
