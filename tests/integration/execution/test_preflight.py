"""Live preflight against the loopback CLOB: the cold-start checks (geoblock, version, credentials), and the
operator's report of balance and allowance (`with_funds`)."""

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
            "account": "live",
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
    assert outcome(report) == {"geoblock": True, "version": True, "credentials": True}
    assert report.credentials is not None and report.credentials.api is not None  # derived via L1
    assert "GET /balance-allowance" not in clob.requests  # the wallet is checked per BUY, not at cold start
    shown = json.dumps(report.as_dict()) + repr(report)
    assert all(secret not in shown for secret in report.credentials.secrets())


def test_preflight_at_cold_start_passes_with_positions_open(clob, monkeypatch):
    # GIVEN a live wallet whose pUSD is mostly in open positions: 40 pUSD left of a 10,000 bankroll, less than
    # one maximum copy (100 pUSD). The cold-start check used to require the whole bankroll, so execute raised.
    monkeypatch.setattr(wiring, "_live_venues", {})
    clob.balance = 40 * 10**6

    # WHEN execute's cold start runs the preflight and builds the venue
    report = run_preflight(live_settings(clob), throwaway())
    venue = wiring.live_venue(live_settings(clob), throwaway())

    # THEN both pass on what trading cannot change, and the balance was not read
    assert report.passed and outcome(report) == {"geoblock": True, "version": True, "credentials": True}
    assert isinstance(venue, ClobVenue) and "GET /balance-allowance" not in clob.requests


def test_the_operators_report_adds_balance_and_allowance_for_one_max_copy(clob):
    report = run_preflight(live_settings(clob), throwaway(), with_funds=True)
    assert report.passed and list(outcome(report)) == ["geoblock", "version", "credentials", "balance", "allowance"]
    assert "pUSD balance 10000 covers one max copy" in report.as_dict()["checks"][3]["reason"]


def test_a_geoblocked_ip_fails_with_its_country(clob):
    clob.geoblock = {"blocked": True, "ip": "203.0.113.42", "country": "US", "region": "NY"}
    report = run_preflight(live_settings(clob), throwaway())
    assert not report.passed and outcome(report)["geoblock"] is False
    assert "US/NY" in report.failures() and outcome(report)["version"] is True


def test_a_v1_clob_fails_the_version_check(clob):
    clob.version = 1
    report = run_preflight(live_settings(clob), throwaway())
    assert outcome(report)["version"] is False and "expected 2" in report.failures()


def test_credentials_the_venue_refuses_fail_and_skip_the_balance(clob):
    # GIVEN API credentials the venue never issued, and a venue that refuses the key's L1 signature as well
    clob.l1_refused = True
    creds = throwaway().with_api(ApiCredentials("not-issued", "c2VjcmV0LXNlY3JldA==", "nope"))

    # WHEN the preflight runs THEN the SDK could not re-derive them: the check fails, the balance is not read
    report = run_preflight(live_settings(clob), creds, with_funds=True)
    assert outcome(report)["credentials"] is False and "balance" not in outcome(report)
    assert "HTTP 401" in report.failures() and "c2VjcmV0" not in report.failures()
    assert report.session is None and "GET /balance-allowance" not in clob.requests


def test_refused_api_credentials_are_re_derived_by_the_sdk(clob):
    creds = throwaway().with_api(ApiCredentials("not-issued", "c2VjcmV0LXNlY3JldA==", "nope"))
    report = run_preflight(live_settings(clob), creds)
    assert report.passed and report.credentials is not None and report.credentials.api is not None
    assert report.credentials.api.api_key != "not-issued" and clob.auth_failures == ["/auth/api-keys"]


@pytest.mark.parametrize(
    ("balance", "allowance", "failing"),
    [(50 * 10**6, 10**15, "balance"), (10**10, 50 * 10**6, "allowance")],
)
def test_too_little_balance_or_allowance_for_one_max_copy_fails_the_operators_report(clob, balance, allowance, failing):
    clob.balance, clob.allowance = balance, allowance
    report = run_preflight(live_settings(clob), throwaway(), with_funds=True)  # one max copy: 100 pUSD
    assert not report.passed and [c.name for c in report.checks if not c.passed] == [failing]
    assert run_preflight(live_settings(clob), throwaway()).passed  # not a cold-start check


def test_a_balance_kept_outside_the_account_counts_against_the_operators_report(clob):
    clob.balance = 150 * 10**6
    report = run_preflight(
        live_settings(clob, venue={"geoblock_url": clob.url, "min_live_balance": "60"}), throwaway(), with_funds=True
    )
    assert [c.name for c in report.checks if not c.passed] == ["balance"]
    assert "pUSD balance 150 - the 60 kept (venue.min_live_balance) < 100" in report.failures()


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
