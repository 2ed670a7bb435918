"""Data API rows and Gamma objects: the real field names and encodings, and lossless round trips."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest

from copytrader.polymarket.gamma import market_from_gamma
from copytrader.sim.world import SimWorld

V1_TRADE_FIELDS = {
    "proxyWallet",
    "side",
    "asset",
    "conditionId",
    "size",
    "price",
    "timestamp",
    "title",
    "slug",
    "icon",
    "eventSlug",
    "outcome",
    "outcomeIndex",
    "name",
    "pseudonym",
    "bio",
    "profileImage",
    "profileImageOptimized",
    "transactionHash",
}


def test_history_rows_round_trip_to_the_columns(world: SimWorld) -> None:
    h = world.history
    rows = world.history_trade_rows()
    assert len(rows) == h.n
    timestamps = [int(str(r["timestamp"])) for r in rows]
    assert timestamps == sorted(timestamps, reverse=True)
    chronological = rows[::-1]
    addresses = [w.address for w in world.wallets]
    for k in np.linspace(0, h.n - 1, 500).astype(int):
        row, i = chronological[k], int(h.market[k])
        assert set(row) == V1_TRADE_FIELDS
        assert row["proxyWallet"] == addresses[int(h.wallet[k])]
        assert row["asset"] == h.markets.token_id(i, int(h.token[k]))
        assert row["conditionId"] == h.markets.condition_id[i]
        assert row["outcomeIndex"] == h.token[k] and row["outcome"] == ("Yes", "No")[int(h.token[k])]
        assert row["side"] == ("BUY", "SELL")[int(h.side[k])]
        assert isinstance(row["price"], float) and row["price"] == pytest.approx(h.price[k], abs=1e-12)
        assert isinstance(row["size"], float) and row["size"] == pytest.approx(h.size[k], abs=1e-9)
        assert isinstance(row["timestamp"], int) and row["timestamp"] == h.timestamp[k]
        assert row["transactionHash"] == "0x" + h.tx[k].tobytes().hex()


def test_day_rows_match_the_day_trades(world: SimWorld) -> None:
    rows = world.day_trade_rows()[::-1]
    assert len(rows) == len(world.day_trades)
    for row, trade in zip(rows, world.day_trades, strict=True):
        assert (row["proxyWallet"], row["asset"]) == (trade.wallet, trade.token_id)
        assert row["transactionHash"] == trade.tx_hash
        assert row["side"] == trade.side.value and row["outcomeIndex"] == trade.outcome_index
        assert Decimal(repr(row["price"])) == trade.price and Decimal(repr(row["size"])) == trade.size
        assert row["timestamp"] == int(trade.timestamp.timestamp())


def test_history_markets_decode_as_gamma_objects(world: SimWorld) -> None:
    markets = world.history_markets_gamma()
    assert len(markets) == world.history.markets.n
    for payload in markets:
        tokens = json.loads(str(payload["clobTokenIds"]))
        assert json.loads(str(payload["outcomes"])) == ["Yes", "No"]
        prices = json.loads(str(payload["outcomePrices"]))
        truth = world.truth(str(payload["conditionId"]))
        assert prices == (["1", "0"] if truth.winning_token == tokens[0] else ["0", "1"])
        assert payload["closed"] is True and payload["acceptingOrders"] is False
        assert payload["umaResolutionStatus"] == "resolved"
        assert str(payload["endDate"]).endswith("Z") and payload["orderMinSize"] == 5


def test_gamma_fee_fields(world: SimWorld) -> None:
    for payload in world.history_markets_gamma():
        if payload["category"] == "Geopolitics":
            assert payload["feesEnabled"] is False and payload["feeType"] is None and "feeSchedule" not in payload
        else:
            schedule = payload["feeSchedule"]
            assert isinstance(schedule, dict) and schedule["rate"] > 0 and schedule["takerOnly"] is True


@pytest.mark.parametrize("hours", [0, 6.5, 13, 20, 24.5])
def test_gamma_parser_reads_back_the_same_market(world: SimWorld, hours: float) -> None:
    """The production Gamma parser turns the sim's Gamma objects into exactly the sim's own `Market`s."""
    at = world.day_start + timedelta(hours=hours)
    conditions = [m.condition_id for m in world.markets] + list(world.history.markets.condition_id[:50])
    for condition_id in conditions:
        payload = world.gamma_market(condition_id, at)
        expected = world.market_at(condition_id, at)
        parsed = market_from_gamma(payload)
        # The category is compared on the payload: the parser's substring match reads "geopolitics" as "politics".
        assert parsed.model_copy(update={"category": expected.category}) == expected
        assert str(payload["category"]).lower() == expected.category


def test_gamma_state_follows_the_lifecycle(world: SimWorld) -> None:
    resolution = world.resolutions[0]
    truth = world.truth(resolution.condition_id)
    before = world.gamma_market(resolution.condition_id, truth.end_at - timedelta(minutes=1))
    ended = world.gamma_market(resolution.condition_id, truth.end_at + timedelta(seconds=1))
    resolved = world.gamma_market(resolution.condition_id, truth.resolve_at)
    assert before["acceptingOrders"] is True and "umaResolutionStatus" not in before and "bestBid" in before
    assert ended["acceptingOrders"] is False and ended["umaResolutionStatus"] == "proposed"
    assert resolved["closed"] is True and resolved["umaResolutionStatus"] == "resolved" and "closedTime" in resolved
    assert float(str(before["volume"])) <= float(str(resolved["volume"]))


def test_last_trade_price_is_in_the_token(world: SimWorld) -> None:
    seconds = Counter((t.condition_id, t.timestamp) for t in world.day_trades)
    trade = next(t for t in world.day_trades if t.outcome_index == 1 and seconds[(t.condition_id, t.timestamp)] == 1)
    after = trade.timestamp + timedelta(seconds=1)
    market = world.market_at(trade.condition_id, after)
    assert world.last_trade_price(trade.token_id, after) == trade.price
    assert world.last_trade_price(market.tokens[0].token_id, after) == 1 - trade.price
