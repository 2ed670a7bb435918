"""Live preflight: the checks trading cannot change, run at every execute cold start before the venue is built; each
with a reason, no secrets.

1. geoblock: `GET <geoblock_url>/api/geoblock` -> `{"blocked": false, ...}` (docs "api-reference/geoblock";
   the endpoint is on polymarket.com, not the CLOB host). Blocked, or no answer, fails.
2. version: `GET /version` -> `{"version": N}` must equal `venue.expected_clob_version` (2: CLOB V2, the
   exchange-domain "2" orders this build signs; a V1 answer means every order would be rejected).
3. credentials: the API credentials (given, or derived by an L1 call) must pass an authenticated L2 call
   (`GET /auth/api-keys`).

Balance and allowance are not among them: they change with every fill, so a cold start with positions open
would fail a check against the whole bankroll. Each BUY is checked against what it needs when it is prepared
(`copytrader.execution.funds`). `copytrader preflight` adds them as information for an operator (`with_funds`):
can the wallet pay one maximum copy (`sizing.max_trade_notional`) and keep `venue.min_live_balance`?
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import urllib3

from copytrader.errors import ClobTransportError
from copytrader.execution.credentials import VenueCredentials
from copytrader.execution.funds import read_collateral
from copytrader.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class PreflightReport:
    checks: tuple[Check, ...]
    credentials: VenueCredentials | None = field(default=None, repr=False)  # with API credentials, when derived

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def failures(self) -> str:
        return "; ".join(f"{c.name}: {c.reason}" for c in self.checks if not c.passed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "checks": [{"name": c.name, "passed": c.passed, "reason": c.reason} for c in self.checks],
        }


def check_geoblock(settings: Settings, pool: urllib3.PoolManager) -> Check:
    url = f"{settings.venue.geoblock_url.rstrip('/')}/api/geoblock"
    try:
        response = pool.request("GET", url, timeout=urllib3.Timeout(settings.http_timeout_s), retries=False)
        body = json.loads(response.data) if response.status == 200 else None
    except (urllib3.exceptions.HTTPError, ValueError) as exc:
        return Check("geoblock", False, f"no answer from the geoblock endpoint ({type(exc).__name__})")
    if not isinstance(body, dict) or not isinstance(body.get("blocked"), bool):
        return Check("geoblock", False, f"unusable geoblock answer (HTTP {response.status})")
    where = f"{body.get('country', '?')}/{body.get('region', '?')}"
    if body["blocked"]:
        return Check("geoblock", False, f"this IP is geoblocked ({where}): orders would be rejected")
    return Check("geoblock", True, f"not blocked ({where})")


def run_preflight(
    settings: Settings,
    credentials: VenueCredentials,
    pool: urllib3.PoolManager | None = None,
    *,
    with_funds: bool = False,
) -> PreflightReport:
    """Run the cold-start checks (each independent of the others' failure where possible); `with_funds` adds the
    operator's balance and allowance report (module docstring)."""
    from copytrader.execution.clob_auth import ClobAuthHttp  # live path only

    pool = pool or urllib3.PoolManager(num_pools=2, maxsize=2, retries=False)
    checks = [check_geoblock(settings, pool)]
    http = ClobAuthHttp(
        settings.clob_url, credentials, chain_id=settings.venue.chain_id, timeout_s=settings.http_timeout_s, pool=pool
    )

    try:
        version = http.request("GET", "/version")
        got = version.body.get("version") if isinstance(version.body, dict) else None
        expected = settings.venue.expected_clob_version
        if version.status == 200 and got == expected:
            checks.append(Check("version", True, f"CLOB version {got}"))
        else:
            checks.append(
                Check("version", False, f"CLOB reports version {got!r} (HTTP {version.status}), expected {expected}")
            )
    except ClobTransportError as exc:
        checks.append(Check("version", False, f"no answer: {exc}"))

    try:
        if credentials.api is None:
            credentials = credentials.with_api(http.derive_api_credentials())
            http.credentials = credentials
        keys = http.l2("GET", "/auth/api-keys")
        if keys.status == 200:
            checks.append(Check("credentials", True, f"L2 authentication accepted for {http.address}"))
        else:
            checks.append(
                Check("credentials", False, f"L2 call refused (HTTP {keys.status}: {keys.error_text()[:80]})")
            )
    except ClobTransportError as exc:
        checks.append(Check("credentials", False, str(exc)))
        return PreflightReport(tuple(checks))

    if with_funds:
        checks.extend(_funds_checks(settings, http, credentials, checks[-1].passed))
    return PreflightReport(tuple(checks), credentials)


def _funds_checks(settings: Settings, http: Any, credentials: VenueCredentials, authenticated: bool) -> list[Check]:
    if not authenticated:
        return [Check("balance", False, "not checked: credentials invalid")]
    try:
        collateral = read_collateral(http, int(credentials.signature_type))
    except (ClobTransportError, ValueError) as exc:
        return [Check("balance", False, str(exc))]
    one_copy = settings.sizing.max_trade_notional
    balance = collateral.balance_short(one_copy, settings.venue.min_live_balance)
    allowance = collateral.allowance_short(one_copy)
    return [
        Check("balance", balance is None, balance or f"pUSD balance {collateral.balance} covers one max copy"),
        Check("allowance", allowance is None, allowance or f"allowance {collateral.allowance()} >= {one_copy}"),
    ]
