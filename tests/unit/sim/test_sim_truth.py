"""Statistical truth of the population, on fixed seeds: skill shows as calibrated edge, luck as volume."""

from __future__ import annotations

from decimal import Decimal

import numpy as np

from copytrader.model import Side
from copytrader.money import taker_fee
from copytrader.sim.wallets import WalletKind
from copytrader.sim.world import SimWorld


def kinds(world: SimWorld) -> np.ndarray:
    return np.array([w.kind.value for w in world.wallets])


def wallet_edges(world: SimWorld, kind: WalletKind) -> list[float]:
    """Each wallet's mean calibrated edge (won - price) over its historical BUYs (wallets that bought)."""
    h = world.history
    buys = h.side == 0
    edge = h.won[buys] - h.price[buys]
    wallet = h.wallet[buys]
    members = np.flatnonzero(kinds(world) == kind.value)
    return [float(edge[wallet == w].mean()) for w in members if np.any(wallet == w)]


def test_population_matches_the_config(world: SimWorld) -> None:
    config = world.config
    counted = {k: int(np.sum(kinds(world) == k.value)) for k in WalletKind}
    assert counted == {
        WalletKind.SKILLED: config.n_skilled,
        WalletKind.LUCKY: config.n_lucky,
        WalletKind.MAKER: config.n_makers,
        WalletKind.NOISE: config.n_wallets - config.n_skilled - config.n_lucky - config.n_makers,
    }
    assert world.skilled_addresses == {w.address for w in world.wallets if w.kind is WalletKind.SKILLED}
    assert all(0.6 <= w.skill <= 1.0 for w in world.wallets if w.kind is WalletKind.SKILLED)
    assert all(w.skill == 0 for w in world.wallets if w.kind is not WalletKind.SKILLED)
    assert len({w.address for w in world.wallets}) == config.n_wallets


def test_only_skilled_wallets_have_calibrated_edge(seed_worlds: list[SimWorld], scoring_world: SimWorld) -> None:
    for w in (*seed_worlds, scoring_world):
        skilled = float(np.mean(wallet_edges(w, WalletKind.SKILLED)))
        assert skilled > 0.035, skilled
        assert np.mean(wallet_edges(w, WalletKind.NOISE)) < 0.0
        assert abs(np.mean(wallet_edges(w, WalletKind.MAKER))) < 0.025
        assert np.mean(wallet_edges(w, WalletKind.LUCKY)) < skilled - 0.02


def test_lucky_wallets_have_no_edge_on_average(seed_worlds: list[SimWorld]) -> None:
    """Each lucky history is the better of two draws (survivorship), which lifts single wallets, not the mean."""
    pooled = [e for w in seed_worlds for e in wallet_edges(w, WalletKind.LUCKY)]
    assert len(pooled) == 16
    assert abs(np.mean(pooled)) < 0.01


def test_lucky_wallets_trade_the_largest_volume(world: SimWorld, scoring_world: SimWorld) -> None:
    for w in (world, scoring_world):
        h = w.history
        volume = np.bincount(h.wallet, weights=h.price * h.size, minlength=len(w.wallets))
        top = set(np.argsort(-volume)[: w.config.n_lucky].tolist())
        assert top == set(np.flatnonzero(kinds(w) == WalletKind.LUCKY.value).tolist())


def test_live_day_scale(world: SimWorld) -> None:
    skilled = sum(t.wallet in world.skilled_addresses for t in world.day_trades)
    assert 150 <= skilled <= 400
    assert 1500 <= len(world.day_trades) <= 5000
    assert world.day_trades == sorted(world.day_trades, key=lambda t: t.timestamp)
    assert all(world.day_start <= t.timestamp < world.day_end for t in world.day_trades)
    latency = [(t.detected_at - t.timestamp).total_seconds() for t in world.day_trades]
    assert min(latency) >= 1.5 and max(latency) <= 3.0
    sells = [t for t in world.day_trades if t.side is Side.SELL]
    assert 0.05 < len(sells) / len(world.day_trades) < 0.3


def test_sells_reduce_earlier_positions(world: SimWorld) -> None:
    held: dict[tuple[str, str], Decimal] = {}
    for trade in world.day_trades:
        key = (trade.wallet, trade.token_id)
        change = trade.size if trade.side is Side.BUY else -trade.size
        held[key] = held.get(key, Decimal(0)) + change
        assert held[key] >= 0


def test_copying_skilled_wallets_beats_copying_the_rest(seed_worlds: list[SimWorld]) -> None:
    """Buy what each wallet bought at the ask a copier sees at detection, pay the taker fee, hold to resolution.

    One day is ~40 resolved markets, so a single day is noisy (per-share edge sd ~0.07 across seeds): pool four.
    """
    net: dict[bool, list[float]] = {True: [], False: []}
    for w in seed_worlds:
        payouts = {r.condition_id: r.payouts for r in w.resolutions}
        for trade in w.day_trades:
            if trade.side is not Side.BUY or trade.condition_id not in payouts:
                continue
            market = w.market_at(trade.condition_id, trade.detected_at)
            ask = w.book(trade.token_id, trade.detected_at).best_ask
            if ask is None or not market.accepting_orders:
                continue
            fee = taker_fee(Decimal(1), ask, market.taker_fee_rate)
            won = payouts[trade.condition_id][trade.token_id]
            net[trade.wallet in w.skilled_addresses].append(float(won - ask - fee))
    assert np.mean(net[True]) > 0.01 > 0 > np.mean(net[False])
