"""The dependencies of every workflow step, built once per process (a Lambda container, local mode).

One `Deps` serves every workflow. Each part is built the first time a step asks for it, so a container builds only
what its own step touches: the score step never builds the venue (in live mode that would read a secret only
execute may read) and the scoring workflow's Select never opens an HTTP client. Building a part writes nothing.

Modules are imported with this one, in the function's init phase (which Lambda runs at full CPU), except what only
the scoring workflow uses (discovery: httpx is only in its functions'
layers; the run store) and the live venue (the CLOB client, imported at init by `prewarm` in live mode).

Handlers call `current()`; local mode and tests call `install(Deps(settings, clock=..., <part>=...))`, giving any
part they want to replace (a simulated clock, a fake venue, an in-memory run store). Nothing here is imported by
the pure domain packages.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from copytrader.execution.paper import PaperVenue
from copytrader.execution.venue import Venue
from copytrader.model import OrderBook
from copytrader.polymarket.chain_reads import ChainReads
from copytrader.polymarket.data_api import DATA_API_URL
from copytrader.polymarket.data_api.positions_v2 import VenuePositionsReader
from copytrader.polymarket.http import JsonHttp
from copytrader.polymarket.rest import ClobMarketData, DataPositions, GammaMarkets
from copytrader.runtime import env
from copytrader.runtime.alerts import Alerts, NoAlerts, SnsAlerts
from copytrader.runtime.exit_queue import ExitPublisher
from copytrader.settings import Mode, Settings, load_settings
from copytrader.store.account import AccountStore
from copytrader.store.decision_reads import DecisionReads
from copytrader.store.markets import Markets
from copytrader.store.marks import PriceMarks
from copytrader.store.orders import OrderLedger
from copytrader.store.positions import Positions
from copytrader.store.stances import Stances
from copytrader.store.whales import Whales

if TYPE_CHECKING:
    from copytrader.discovery.cache import DiscoveryCache
    from copytrader.discovery.run import Readers
    from copytrader.execution.redemption_sender import RedemptionSender
    from copytrader.workflows.scoring.run_store import RunStore


def utc_now() -> datetime:
    return datetime.now(UTC)


class Deps:
    """Settings, the clock, and every adapter a step may use (each built on first use; see the module docstring).

    `Deps(settings, clock=..., venue=FakeVenue())`: a part given by keyword is used as it is.
    """

    _PARTS = frozenset(
        {
            "alerts",
            "whales",
            "markets",
            "books",
            "account",
            "decision_reads",
            "positions",
            "ledger",
            "venue",
            "stances",
            "runs",
            "cache",
            "readers",
            "marks",
            "redemption_sender",
            "chain",
            "venue_reads",
            "exit_queue",
        }
    )

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
        environ: Mapping[str, str] | None = None,
        **parts: Any,
    ) -> None:
        unknown = sorted(set(parts) - self._PARTS)
        if unknown:
            raise TypeError(f"Deps has no part {unknown}; parts: {sorted(self._PARTS)}")
        self.settings = settings
        self.clock = clock
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.__dict__.update(parts)  # a cached_property reads the instance's dict first

    # ------------------------------------------------------------------------------------------ shared
    @cached_property
    def alerts(self) -> Alerts:
        topic = self.environ.get(env.ALERT_TOPIC_ARN)
        return SnsAlerts(topic) if topic else NoAlerts()

    @cached_property
    def whales(self) -> Whales:
        return Whales()

    # ------------------------------------------------------------------------------------ copy pipeline
    @cached_property
    def markets(self) -> Markets:
        return Markets(GammaMarkets(JsonHttp(self.settings.gamma_url, self.settings.http_timeout_s)).market)

    @cached_property
    def books(self) -> Callable[[str], OrderBook | None]:

        return ClobMarketData(JsonHttp(self.settings.clob_url, self.settings.http_timeout_s)).book

    @cached_property
    def exit_queue(self) -> ExitPublisher:
        """Where the exits job sends exit signals: the copy FIFO queue (`COPYTRADER_TRADE_QUEUE_URL`)."""
        import boto3

        return ExitPublisher(boto3.client("sqs"), self.environ[env.TRADE_QUEUE_URL])

    @cached_property
    def account(self) -> AccountStore:
        """The account's risk state (copytrader.store.account): reads, reservations, settlements, breakers."""
        return AccountStore(self.settings.account)

    @cached_property
    def decision_reads(self) -> DecisionReads:
        """What the score step reads for one trade, in one round trip (copytrader.store.decision_reads)."""
        url = self.settings.exits.whale_positions_url
        positions = DataPositions(JsonHttp(url, self.settings.http_timeout_s)).position if url else None
        return DecisionReads(self.account, self.markets, self.settings.paper_bankroll, positions)

    @cached_property
    def marks(self) -> PriceMarks:
        """The listener's price marks (copytrader.store.marks), read in one BatchGetItem."""
        return PriceMarks()

    @cached_property
    def positions(self) -> Positions:
        return self.account.positions

    @cached_property
    def ledger(self) -> OrderLedger:
        return OrderLedger(self.account)

    @cached_property
    def venue(self) -> Venue:
        """The paper venue, or in live mode the CLOB venue once the live preflight passed (`live_venue`)."""
        if self.settings.mode is Mode.LIVE:
            return live_venue(self.settings)
        return PaperVenue(self.books, latency_s=self.settings.venue.paper_latency_ms / 1000)

    @cached_property
    def stances(self) -> Stances | None:
        """Whale stances for the conflict check (copytrader.copying.conflicts); None: no check, nothing recorded."""
        return Stances(self.settings.filters.conflict_window_s)

    # ---------------------------------------------------------------------------------- whale scoring
    @cached_property
    def runs(self) -> RunStore:
        from copytrader.workflows.scoring.run_store import S3RunStore  # its thread pool is the scoring's alone

        return S3RunStore(self._scoring_bucket(), self._s3)

    @cached_property
    def cache(self) -> DiscoveryCache | None:
        """The discovery cache under the bucket's `cache/` prefix (copytrader.discovery.cache_s3)."""
        from copytrader.discovery.cache import DiscoveryCache
        from copytrader.discovery.cache_s3 import S3CacheStore
        from copytrader.workflows.scoring.plan import CACHE_PREFIX

        return DiscoveryCache(S3CacheStore(self._scoring_bucket(), CACHE_PREFIX, client=self._s3))

    @cached_property
    def readers(self) -> Callable[[], AbstractAsyncContextManager[Readers]]:
        """Opens the Data API and Gamma readers with one Map child's share of the rate limits."""
        from copytrader.workflows.scoring.readers import connect_readers

        data_api_url = self.environ.get(env.DATA_API_URL) or DATA_API_URL
        gamma_url = self.settings.gamma_url
        return lambda: connect_readers(data_api_url, gamma_url)

    def _scoring_bucket(self) -> str:
        bucket = self.environ.get(env.SCORING_BUCKET)
        if not bucket:
            raise RuntimeError(f"{env.SCORING_BUCKET} is not set: the scoring workflow needs its bucket")
        return bucket

    @cached_property
    def _s3(self) -> Any:
        import boto3

        return boto3.client("s3")

    # ------------------------------------------------------------------- live redemption and the venue sync
    @cached_property
    def redemption_sender(self) -> Callable[[], RedemptionSender] | None:
        """The factory of the live redemption sender (`execution.redemption_sender.sdk_sender`: a SecureClient on the
        venue credentials and their relayer key), built only when a redemption is to be sent; None in paper mode
        (paper redeems in the books) and then live positions in resolved markets wait, counted."""
        if self.settings.mode is not Mode.LIVE:
            return None

        def build() -> RedemptionSender:
            from copytrader.execution.credentials import load_credentials
            from copytrader.execution.redemption_sender import sdk_sender

            creds = load_credentials()
            relayer = creds.relayer
            return sdk_sender(
                creds,
                relayer_api_key=relayer.key if relayer else None,
                relayer_address=relayer.address if relayer else None,
            )

        return build

    @cached_property
    def chain(self) -> ChainReads | None:
        """Polygon reads over HTTP JSON-RPC (COPYTRADER_POLYGON_HTTP_RPC_URL, else in live mode the venue secret's
        `polygon_http_rpc_url`); None when no endpoint is set."""
        url = self.environ.get(env.POLYGON_HTTP_RPC_URL)
        if not url and self.settings.mode is Mode.LIVE and self.environ.get(env.VENUE_SECRET_ARN):
            from copytrader.execution.credentials import load_credentials

            url = load_credentials(self.environ[env.VENUE_SECRET_ARN]).polygon_http_rpc_url
        return ChainReads(JsonHttp(url, self.settings.http_timeout_s)) if url else None

    @cached_property
    def venue_reads(self) -> VenuePositionsReader:
        """The Data API v2 positions of a wallet (copytrader.polymarket.data_api.positions_v2)."""
        base = self.environ.get(env.DATA_API_URL) or DATA_API_URL
        return VenuePositionsReader(JsonHttp(base, self.settings.http_timeout_s))


_live_venues: dict[tuple[str, str, int], Venue] = {}


def live_venue(settings: Settings, credentials: Any = None) -> Venue:
    """The CLOB venue, built only after the live preflight passed (once per process and endpoint).

    `mode=live` already implies `live_confirmed=true` (the settings refuse one without the other). Credentials
    come from Secrets Manager (COPYTRADER_VENUE_SECRET_ARN) unless given. The preflight repeated here at every cold
    start holds only what trading cannot change (geoblock, CLOB version, credentials); the wallet's balance and
    allowance are checked per BUY, against what that BUY needs, by the venue (`copytrader.execution.funds`). A failed
    preflight refuses with every failing check's reason and is not cached, so the next cold start checks again.
    """
    if settings.mode is not Mode.LIVE or not settings.live_confirmed:
        raise RuntimeError("live venue requested without mode=live and live_confirmed=true")
    cache_key = (settings.clob_url, settings.account, settings.venue.chain_id)
    if cache_key in _live_venues:
        return _live_venues[cache_key]
    from copytrader.execution.clob_venue import ClobVenue
    from copytrader.execution.credentials import load_credentials
    from copytrader.execution.preflight import run_preflight

    creds = credentials if credentials is not None else load_credentials()
    report = run_preflight(settings, creds)
    if not report.passed or report.session is None:
        if report.session is not None:
            report.session.close()
        raise RuntimeError(f"live trading refused: preflight failed: {report.failures()}")
    venue = ClobVenue(
        report.session,  # the SDK client the preflight opened and authenticated
        gtd_lifetime_s=settings.venue.gtd_lifetime_s,
        order_timeout_s=settings.venue.order_timeout_s,
        min_balance=settings.venue.min_live_balance,
        balance_cache_s=settings.venue.balance_cache_s,
    )
    _live_venues[cache_key] = venue
    return venue


# What building the live venue imports (`live_venue`, lazily); the CLOB client is the expensive part.
LIVE_VENUE_MODULES = (
    "copytrader.execution.signing_libs",  # first: py_ecc would raise the recursion limit to 100,000
    "polymarket",
    "copytrader.execution.clob_session",
    "copytrader.execution.clob_order",
    "copytrader.execution.clob_venue",
    "copytrader.execution.credentials",
    "copytrader.execution.preflight",
)


def prewarm(load: Callable[[], Any] = load_settings, warn: Callable[[str, str], None] | None = None) -> list[str]:
    """Import the live venue's modules now (the execute function's init phase, before any copy waits on them); paper:
    nothing. The CLOB client costs ~0.56 s of imports with bytecode, ~1.05 s without (`make bench`).

    It builds nothing and reads no secret: credentials, connections and the settings stay per invocation. Returns
    the modules imported. Never raises: a settings problem is
    reported by the first invocation, a missing module (passed to `warn`) by the venue that needs it.
    """
    try:
        live = load().mode is Mode.LIVE
    except Exception:
        return []
    imported = []
    if live:
        for name in LIVE_VENUE_MODULES:
            try:
                importlib.import_module(name)
                imported.append(name)
            except ImportError as exc:
                if warn is not None:
                    warn(name, str(exc))
    return imported


_current: Deps | None = None


def current() -> Deps:
    """The process's dependencies, built from the environment on first use (Lambda cold start)."""
    global _current
    if _current is None:
        _current = Deps(load_settings())
    return _current


def install(deps: Deps | None) -> None:
    """Replace the process's dependencies (local mode, tests); None forgets them."""
    global _current
    _current = deps
