"""The average-cost ledger against a hand-worked example and an exact Decimal re-implementation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from copytrader.scoring.ledger import SECONDS_PER_DAY, build_ledger
from copytrader.scoring.market_table import TokenFacts
from copytrader.scoring.tape import TradeTape

DAY0 = 20_000 * SECONDS_PER_DAY


def make_tape(trades: list[tuple[int, int, bool, float, float, int, float]], tokens: int = 2) -> TradeTape:
    """trades: (wallet, token, buy, price, size, timestamp, fee)."""
    arr = list(zip(*trades, strict=True))
    wallet = np.array(arr[0], dtype=np.int64)
    order = np.lexsort((np.arange(len(trades)), np.array(arr[5]), wallet))
    pick = lambda i, dtype: np.array(arr[i], dtype=dtype)[order]  # noqa: E731
    return TradeTape(
        wallets=tuple(f"0x{i:040x}" for i in range(int(wallet.max()) + 1)),
        tokens=tuple(str(100 + i) for i in range(tokens)),
        conditions=tuple(f"0x{i:064x}" for i in range(tokens)),
        wallet=pick(0, np.int64),
        token=pick(1, np.int64),
        condition=pick(1, np.int64),
        buy=pick(2, bool),
        price=pick(3, float),
        size=pick(4, float),
        fee=pick(6, float),
        timestamp=pick(5, np.int64),
        legs=np.ones(len(trades), dtype=np.int64),
        decision=np.ones(len(trades), dtype=bool),
    )


def make_facts(payout: list[float], resolved_at: list[int], price_now: list[float] | None = None) -> TokenFacts:
    n = len(payout)
    return TokenFacts(
        known=np.ones(n, dtype=bool),
        outcome=np.arange(n, dtype=np.int64) % 2,
        payout=np.array(payout, dtype=float),
        resolved_at=np.array(resolved_at, dtype=np.int64),
        price_now=np.array(price_now if price_now is not None else [np.nan] * n, dtype=float),
        event=np.arange(n, dtype=np.int64) // 2,
        category=np.zeros(n, dtype=np.int64),
        fee_rate=np.zeros(n),
        events=tuple(f"e{i}" for i in range((n + 1) // 2)),
        categories=("c",),
        mismatched_tokens=0,
    )


def test_hand_worked_position() -> None:
    """Buy 100 @0.40, buy 100 @0.60 (avg 0.50), sell 50 @0.70 (+10), fee 0.5 on the sell; 150 held to a win (+75).
    A second token: sell 20 @0.30 never bought in the window (flagged), buy 10 @0.2 still open (price now 0.25)."""
    tape = make_tape(
        [
            (0, 0, True, 0.40, 100, DAY0 + 10, 0.0),
            (0, 0, True, 0.60, 100, DAY0 + 20, 0.0),
            (0, 0, False, 0.70, 50, DAY0 + SECONDS_PER_DAY, 0.5),
            (0, 1, False, 0.30, 20, DAY0 + 30, 0.0),
            (0, 1, True, 0.20, 10, DAY0 + 40, 0.0),
        ]
    )
    facts = make_facts([1.0, np.nan], [DAY0 + 3 * SECONDS_PER_DAY, -1], [np.nan, 0.25])
    ledger = build_ledger(tape, facts, as_of=DAY0 + 4 * SECONDS_PER_DAY)
    assert ledger.realized_trading[0] == pytest.approx(10.0)
    assert ledger.resolution[0] == pytest.approx(150 * (1 - 0.5))
    assert ledger.fees[0] == pytest.approx(0.5)
    assert ledger.pnl[0] == pytest.approx(10.0 + 75.0 - 0.5)
    assert ledger.pre_window_shares[0] == pytest.approx(20) and ledger.pre_window_usdc[0] == pytest.approx(6.0)
    assert ledger.open_basis[0] == pytest.approx(2.0) and ledger.unrealized[0] == pytest.approx(0.5)
    assert ledger.open_positions[0] == 1 and ledger.positions[0] == 2
    days, daily = ledger.days(0)
    assert days.tolist() == [20_000, 20_001, 20_002, 20_003]
    assert daily.tolist() == pytest.approx([0.0, 9.5, 0.0, 75.0])
    assert daily.sum() == pytest.approx(ledger.pnl[0])
    # Little's law: token 0 holds 100 sh for 10 s, 200 for 86380 s, 150 for 2 days; token 1 holds 10 sh to as-of
    share_seconds = (
        100 * 10 + 200 * (SECONDS_PER_DAY - 20) + 150 * 2 * SECONDS_PER_DAY + 10 * (4 * SECONDS_PER_DAY - 40)
    )
    assert ledger.share_seconds[0] == pytest.approx(share_seconds)
    assert ledger.holding_hours[0] == pytest.approx(share_seconds / 210 / 3600)


def reference(trades: list[tuple[int, int, bool, float, float, int, float]], payout: list[float]) -> dict[str, Decimal]:
    """Exact average-cost ledger for one wallet in Decimal, written independently of the implementation."""
    held: dict[int, Decimal] = {}
    basis: dict[int, Decimal] = {}
    out = {k: Decimal(0) for k in ("realized", "resolution", "fees", "pre", "cash", "open_basis")}
    for _, token, buy, price, size, _, fee in sorted(trades, key=lambda t: (t[1], t[5])):
        p, s, f = Decimal(repr(price)), Decimal(repr(size)), Decimal(repr(fee))
        q, b = held.get(token, Decimal(0)), basis.get(token, Decimal(0))
        out["fees"] += f
        out["cash"] -= f
        if buy:
            held[token], basis[token] = q + s, b + p * s
            out["cash"] -= p * s
            continue
        m = min(s, q)
        out["pre"] += s - m
        if m > 0:
            avg = b / q
            out["realized"] += m * (p - avg)
            out["cash"] += m * p
            held[token], basis[token] = q - m, b - m * avg
            if held[token] <= Decimal("0.000001"):
                held[token] = basis[token] = Decimal(0)
    for token, q in held.items():
        if q <= Decimal("0.000001"):
            continue
        if payout[token] == payout[token]:
            out["resolution"] += q * Decimal(repr(payout[token])) - basis[token]
            out["cash"] += q * Decimal(repr(payout[token]))
        else:
            out["open_basis"] += basis[token]
    return out


trade = st.tuples(
    st.just(0),
    st.integers(0, 2),
    st.booleans(),
    st.integers(1, 99).map(lambda c: c / 100),
    st.integers(1, 100_000).map(lambda c: c / 100),
    st.integers(0, 10 * SECONDS_PER_DAY),
    st.sampled_from([0.0, 0.0, 0.01, 0.25]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(trade, min_size=1, max_size=40), st.lists(st.sampled_from([0.0, 1.0, 0.5, np.nan]), min_size=3, max_size=3)
)
def test_matches_an_exact_decimal_ledger_and_the_cash_identity(
    trades: list[tuple[int, int, bool, float, float, int, float]], payout: list[float]
) -> None:
    trades = [(w, k, b, p, s, DAY0 + t, f) for w, k, b, p, s, t, f in trades]
    tape = make_tape(trades, tokens=3)
    resolved_at = [DAY0 + 11 * SECONDS_PER_DAY if x == x else -1 for x in payout]
    ledger = build_ledger(tape, make_facts(payout, resolved_at), as_of=DAY0 + 12 * SECONDS_PER_DAY)
    ref = reference(trades, payout)
    scale = 1.0 + float(sum(Decimal(repr(p)) * Decimal(repr(s)) for _, _, _, p, s, _, _ in trades))
    tol = 1e-9 * scale
    assert ledger.realized_trading[0] == pytest.approx(float(ref["realized"]), abs=tol)
    assert ledger.resolution[0] == pytest.approx(float(ref["resolution"]), abs=tol)
    assert ledger.fees[0] == pytest.approx(float(ref["fees"]), abs=tol)
    assert ledger.pre_window_shares[0] == pytest.approx(float(ref["pre"]), abs=tol)
    assert ledger.open_basis[0] == pytest.approx(float(ref["open_basis"]), abs=tol)
    # audit: cash in and out equals P&L minus what is still tied up in open positions
    assert float(ref["cash"]) == pytest.approx(ledger.pnl[0] - ledger.open_basis[0], abs=tol)
    assert ledger.daily_pnl.sum() == pytest.approx(ledger.pnl[0], abs=tol)
    assert ledger.realized.sum() + ledger.resolution[0] == pytest.approx(ledger.pnl[0], abs=tol)


def test_wallets_do_not_leak_into_each_other() -> None:
    tape = make_tape(
        [
            (0, 0, True, 0.5, 10, DAY0, 0.0),
            (1, 0, False, 0.6, 10, DAY0 + 5, 0.0),  # wallet 1 never bought: pre-window, not wallet 0's shares
        ],
        tokens=1,
    )
    ledger = build_ledger(tape, make_facts([0.0], [DAY0 + 100]), as_of=DAY0 + 200)
    assert ledger.pre_window_shares.tolist() == [0.0, 10.0]
    assert ledger.pnl.tolist() == pytest.approx([-5.0, 0.0])
