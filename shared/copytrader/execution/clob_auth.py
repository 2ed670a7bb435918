"""Authenticated CLOB transport (REFERENCE.md section f): L1 and L2 headers from py-clob-client-v2, urllib3 below.

L1 (`POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_NONCE`): an EIP-712 `ClobAuth` message signed by
the key; used only to derive the API credentials (`GET /auth/derive-api-key`, or `POST /auth/api-key` when
the key has none yet). L2 (`POLY_ADDRESS, POLY_SIGNATURE, POLY_TIMESTAMP, POLY_API_KEY, POLY_PASSPHRASE`):
`POLY_SIGNATURE` = urlsafe-base64( HMAC-SHA256( urlsafe-b64decode(secret), timestamp + method + path + body ) ),
with the path excluding the query string and the body exactly as sent.

The SDK's own HTTP layer is not used: it keeps one module-wide httpx client with a fixed timeout and may
retry a POST, and an order POST must go out exactly once with our timeout. Responses never carry our
secrets; error texts here carry only method, path and status.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

from copytrader.errors import ClobTransportError
from copytrader.execution import signing_libs  # noqa: F401  (before the SDK: keeps the recursion limit)
from copytrader.execution.credentials import ApiCredentials, VenueCredentials
from copytrader.settings import CONNECT_TIMEOUT_CAP_S


@dataclass(frozen=True)
class ClobResponse:
    status: int
    body: Any  # parsed JSON, or the text when it is not JSON, or None when empty

    def error_text(self) -> str:
        """The venue's error message (`{"error": ...}` or `errorMsg`), at most 200 characters."""
        if isinstance(self.body, dict):
            text = self.body.get("error") or self.body.get("errorMsg") or ""
            return str(text)[:200]
        return str(self.body or "")[:200]


class ClobAuthHttp:
    """One CLOB host: public GETs, L1 and L2 authenticated calls; never retries."""

    def __init__(
        self,
        base_url: str,
        credentials: VenueCredentials,
        *,
        chain_id: int = 137,
        timeout_s: float = 5.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        from py_clob_client_v2.signer import Signer  # type: ignore[import-untyped]  # live mode only: the SDK stays off the paper path

        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.signer = Signer(credentials.private_key, chain_id)
        self.timeout_s = timeout_s
        self._pool = pool or urllib3.PoolManager(num_pools=2, maxsize=4, retries=False)

    @property
    def address(self) -> str:
        return str(self.signer.address())

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: str | None = None,
        headers: dict[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> ClobResponse:
        query = f"?{urlencode(params)}" if params else ""
        timeout = timeout_s or self.timeout_s
        all_headers = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        try:
            response = self._pool.request(
                method,
                f"{self.base_url}{path}{query}",
                body=body.encode() if body is not None else None,
                headers=all_headers,
                timeout=urllib3.Timeout(connect=min(timeout, CONNECT_TIMEOUT_CAP_S), read=timeout),
                retries=False,
            )
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            raise ClobTransportError(f"{method} {path}: not connected ({type(exc).__name__})", sent=False) from None
        except urllib3.exceptions.HTTPError as exc:
            raise ClobTransportError(f"{method} {path}: {type(exc).__name__}", sent=True) from None
        data = response.data
        parsed: Any
        if not data:
            parsed = None
        else:
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = data.decode(errors="replace")
        return ClobResponse(response.status, parsed)

    def l2_headers(self, method: str, path: str, serialized_body: str | None = None) -> dict[str, str]:
        from py_clob_client_v2.clob_types import ApiCreds, RequestArgs  # type: ignore[import-untyped]
        from py_clob_client_v2.headers.headers import create_level_2_headers  # type: ignore[import-untyped]

        api = self.credentials.api
        if api is None:
            raise RuntimeError("L2 call without API credentials: derive them first")
        creds = ApiCreds(api.api_key, api.api_secret, api.api_passphrase)
        args = RequestArgs(method=method, request_path=path, body=serialized_body, serialized_body=serialized_body)
        return dict(create_level_2_headers(self.signer, creds, args))

    def l2(self, method: str, path: str, **kwargs: Any) -> ClobResponse:
        body = kwargs.get("body")
        return self.request(method, path, headers=self.l2_headers(method, path, body), **kwargs)

    def derive_api_credentials(self, nonce: int = 0) -> ApiCredentials:
        """L1: derive the key's API credentials, creating them when the key has none yet."""
        from py_clob_client_v2.headers.headers import create_level_1_headers

        for method, path in (("GET", "/auth/derive-api-key"), ("POST", "/auth/api-key")):
            response = self.request(method, path, headers=dict(create_level_1_headers(self.signer, nonce=nonce)))
            body = response.body
            if response.status == 200 and isinstance(body, dict) and body.get("apiKey"):
                return ApiCredentials(str(body["apiKey"]), str(body["secret"]), str(body["passphrase"]))
        raise ClobTransportError(f"could not derive API credentials (HTTP {response.status})", sent=True)
