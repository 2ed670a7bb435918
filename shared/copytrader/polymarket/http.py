"""A small JSON-over-HTTP helper on urllib3 (already imported by botocore, so free on a cold start)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import urllib3

from copytrader.errors import TransientError, UpstreamError

_RETRYABLE = frozenset({425, 429, 500, 502, 503, 504})


class JsonHttp:
    """GET/POST JSON with one connection pool, a timeout and errors mapped to our hierarchy.

    404 returns None (the caller decides what "not found" means); 425/429/5xx and network errors raise
    `TransientError`; other 4xx and undecodable bodies raise `UpstreamError`.
    """

    def __init__(self, base_url: str, timeout_s: float = 2.0, pool: urllib3.PoolManager | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        self._pool = pool or urllib3.PoolManager(num_pools=4, maxsize=8, retries=False)

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        return self._request("GET", f"{self.base_url}{path}{query}")

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", f"{self.base_url}{path}", json.dumps(body).encode())

    def _request(self, method: str, url: str, body: bytes | None = None) -> Any:
        try:
            response = self._pool.request(
                method, url, body=body, headers={"Content-Type": "application/json"}, timeout=self._timeout
            )
        except urllib3.exceptions.HTTPError as exc:
            raise TransientError(f"{method} {url}: {type(exc).__name__}") from exc
        if response.status == 404:
            return None
        if response.status in _RETRYABLE:
            raise TransientError(f"{method} {url}: HTTP {response.status}")
        if response.status >= 400:
            raise UpstreamError(f"{method} {url}: HTTP {response.status} {response.data[:200]!r}")
        try:
            return json.loads(response.data)
        except ValueError as exc:
            raise UpstreamError(f"{method} {url}: body is not JSON") from exc
