"""`copytrader preflight` and `copytrader reconcile` with the venue secret in (moto's) Secrets Manager."""

from __future__ import annotations

import json

import pytest
from eth_account import Account

from copytrader.cli import main
from copytrader.errors import CredentialsError
from copytrader.execution.credentials import load_credentials
from copytrader.runtime import env as runtime_env
from tests.support.fake_clob import fake_clob

pytestmark = pytest.mark.integration


def _secret(aws, monkeypatch, payload: dict) -> str:
    arn = aws.client("secretsmanager").create_secret(Name="venue-test", SecretString=json.dumps(payload))["ARN"]
    monkeypatch.setenv(runtime_env.VENUE_SECRET_ARN, arn)
    return arn


def test_preflight_command_reads_the_secret_and_reports_every_check(aws, monkeypatch, capsys):
    key = Account.create().key.hex()
    _secret(aws, monkeypatch, {"private_key": key, "signature_type": "EOA"})
    with fake_clob() as clob:
        monkeypatch.setenv("COPYTRADER_CLOB_URL", clob.url)
        monkeypatch.setenv("COPYTRADER_VENUE__GEOBLOCK_URL", clob.url)
        assert main(["preflight"]) == 0
        passed = capsys.readouterr().out
        clob.allowance = 0
        assert main(["preflight"]) == 1
        failed = json.loads(capsys.readouterr().out)
    assert json.loads(passed)["passed"] is True
    assert [c["name"] for c in failed["checks"] if not c["passed"]] == ["allowance"]
    assert key.removeprefix("0x") not in passed + json.dumps(failed)


def test_a_malformed_secret_fails_by_field_name_only(aws, monkeypatch, capsys):
    _secret(aws, monkeypatch, {"private_key": "0xdeadbeef", "api_secret": "hunter2"})
    with pytest.raises(CredentialsError, match="private_key"):
        load_credentials()
    assert main(["preflight"]) == 1
    out = capsys.readouterr().out
    assert "private_key" in out and "deadbeef" not in out and "hunter2" not in out


def test_reconcile_command_with_nothing_unsettled(aws, capsys):
    assert main(["reconcile"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["examined"], report["released"], report["entries"]) == (0, 0, [])
