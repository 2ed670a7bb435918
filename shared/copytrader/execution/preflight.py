"""Live preflight: the checks trading cannot change, run at every execute cold start before the venue is built; each
with a reason, no secrets.

1. geoblock: `GET <geoblock_url>/api/geoblock` -> `{"blocked": false, ...}` (docs "api-reference/geoblock";
   the endpoint is on polymarket.com, not the CLOB host). Blocked, or no answer, fails.
2. version: `GET /version` -> `{"version": N}` must equal `venue.expected_clob_version` (2: CLOB V2, the
   exchange-domain "2" orders this build signs; a V1 answer means every order would be rejected).
3. credentials: the SDK opens its client (`copytrader.execution.clob_session.connect`): given API credentials are
   checked (`GET /auth/api-keys`; refused ones are re-derived by an L1 call), absent ones derived; the key in use
   must then pass an authenticated L2 call (`fetch_api_keys`). The funder wallet must be the signature type stated.

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

from copytrader.errors import CredentialsError
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
    credentials: VenueCredentials | None = field(default=None, repr=False)  # with the API credentials in use
    session: Any = field(default=None, repr=False)  # the open `ClobSession` (SDK client) when the checks could run

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


def check_version(settings: Settings, pool: urllib3.PoolManager) -> Check:
    """`GET <clob_url>/version` (the SDK has no call for it)."""
    url = f"{settings.clob_url.rstrip('/')}/version"
    expected = settings.venue.expected_clob_version
    try:
        response = pool.request("GET", url, timeout=urllib3.Timeout(settings.http_timeout_s), retries=False)
        body = json.loads(response.data) if response.status == 200 else None
    except (urllib3.exceptions.HTTPError, ValueError) as exc:
        return Check("version", False, f"no answer from the CLOB ({type(exc).__name__})")
    got = body.get("version") if isinstance(body, dict) else None
    if response.status == 200 and got == expected:
        return Check("version", True, f"CLOB version {got}")
    return Check("version", False, f"CLOB reports version {got!r} (HTTP {response.status}), expected {expected}")


def run_preflight(
    settings: Settings,
    credentials: VenueCredentials,
    pool: urllib3.PoolManager | None = None,
    *,
    with_funds: bool = False,
) -> PreflightReport:
    """Run the cold-start checks (each independent of the others' failure where possible); `with_funds` adds the
    operator's balance and allowance report (module docstring). A passed report holds the open SDK session."""
    from polymarket import PolymarketError

    from copytrader.execution.clob_session import connect  # live path only: the SDK stays off the paper path

    pool = pool or urllib3.PoolManager(num_pools=2, maxsize=2, retries=False)
    checks = [check_geoblock(settings, pool), check_version(settings, pool)]
    try:  # the SDK checks given API credentials (re-deriving refused ones) or derives them (L1)
        session = connect(
            settings.clob_url, credentials, chain_id=settings.venue.chain_id, timeout_s=settings.http_timeout_s
        )
        keys = session.client.fetch_api_keys()  # an authenticated (L2) call with the credentials in use
    except CredentialsError as exc:
        checks.append(Check("credentials", False, str(exc)))
        return PreflightReport(tuple(checks))
    except PolymarketError as exc:
        checks.append(Check("credentials", False, _refusal(exc)))
        return PreflightReport(tuple(checks))
    api = session.credentials.api
    if api is None or api.api_key not in keys:
        checks.append(Check("credentials", False, "the API key in use is not among the key's API keys"))
    else:
        checks.append(Check("credentials", True, f"L2 authentication accepted for {session.address}"))
    if with_funds:
        checks.extend(_funds_checks(settings, session.client, checks[-1].passed))
    return PreflightReport(tuple(checks), session.credentials, session)


def _refusal(exc: Exception) -> str:
    """Why the SDK could not authenticate, without the body (which never carries secrets, but stays out anyway)."""
    status = getattr(exc, "status", None)
    if status is not None:
        return f"refused (HTTP {status})"
    return f"no usable answer ({type(exc).__name__})"


def _funds_checks(settings: Settings, client: Any, authenticated: bool) -> list[Check]:
    if not authenticated:
        return [Check("balance", False, "not checked: credentials invalid")]
    try:
        collateral = read_collateral(client)
    except ValueError as exc:
        return [Check("balance", False, str(exc))]
    one_copy = settings.sizing.max_trade_notional
    balance = collateral.balance_short(one_copy, settings.venue.min_live_balance)
    allowance = collateral.allowance_short(one_copy)
    return [
        Check("balance", balance is None, balance or f"pUSD balance {collateral.balance} covers one max copy"),
        Check("allowance", allowance is None, allowance or f"allowance {collateral.allowance()} >= {one_copy}"),
    ]
