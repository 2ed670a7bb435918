"""Token id -> market: which condition and outcome a CTF token id belongs to, with caches.

A chain `OrderFilled` log names only the token id (REFERENCE.md section g), while a `WhaleTrade` carries
the condition id and outcome. Gamma answers `GET /markets?clob_token_ids=<id>` with the market objects
holding that token (REFERENCE.md section e: `clobTokenIds` and `outcomes` are JSON-encoded lists matched
by index). Only those three fields are read: a look-up must not fail because an unrelated field (a date,
a fee schedule) drifted, which a full `market_from_gamma` parse would reject.

Caching: token ids never move between markets, so a resolved token is kept in an LRU (every token of a
fetched market is stored, so the sibling outcome costs nothing later). A token Gamma does not know is
remembered for `negative_ttl_s` only: a market may be listed shortly after its first fill. Concurrent
look-ups of one token share one request (a whale's burst of fills on a new market costs one call). A
failed request raises `TransientError` and caches nothing, so the caller can retry.

`TokenResolver.from_gamma_markets` builds a resolver from market objects already in hand (offline use,
e.g. normalising recorded logs); it never makes a request.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from copytrader.errors import TransientError, UpstreamError

GammaMarket = Mapping[str, Any]
Fetch = Callable[[str], Awaitable[Sequence[GammaMarket]]]

DEFAULT_CAPACITY = 50_000
DEFAULT_NEGATIVE_TTL_S = 60.0
_RETRYABLE = frozenset({425, 429, 500, 502, 503, 504})
_HASH32 = re.compile(r"^0x[0-9a-f]{64}$")
_TOKEN_ID = re.compile(r"^[0-9]{1,78}$")


@dataclass(frozen=True, slots=True)
class TokenInfo:
    token_id: str
    condition_id: str
    outcome: str
    outcome_index: int


def _json_list(value: object, field: str) -> list[object]:
    decoded = json.loads(value) if isinstance(value, str) else value
    if not isinstance(decoded, list):
        raise ValueError(f"{field} is not a JSON list: {value!r}")
    return decoded


def tokens_of(market: GammaMarket) -> list[TokenInfo]:
    """Every outcome token of one Gamma market object; ValueError when it has no usable token list."""
    condition_id = str(market.get("conditionId") or "").strip().lower()
    if not _HASH32.match(condition_id):
        raise ValueError(f"conditionId {market.get('conditionId')!r} is not a 32-byte hex value")
    token_ids = [str(t).strip() for t in _json_list(market.get("clobTokenIds"), "clobTokenIds")]
    outcomes = [str(o) for o in _json_list(market.get("outcomes"), "outcomes")]
    if not token_ids or len(token_ids) != len(outcomes) or not all(_TOKEN_ID.match(t) for t in token_ids):
        raise ValueError(f"market {condition_id}: token ids and outcomes do not pair up")
    return [TokenInfo(t, condition_id, o, i) for i, (t, o) in enumerate(zip(token_ids, outcomes, strict=True))]


def gamma_fetcher(http: httpx.AsyncClient, path: str = "/markets") -> Fetch:
    """`GET <gamma>/markets?clob_token_ids=<id>` on an httpx client whose base URL is Gamma.

    Timeouts, transport errors, 425/429 and 5xx raise `TransientError`; other non-200 answers and bodies
    that are not a JSON list raise `UpstreamError`. Messages name the path, never the base URL.
    """

    async def fetch(token_id: str) -> Sequence[GammaMarket]:
        try:
            response = await http.get(path, params={"clob_token_ids": token_id})
        except httpx.TransportError as exc:  # includes timeouts
            raise TransientError(f"GET {path}: {type(exc).__name__}") from None
        if response.status_code in _RETRYABLE:
            raise TransientError(f"GET {path}: HTTP {response.status_code}")
        if response.status_code == 404:
            return []
        if response.status_code != 200:
            raise UpstreamError(f"GET {path}: HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise UpstreamError(f"GET {path}: body is not JSON") from None
        if not isinstance(body, list):
            raise UpstreamError(f"GET {path}: expected a list of markets, got {type(body).__name__}")
        return [m for m in body if isinstance(m, Mapping)]

    return fetch


class TokenResolver:
    """Token id -> `TokenInfo` (or None when Gamma does not know it), cached; see the module docstring."""

    def __init__(
        self,
        fetch: Fetch | None,
        *,
        capacity: int = DEFAULT_CAPACITY,
        negative_ttl_s: float = DEFAULT_NEGATIVE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._fetch, self._capacity, self._negative_ttl_s, self._clock = fetch, capacity, negative_ttl_s, clock
        self._known: OrderedDict[str, TokenInfo] = OrderedDict()
        self._unknown: OrderedDict[str, float] = OrderedDict()  # token id -> monotonic expiry
        self._inflight: dict[str, asyncio.Future[TokenInfo | None]] = {}
        self.requests = 0

    @classmethod
    def from_gamma_markets(cls, markets: Iterable[GammaMarket]) -> TokenResolver:
        """An offline resolver over these market objects (unusable objects are skipped); never fetches."""
        infos = []
        for market in markets:
            try:
                infos.extend(tokens_of(market))
            except ValueError:  # json.JSONDecodeError is one
                continue
        resolver = cls(None, capacity=max(len(infos), 1))
        for info in infos:
            resolver._remember(info)
        return resolver

    def __len__(self) -> int:
        return len(self._known)

    def cached(self, token_id: str) -> TokenInfo | None:
        """The cached answer, without fetching."""
        info = self._known.get(token_id)
        if info is not None:
            self._known.move_to_end(token_id)
        return info

    async def resolve(self, token_id: str) -> TokenInfo | None:
        """The token's market and outcome; None when Gamma does not list it. Raises `TransientError` (and
        `UpstreamError` for unusable answers) when the look-up failed: nothing is cached then."""
        info = self.cached(token_id)
        if info is not None or self._fetch is None or self._known_unknown(token_id):
            return info
        running = self._inflight.get(token_id)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[TokenInfo | None] = asyncio.get_running_loop().create_future()
        self._inflight[token_id] = future
        try:
            result = await self._lookup(token_id)
        except asyncio.CancelledError:
            self._fail(future, TransientError(f"look-up of token {token_id} was cancelled"))
            raise
        except Exception as exc:
            self._fail(future, exc)
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[token_id]

    @staticmethod
    def _fail(future: asyncio.Future[TokenInfo | None], error: Exception) -> None:
        future.set_exception(error)
        future.exception()  # mark it retrieved: the waiters re-raise it, and there may be none

    async def _lookup(self, token_id: str) -> TokenInfo | None:
        assert self._fetch is not None
        self.requests += 1
        markets = await self._fetch(token_id)
        found: TokenInfo | None = None
        for market in markets:
            try:
                infos = tokens_of(market)
            except ValueError as exc:
                raise UpstreamError(f"unusable Gamma market for token {token_id}: {exc}") from None
            for info in infos:
                self._remember(info)
                if info.token_id == token_id:
                    found = info
        if found is None:
            self._unknown[token_id] = self._clock() + self._negative_ttl_s
            self._unknown.move_to_end(token_id)
            while len(self._unknown) > self._capacity:
                self._unknown.popitem(last=False)
        return found

    def _known_unknown(self, token_id: str) -> bool:
        expiry = self._unknown.get(token_id)
        if expiry is None:
            return False
        if self._clock() < expiry:
            return True
        del self._unknown[token_id]
        return False

    def _remember(self, info: TokenInfo) -> None:
        self._known[info.token_id] = info
        self._known.move_to_end(info.token_id)
        self._unknown.pop(info.token_id, None)
        while len(self._known) > self._capacity:
            self._known.popitem(last=False)
