"""Dependencies of the pipeline steps, built once per process from settings and environment.

Handlers call `current()`; local mode and tests call `install(...)` to supply their own (for example a
simulated clock). Nothing here is imported by the pure domain modules.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copytrader import runtime_env
from copytrader.alerts import Alerts, NoAlerts, SnsAlerts
from copytrader.execution.paper import PaperVenue
from copytrader.execution.venue import Venue
from copytrader.model import OrderBook
from copytrader.polymarket.clob import ClobMarketData
from copytrader.polymarket.gamma import GammaMarkets
from copytrader.polymarket.http import JsonHttp
from copytrader.settings import Mode, Settings, load_settings
from copytrader.store.markets import Markets
from copytrader.store.orders import OrderLedger
from copytrader.store.portfolio import PortfolioStore
from copytrader.store.positions import Positions
from copytrader.store.stances import Stances
from copytrader.store.whales import Whales


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    settings: Settings
    clock: Callable[[], datetime]
    whales: Whales
    markets: Markets
    books: Callable[[str], OrderBook | None]
    portfolio: PortfolioStore
    positions: Positions
    ledger: OrderLedger
    venue: Venue
    alerts: Alerts
    # whale stances for the conflict check (copytrader.conflicts); None: no conflict check, nothing recorded
    stances: Stances | None = None


def build(settings: Settings, clock: Callable[[], datetime] = system_clock, alerts: Alerts | None = None) -> Deps:
    """Wire the adapters for `settings` (paper venue unless live mode is fully enabled).

    Building writes nothing: each step touches only the tables its role may touch (the paper account is
    created by risk_check, the first step that must write the risk table).
    """
    clob = ClobMarketData(JsonHttp(settings.clob_url, settings.http_timeout_s))
    gamma = GammaMarkets(JsonHttp(settings.gamma_url, settings.http_timeout_s))
    portfolio = PortfolioStore(settings.account)
    positions = Positions(portfolio)
    venue: Venue
    if settings.mode is Mode.LIVE:
        venue = live_venue(settings)
    else:
        venue = PaperVenue(clob.book, latency_s=settings.venue.paper_latency_ms / 1000)
    if alerts is None:
        topic = os.environ.get(runtime_env.ALERT_TOPIC_ARN)
        alerts = SnsAlerts(topic) if topic else NoAlerts()
    deps = Deps(
        settings=settings,
        clock=clock,
        whales=Whales(),
        markets=Markets(gamma.market),
        books=clob.book,
        portfolio=portfolio,
        positions=positions,
        ledger=OrderLedger(portfolio, positions),
        venue=venue,
        alerts=alerts,
        stances=Stances(settings.filters.conflict_window_s),
    )
    return deps


_live_venues: dict[tuple[str, str, int], Venue] = {}


def live_venue(settings: Settings, credentials: Any = None) -> Venue:
    """The CLOB venue, built only after the live preflight passed (once per process and endpoint).

    `mode=live` already implies `live_confirmed=true` (the settings refuse one without the other). Credentials
    come from Secrets Manager (COPYTRADER_VENUE_SECRET_ARN) unless given. A failed preflight refuses with
    every failing check's reason and is not cached, so the next cold start checks again.
    """
    if settings.mode is not Mode.LIVE or not settings.live_confirmed:
        raise RuntimeError("live venue requested without mode=live and live_confirmed=true")
    cache_key = (settings.clob_url, settings.account, settings.venue.chain_id)
    if cache_key in _live_venues:
        return _live_venues[cache_key]
    from copytrader.execution.clob_venue import ClobVenue
    from copytrader.execution.credentials import load_credentials
    from copytrader.execution.preflight import run_preflight
    from copytrader.polymarket.clob_auth import ClobAuthHttp

    creds = credentials if credentials is not None else load_credentials()
    report = run_preflight(settings, creds)
    if not report.passed or report.credentials is None:
        raise RuntimeError(f"live trading refused: preflight failed: {report.failures()}")
    http = ClobAuthHttp(
        settings.clob_url, report.credentials, chain_id=settings.venue.chain_id, timeout_s=settings.http_timeout_s
    )
    venue = ClobVenue(
        http,
        chain_id=settings.venue.chain_id,
        gtd_lifetime_s=settings.venue.gtd_lifetime_s,
        order_timeout_s=settings.venue.order_timeout_s,
    )
    _live_venues[cache_key] = venue
    return venue


_current: Deps | None = None


def current() -> Deps:
    """The process's dependencies, built from the environment on first use (Lambda cold start)."""
    global _current
    if _current is None:
        _current = build(load_settings())
    return _current


def install(deps: Deps | None) -> None:
    """Replace the process's dependencies (local mode, tests); None forgets them."""
    global _current
    _current = deps
