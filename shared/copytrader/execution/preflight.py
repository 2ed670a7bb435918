"""Live preflight: every check that must pass before the first real order, each with a reason, no secrets.

1. geoblock: `GET <geoblock_url>/api/geoblock` -> `{"blocked": false, ...}` (docs "api-reference/geoblock";
   the endpoint is on polymarket.com, not the CLOB host). Blocked, or no answer, fails.
2. version: `GET /version` -> `{"version": N}` must equal `venue.expected_clob_version` (2: CLOB V2, the
   exchange-domain "2" orders this build signs; a V1 answer means every order would be rejected).
3. credentials: the API credentials (given, or derived by an L1 call) must pass an authenticated L2 call
   (`GET /auth/api-keys`).
4. balance and allowance: `GET /balance-allowance?asset_type=COLLATERAL&signature_type=N` (L2). Amounts are
   pUSD micro-units (integers; a decimal string is read as pUSD). The balance must cover one maximum copy
   (`sizing.max_trade_notional`) plus `venue.min_live_balance`, and the bankroll the risk account starts from
   (`paper_bankroll`: its cash is what risk_check reserves against, so a bankroll above the real balance would
   approve orders the wallet cannot pay for); the allowance (the smallest of `allowances` per exchange when the
   venue lists them) must cover `risk.max_total_exposure`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import urllib3

from copytrader.execution.credentials import VenueCredentials
from copytrader.settings import Settings

MICRO = Decimal(10) ** 6


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


def _amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    text = str(value)
    try:
        amount = Decimal(text)
    except ArithmeticError:
        return None
    return amount if "." in text else amount / MICRO


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
    settings: Settings, credentials: VenueCredentials, pool: urllib3.PoolManager | None = None
) -> PreflightReport:
    """Run every check (each independent of the others' failure where possible)."""
    from copytrader.errors import ClobTransportError
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

    if not checks[-1].passed:
        checks.append(Check("balance", False, "not checked: credentials invalid"))
        return PreflightReport(tuple(checks), credentials)
    try:
        answer = http.l2(
            "GET",
            "/balance-allowance",
            params={"asset_type": "COLLATERAL", "signature_type": int(credentials.signature_type)},
        )
    except ClobTransportError as exc:
        checks.append(Check("balance", False, str(exc)))
        return PreflightReport(tuple(checks), credentials)
    checks.extend(_balance_checks(settings, answer.status, answer.body))
    return PreflightReport(tuple(checks), credentials)


def _balance_checks(settings: Settings, status: int, body: Any) -> list[Check]:
    if status != 200 or not isinstance(body, dict):
        return [Check("balance", False, f"balance-allowance unusable (HTTP {status})")]
    balance = _amount(body.get("balance"))
    need_balance = settings.sizing.max_trade_notional + settings.venue.min_live_balance
    out = []
    if balance is None:
        out.append(Check("balance", False, "no balance in the answer"))
    elif balance < need_balance:
        out.append(Check("balance", False, f"pUSD balance {balance} < {need_balance} (one max copy + reserve)"))
    elif balance < settings.paper_bankroll:
        out.append(
            Check(
                "balance",
                False,
                f"pUSD balance {balance} < the risk account's bankroll {settings.paper_bankroll}: set "
                "paper_bankroll to at most the balance",
            )
        )
    else:
        out.append(Check("balance", True, f"pUSD balance {balance} >= {need_balance}"))
    allowances = body.get("allowances")
    if isinstance(allowances, dict) and allowances:
        values = [_amount(v) for v in allowances.values()]
        allowance = min((v for v in values if v is not None), default=None)
    else:
        allowance = _amount(body.get("allowance"))
    need_allowance = settings.risk.max_total_exposure
    if allowance is None:
        out.append(Check("allowance", False, "no allowance in the answer: approve the exchanges first"))
    elif allowance < need_allowance:
        out.append(Check("allowance", False, f"allowance {allowance} < max total exposure {need_allowance}"))
    else:
        out.append(Check("allowance", True, f"allowance {allowance} >= {need_allowance}"))
    return out
