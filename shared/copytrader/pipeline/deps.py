"""Dependencies of the pipeline steps, built once per process from settings and environment.

Handlers call `current()`; local mode and tests call `install(...)` to supply their own (for example a
simulated clock). Nothing here is imported by the pure domain modules.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

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


def build(settings: Settings, clock: Callable[[], datetime] = system_clock, alerts: Alerts | None = None) -> Deps:
    """Wire the adapters for `settings` (paper venue unless live mode is fully enabled).

    Building writes nothing: each step touches only the tables its role may touch (the paper account is
    created by risk_check, the first step that must write the risk table).
    """
    clob = ClobMarketData(JsonHttp(settings.clob_url, settings.http_timeout_s))
    gamma = GammaMarkets(JsonHttp(settings.gamma_url, settings.http_timeout_s))
    portfolio = PortfolioStore(settings.account)
    positions = Positions(portfolio)
    if settings.mode is Mode.LIVE:
        raise RuntimeError("live trading is not available yet: the CLOB venue adapter lands with the pipeline issue")
    venue: Venue = PaperVenue(clob.book)
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
    )
    return deps


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
