"""The template as a whole: resource inventory, cdk-nag outcome and acknowledgements, cfn-lint, alarms."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file

from copytrader_infra.region import RECOMMENDED_REGION

pytestmark = pytest.mark.infra

_ACKNOWLEDGED = "aws:cdk:acknowledged-rules"

# Every finding the stack keeps, and where. A new acknowledgement must be added here on purpose.
EXPECTED_ACKNOWLEDGEMENTS = {
    ("AwsSolutions::AwsSolutions-SMG4", "CopyTrader/Credentials"),
    *(
        ("AwsSolutions::AwsSolutions-L1", f"CopyTrader/CopyPipeline/{step}/Function")
        for step in ("Score", "Size", "RiskCheck", "Execute")
    ),
    ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", "CopyTrader/CopyPipeline/StateMachine/Role"),
    ("AwsSolutions::AwsSolutions-SF2", "CopyTrader/CopyPipeline/StateMachine"),
    ("AwsSolutions::AwsSolutions-ECS2", "CopyTrader/Listener/Task"),
    ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", "CopyTrader/Listener/Task/ExecutionRole"),
    # the whale-scoring workflow (copytrader_infra/scoring.py)
    ("AwsSolutions::AwsSolutions-S1", "CopyTrader/WhaleScoring/Bucket"),
    *(
        ("AwsSolutions::AwsSolutions-L1", f"CopyTrader/WhaleScoring/{step}/Function")
        for step in ("WhalesDiscover", "WhalesEvidence", "WhalesSelect")
    ),
    *(
        (f"AwsSolutions::AwsSolutions-IAM5[Resource::<WhaleScoringBucketEC2EECDA.Arn>/{prefix}*]", f"CopyTrader/{role}")
        for role, prefix in (
            ("WhaleScoring/WhalesDiscover/Role", "runs/"),
            ("WhaleScoring/WhalesEvidence/Role", "runs/"),
            ("WhaleScoring/WhalesEvidence/Role", "cache/"),
            ("WhaleScoring/WhalesSelect/Role", "runs/"),
            ("WhaleScoring/StateMachine/Role", "runs/"),
        )
    ),
    ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", "CopyTrader/WhaleScoring/StateMachine/Role"),
    ("AwsSolutions::AwsSolutions-SF2", "CopyTrader/WhaleScoring/StateMachine"),
    # the books workflow (copytrader_infra/books.py)
    *(
        ("AwsSolutions::AwsSolutions-L1", f"CopyTrader/Books/{step}/Function")
        for step in ("BooksSettle", "BooksAudit", "BooksVenueSync")
    ),
    ("AwsSolutions::AwsSolutions-L1", "CopyTrader/Exits/ExitsScan/Function"),
    ("AwsSolutions::AwsSolutions-IAM5[Resource::*]", "CopyTrader/Books/StateMachine/Role"),
    ("AwsSolutions::AwsSolutions-SF2", "CopyTrader/Books/StateMachine"),
    *(
        (
            f"AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:states:{RECOMMENDED_REGION}:<AWS::AccountId>:"
            f"execution:<WhaleScoringStateMachine33624A6D.Name>{suffix}]",
            "CopyTrader/WhaleScoring/DistributedMapPolicy",
        )
        for suffix in (":*", "/*")
    ),
}


def _acknowledgements(synthesized: Any) -> dict[tuple[str, str], str]:
    metadata = synthesized.read_json(f"{synthesized.stack.stack_name}.metadata.json")
    found = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry["type"] == _ACKNOWLEDGED:
                found.update({(rule, path.lstrip("/")): reason for rule, reason in entry["data"].items()})
    return found


def test_resource_inventory(synthesized: Any) -> None:
    counts = Counter(resource["Type"] for resource in synthesized.resources.values())
    assert {
        resource_type: counts[resource_type]
        for resource_type in (
            "AWS::DynamoDB::GlobalTable",
            "AWS::SQS::Queue",
            "AWS::Events::EventBus",
            "AWS::Events::Archive",
            "AWS::SNS::Topic",
            "AWS::KMS::Key",
            "AWS::SecretsManager::Secret",
            "AWS::SSM::Parameter",
            "AWS::Lambda::LayerVersion",
            "AWS::StepFunctions::StateMachine",
            "AWS::Pipes::Pipe",
            "AWS::ECS::Cluster",
            "AWS::ECS::TaskDefinition",
            "AWS::ECS::Service",
            "AWS::CloudWatch::Dashboard",
            "AWS::CloudWatch::Alarm",
        )
    } == {
        "AWS::DynamoDB::GlobalTable": 10,  # + stances (conflicts between whales), price marks
        "AWS::SQS::Queue": 2,
        "AWS::Events::EventBus": 1,
        "AWS::Events::Archive": 1,
        "AWS::SNS::Topic": 1,
        "AWS::KMS::Key": 2,
        "AWS::SecretsManager::Secret": 2,
        "AWS::SSM::Parameter": 1,
        "AWS::Lambda::LayerVersion": 5,  # dependencies, domain, venue; the scoring workflow's quant and http
        "AWS::StepFunctions::StateMachine": 3,  # copy, scoring, books
        "AWS::Pipes::Pipe": 1,
        "AWS::ECS::Cluster": 1,
        "AWS::ECS::TaskDefinition": 1,
        "AWS::ECS::Service": 1,
        "AWS::CloudWatch::Dashboard": 1,
        # + the books: audit violations, audit missing, failed, venue-sync differences and failures, burned nothing
        # + the exits scan: failing, missing, publish failed
        "AWS::CloudWatch::Alarm": 26,
    }
    # Four pipeline functions, three scoring functions, three books functions, the exits scan, and the provider CDK
    # adds to strip the VPC's default security group.
    assert counts["AWS::Lambda::Function"] == 12
    # daily scoring, the reconcile sweep, the hourly books, the exits scan every minute
    assert counts["AWS::S3::Bucket"] == 1 and counts["AWS::Scheduler::Schedule"] == 4
    assert counts["AWS::EC2::NatGateway"] == 0


def test_cdk_nag_left_no_unacknowledged_finding(synthesized: Any) -> None:
    report = synthesized.read_json("validation-report.json")
    violations = [v for plugin in report["pluginReports"] for v in plugin["violations"]]
    assert violations == []


def test_every_acknowledgement_is_expected_and_explained(synthesized: Any) -> None:
    acknowledgements = _acknowledgements(synthesized)
    ours = {(rule, path) for rule, path in acknowledgements if rule.startswith("AwsSolutions::")}
    assert ours == EXPECTED_ACKNOWLEDGEMENTS
    # CDK's own constructs acknowledge some CloudFormation-Validate findings; those must carry reasons too.
    for (rule, path), reason in acknowledgements.items():
        assert len(reason.split()) >= 8, f"{rule} at {path} needs a real reason, got {reason!r}"


def test_cfn_lint_finds_no_errors_in_the_region_the_stack_is_synthesized_for(synthesized: Any) -> None:
    # the resource types, properties and values cfn-lint checks differ by region: lint for the one deployed to
    region = synthesized.stack.region
    assert region == RECOMMENDED_REGION == "eu-west-1"
    matches = lint_file(synthesized.template_path, config=ManualArgs(regions=[region]))
    errors = [f"{m.rule.id} {m.message} ({m.path})" for m in matches if m.rule.id.startswith("E")]
    assert errors == []


def test_every_alarm_notifies_the_alert_topic(synthesized: Any) -> None:
    topic_id = synthesized.logical_id(synthesized.stack.alerts.topic)
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm")
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        # an audit that stops reporting is itself the alarm
        watchdog = alarm["Properties"].get("MetricName") in ("books_audit_checks", "exits_scan_positions")
        missing = "breaching" if watchdog else "notBreaching"
        assert alarm["Properties"]["TreatMissingData"] == missing
    watched = {(a["Properties"].get("Namespace"), a["Properties"].get("MetricName")) for a in alarms.values()}
    assert watched == {
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/SQS", "ApproximateAgeOfOldestMessage"),
        ("AWS/States", "ExecutionsFailed"),
        ("AWS/States", "ExecutionsTimedOut"),
        ("AWS/Lambda", "Errors"),
        # the listener's own metrics (copytrader.listener.telemetry), per live feed
        *(("CopyTrader", f"listener_{feed}_{what}") for feed in ("chain", "rtds") for what in ("stale", "missed")),
        ("CopyTrader", "execute_unknown"),  # the pipeline's own metric (copytrader.workflows.copy.telemetry)
        ("CopyTrader", "reconcile_oldest_unresolved_s"),  # the reconcile sweep's (copytrader.workflows.copy.sweep)
        ("CopyTrader", "reconcile_error"),
        ("CopyTrader", "books_audit_violations"),  # the hourly audit (copytrader.workflows.books.steps.audit)
        ("CopyTrader", "books_audit_checks"),
        ("CopyTrader", "books_venue_sync_differences"),  # the venue sync (copytrader.workflows.books.steps)
        ("CopyTrader", "books_venue_sync_failed"),
        ("CopyTrader", "books_settle_redemption_burned_nothing"),  # live redemption (workflows.books.live_redeem)
        ("CopyTrader", "exits_scan_positions"),  # the exits scan ran (copytrader.workflows.exits.steps)
        ("CopyTrader", "exits_scan_publish_failed"),
    }
    for alarm in alarms.values():
        if alarm["Properties"].get("Namespace") == "CopyTrader":
            listener = alarm["Properties"]["MetricName"].startswith("listener_")
            service = "listener" if listener else "copytrader"
            assert alarm["Properties"]["Dimensions"] == [{"Name": "service", "Value": service}]
    stale = [a for a in alarms.values() if a["Properties"]["MetricName"].endswith("_stale")]
    assert all(a["Properties"]["EvaluationPeriods"] == 3 for a in stale)
    lambda_alarms = [a for a in alarms.values() if a["Properties"]["MetricName"] == "Errors"]
    assert len(lambda_alarms) == 5  # the four pipeline functions and the exits scan
