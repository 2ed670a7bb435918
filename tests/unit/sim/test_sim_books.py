"""Books: valid CLOB books around the model mid, YES/NO mirror images, fills at the touch, follower slippage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest

from copytrader.model import OrderBook, Side
from copytrader.sim.world import SimWorld


def sample_books(world: SimWorld) -> Iterator[tuple[str, datetime, OrderBook, OrderBook]]:
    """(condition id, time, YES book, NO book) for every live market at every 97 minutes of the day."""
    for market in world.markets:
        yes, no = (t.token_id for t in market.tokens)
        for minutes in range(0, 26 * 60, 97):
            at = world.day_start + timedelta(minutes=minutes, seconds=13)
            yield market.condition_id, at, world.book(yes, at), world.book(no, at)


def test_books_are_valid(world: SimWorld) -> None:
    count = 0
    for _, at, *books in sample_books(world):
        for book in books:
            tick = book.tick_size
            assert tick is not None and book.min_order_size == 5 and book.timestamp == at
            assert 1 <= len(book.bids) <= 10 and 1 <= len(book.asks) <= 10
            prices = [lv.price for lv in (*book.bids, *book.asks)]
            assert all(tick <= p <= 1 - tick and p % tick == 0 for p in prices)
            assert all(a.price > b.price for a, b in zip(book.bids, book.bids[1:], strict=False))
            assert all(a.price < b.price for a, b in zip(book.asks, book.asks[1:], strict=False))
            assert book.spread is not None and book.spread >= tick
            assert all(lv.size > 0 and lv.size == lv.size.quantize(Decimal("0.01")) for lv in (*book.bids, *book.asks))
            count += 1
    assert count > 1000


def test_no_book_mirrors_yes_book(world: SimWorld) -> None:
    for _, _, yes, no in sample_books(world):
        assert [(1 - lv.price, lv.size) for lv in yes.asks] == [(lv.price, lv.size) for lv in no.bids]
        assert [(1 - lv.price, lv.size) for lv in yes.bids] == [(lv.price, lv.size) for lv in no.asks]
        assert yes.mid is not None and no.mid is not None and yes.mid + no.mid == 1


def test_mid_is_the_book_midpoint(world: SimWorld) -> None:
    market = world.markets[0]
    at = world.day_start + timedelta(hours=1)
    token = market.tokens[0].token_id
    assert world.mid(token, at) == world.book(token, at).mid


def test_trades_print_at_the_touch_within_its_size(world: SimWorld) -> None:
    for trade in world.day_trades:
        book = world.book(trade.token_id, trade.timestamp)
        touch = book.asks[0] if trade.side is Side.BUY else book.bids[0]
        assert trade.price == touch.price
        assert trade.size <= touch.size
        assert trade.size >= 5


def test_followers_pay_a_little_more_than_the_whale(world: SimWorld) -> None:
    """A taker's fill moves the book against the next taker: a copier 1.5-3 s later pays more on average."""
    slippage = []
    for trade in world.day_trades:
        if trade.side is Side.BUY and trade.wallet in world.skilled_addresses:
            ask = world.book(trade.token_id, trade.detected_at).best_ask
            assert ask is not None
            slippage.append(float(ask - trade.price))
    mean = float(np.mean(slippage))
    assert 0.001 < mean < 0.02, mean
    assert np.mean(np.array(slippage) > 0) > 0.4


def test_books_converge_to_the_outcome(world: SimWorld) -> None:
    for resolution in world.resolutions:
        truth = world.truth(resolution.condition_id)
        assert world.mid(truth.winning_token, truth.end_at) > Decimal("0.95")
        frozen = world.book(truth.winning_token, truth.end_at + timedelta(minutes=3))
        assert frozen.mid == world.mid(truth.winning_token, truth.end_at)


def test_only_live_tokens_have_books(world: SimWorld) -> None:
    history_token = world.history.markets.yes_token[0]
    assert world.has_token(history_token) and not world.has_book(history_token)
    for token in (history_token, "12345"):
        with pytest.raises(KeyError):
            world.book(token, world.day_start)
