"""The benchmark's trades and the world they run in, shared by the in-process and state-machine figures.

A seeded workload: `markets` binary markets with a deep static book on both outcomes, `whales` ACTIVE
profiles with a positive edge, and whale BUYs at the best ask, one per simulated second, every whale buying the
same outcome of a market (opposing whales would be a conflict, which the default policy skips). Settings lift
every cap (bankroll, exposure, trade notional) so each trade goes the full path
COPY -> PLACE -> approved -> FILLED; `stop_reason` says where a trade stopped otherwise.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from copytrader.local.aws import LocalAws, LocalResources
from copytrader.local.pipe import pipe_record
from copytrader.model import Market, OrderBook, WhaleProfile, WhaleTrade
from copytrader.settings import Settings, load_settings
from copytrader.workflows import wiring
from tests.support import builders as b
from tests.support.clock import Clock
from tests.support.fake_polymarket import FakePolymarket, fake_polymarket

TICK = Decimal("0.01")
PIPELINE_DELAY = timedelta(milliseconds=300)  # whale fill detected -> pipeline starts (simulated clock)
UNCAPPED = "1000000000"  # pUSD: bankroll and every cap, far above anything the workload trades
CAPS_LIFTED = {
    "paper_bankroll": UNCAPPED,
    "risk": {
        "max_market_exposure": UNCAPPED,
        "max_total_exposure": UNCAPPED,
        "max_group_exposure": UNCAPPED,
        "max_category_exposure": UNCAPPED,
        "max_whale_exposure": UNCAPPED,
        "max_open_orders": 10000,
        "max_orders_per_minute": 100000,
    },
    "sizing": {"max_trade_notional": UNCAPPED},
}


@dataclass(frozen=True)
class Workload:
    markets: tuple[Market, ...]
    books: dict[str, OrderBook]  # token id -> book
    whales: tuple[WhaleProfile, ...]
    trades: tuple[WhaleTrade, ...]


def _book(token: str, best_ask: Decimal, rng: random.Random) -> OrderBook:
    """Five ask levels from `best_ask` up, three bid levels a tick below, 200-1000 shares each."""
    asks = [(str(best_ask + i * TICK), str(rng.randrange(200, 1001))) for i in range(5)]
    bids = [(str(best_ask - i * TICK), str(rng.randrange(200, 1001))) for i in range(1, 4)]
    return b.book(token, bids=bids, asks=asks)


def make_workload(n_trades: int, seed: int = 7, markets: int = 50, whales: int = 20) -> Workload:
    rng = random.Random(seed)
    market_list = tuple(b.market(f"bench-m{i:03d}") for i in range(markets))
    best_ask = {t.token_id: Decimal(rng.randrange(15, 86)) * TICK for m in market_list for t in m.tokens}
    books = {token: _book(token, price, rng) for token, price in best_ask.items()}
    whale_list = tuple(b.whale(f"bench-w{j:03d}", wins=rng.randrange(120, 151)) for j in range(whales))
    # whales agree on each market's outcome: opposing tracked whales are a conflict, skipped by default
    consensus = {m.condition_id: rng.randrange(2) for m in market_list}
    trades = []
    for i in range(n_trades):
        market = rng.choice(market_list)
        outcome = consensus[market.condition_id]
        trades.append(
            b.trade(
                market,
                f"bench-w{rng.randrange(whales):03d}",
                price=str(best_ask[market.tokens[outcome].token_id]),
                size=str(rng.randrange(50, 501)),
                at=b.T0 + timedelta(seconds=i),
                tx=f"bench-{seed}-{i}",
                outcome_index=outcome,
            )
        )
    return Workload(market_list, books, whale_list, tuple(trades))


def sqs_record(trade: WhaleTrade, queue_arn: str) -> dict[str, Any]:
    """The trade as one SQS record in the shape the Pipe hands the state machine."""
    sent_ms = str(int(trade.detected_at.timestamp() * 1000))
    message = {
        "MessageId": f"bench-{trade.key}",
        "ReceiptHandle": "-",
        "Body": trade.model_dump_json(),
        "Attributes": {"SentTimestamp": sent_ms},
    }
    return pipe_record(message, queue_arn)


def stop_reason(state: dict[str, Any]) -> str | None:
    """None when the pipeline state ends in a FILLED execution, else where and why it stopped."""
    for step, key, went_on in (
        ("score", "signal", lambda v: v["action"] == "COPY"),
        ("size", "order", lambda v: v["action"] == "PLACE"),
        ("risk_check", "risk", lambda v: v["approved"] is True),
        ("execute", "result", lambda v: v["status"] == "FILLED"),
    ):
        value = state.get(key)
        if value is None:
            return f"no {key} in the state"
        if not went_on(value):
            return f"{step}: {value.get('status') or value.get('reason')} {value.get('detail') or ''}".strip()
    return None


def run_inline(step: dict[str, Callable[[dict[str, Any]], Any]], record: dict[str, Any]) -> dict[str, Any]:
    """The copy pipeline's path, as the state machine runs it: Tasks at their ResultPath, Choices as ifs."""
    state: dict[str, Any] = step["score"]({"record": record})
    if state["signal"]["action"] != "COPY":
        return state
    state["order"] = step["size"](state)
    if state["order"]["action"] != "PLACE":
        return state
    state["risk"] = step["risk_check"](state)
    if state["risk"]["approved"]:
        state["result"] = step["execute"](state)
    return state


@dataclass(frozen=True)
class World:
    aws: LocalAws
    polymarket: FakePolymarket
    clock: Clock  # the pipeline's clock: simulated time, set per trade (`start`)
    deps: wiring.Deps

    def start(self, trade: WhaleTrade) -> None:
        """The pipeline picks `trade` up PIPELINE_DELAY after it was detected."""
        self.clock.now = trade.detected_at + PIPELINE_DELAY

    @property
    def resources(self) -> LocalResources:
        assert self.aws.resources is not None, "LocalAws creates its resources on entry"
        return self.aws.resources


def bench_settings(polymarket_url: str) -> Settings:
    """Paper settings with every cap lifted (`CAPS_LIFTED`), Gamma and the CLOB at `polymarket_url`."""
    return load_settings(
        environ={},
        overrides={"clob_url": f"{polymarket_url}/clob", "gamma_url": f"{polymarket_url}/gamma", **CAPS_LIFTED},
    )


@contextmanager
def pipeline_world(workload: Workload) -> Iterator[World]:
    """moto server with every resource, a loopback CLOB/Gamma holding the workload, and installed deps."""
    with LocalAws() as aws, fake_polymarket() as polymarket:
        polymarket.markets.update({m.condition_id: m for m in workload.markets})
        polymarket.books.update(workload.books)
        clock = Clock(b.T0)
        deps = wiring.Deps(bench_settings(polymarket.url), clock=clock)
        for whale in workload.whales:
            deps.whales.put(whale, clock())
        wiring.install(deps)
        try:
            yield World(aws, polymarket, clock, deps)
        finally:
            wiring.install(None)
