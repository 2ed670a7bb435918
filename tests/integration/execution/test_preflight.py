"""Live preflight against the loopback CLOB (geoblock, version, credentials, balance and allowance)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from eth_account import Account

from copytrader.execution.clob_venue import ClobVenue
from copytrader.execution.credentials import ApiCredentials, VenueCredentials
from copytrader.execution.paper import PaperVenue
from copytrader.execution.preflight import run_preflight
from copytrader.settings import load_settings
from copytrader.workflows import wiring
from tests.support.fake_clob import FakeClob, fake_clob

pytestmark = pytest.mark.integration


@pytest.fixture
def clob() -> Iterator[FakeClob]:
    with fake_clob() as fake:
        yield fake


def live_settings(fake: FakeClob, **overrides):
    return load_settings(
        environ={},
        overrides={
            "mode": "live",
            "live_confirmed": True,
            "clob_url": fake.url,
            "venue": {"geoblock_url": fake.url},
            **overrides,
        },
    )


def throwaway() -> VenueCredentials:
    key = Account.create().key.hex()
    return VenueCredentials(key if key.startswith("0x") else f"0x{key}")


def outcome(report) -> dict[str, bool]:
    return {c.name: c.passed for c in report.checks}


def test_everything_in_order_passes_and_derives_the_api_credentials(clob):
    creds = throwaway()
    report = run_preflight(live_settings(clob), creds)
    assert report.passed, report.failures()
    assert outcome(report) == {
        "geoblock": True,
        "version": True,
        "credentials": True,
        "balance": True,
        "allowance": True,
    }
    assert report.credentials is not None and report.credentials.api is not None  # derived via L1
    assert "10000" in next(c.reason for c in report.checks if c.name == "balance")
    shown = json.dumps(report.as_dict()) + repr(report)
    assert all(secret not in shown for secret in report.credentials.secrets())


def test_a_geoblocked_ip_fails_with_its_country(clob):
    clob.geoblock = {"blocked": True, "ip": "203.0.113.42", "country": "US", "region": "NY"}
    report = run_preflight(live_settings(clob), throwaway())
    assert not report.passed and outcome(report)["geoblock"] is False
    assert "US/NY" in report.failures() and outcome(report)["version"] is True


def test_a_v1_clob_fails_the_version_check(clob):
    clob.version = 1
    report = run_preflight(live_settings(clob), throwaway())
    assert outcome(report)["version"] is False and "expected 2" in report.failures()


def test_invalid_api_credentials_fail_and_skip_the_balance(clob):
    creds = throwaway().with_api(ApiCredentials("not-issued", "c2VjcmV0LXNlY3JldA==", "nope"))
    report = run_preflight(live_settings(clob), creds)
    assert outcome(report)["credentials"] is False and outcome(report)["balance"] is False
    assert "HTTP 401" in report.failures() and "c2VjcmV0" not in report.failures()


@pytest.mark.parametrize(
    ("balance", "allowance", "failing"),
    [(50 * 10**6, 10**15, "balance"), (10**10, 1000 * 10**6, "allowance")],
)
def test_too_little_balance_or_allowance_fails(clob, balance, allowance, failing):
    clob.balance, clob.allowance = balance, allowance
    report = run_preflight(live_settings(clob), throwaway())  # one max copy 100 pUSD; total cap 5000 pUSD
    assert not report.passed and [c.name for c in report.checks if not c.passed] == [failing]


def test_live_deps_build_the_clob_venue_only_after_the_preflight(clob, monkeypatch):
    monkeypatch.setattr(wiring, "_live_venues", {})
    clob.geoblock = {"blocked": True, "ip": "203.0.113.42", "country": "US", "region": "NY"}
    with pytest.raises(RuntimeError, match="live trading refused: preflight failed: geoblock"):
        wiring.live_venue(live_settings(clob), throwaway())
    clob.geoblock = {"blocked": False, "ip": "127.0.0.1", "country": "IE", "region": "L"}
    creds = throwaway()
    venue = wiring.live_venue(live_settings(clob), creds)
    assert isinstance(venue, ClobVenue) and venue.credentials.api is not None
    assert wiring.live_venue(live_settings(clob), creds) is venue  # cached for the process
    version_calls = clob.requests.count("GET /version")
    wiring.live_venue(live_settings(clob), creds)
    assert clob.requests.count("GET /version") == version_calls


def test_paper_stays_the_default(clob):
    settings = load_settings(environ={}, overrides={"clob_url": clob.url})
    assert settings.mode.value == "paper"
    built = wiring.Deps(settings)
    assert isinstance(built.venue, PaperVenue) and clob.requests == []


def test_a_bankroll_above_the_wallets_balance_fails_with_the_setting_to_change(clob):
    clob.balance = 2_000 * 10**6  # covers one max copy, not the default 10,000 pUSD bankroll
    report = run_preflight(live_settings(clob), throwaway())
    (failed,) = [c for c in report.checks if not c.passed]
    assert failed.name == "balance" and "bankroll 10000" in failed.reason and "paper_bankroll" in failed.reason
    assert run_preflight(live_settings(clob, paper_bankroll="2000"), throwaway()).passed
