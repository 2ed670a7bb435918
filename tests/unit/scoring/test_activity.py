"""/activity rows: splits and merges reach the ledger (not the edge), redemptions and rewards are audited."""

from __future__ import annotations

import json

import pytest

from copytrader.scoring.engine import evidence_from_rows
from copytrader.scoring_settings import ScoringSettings

W = "0x" + "ab" * 20
C = "0x" + "cd" * 32
TX = ["0x" + f"{i:02x}" * 32 for i in range(1, 9)]
T0 = 1_760_000_000
MARKET = {
    "conditionId": C,
    "question": "q",
    "clobTokenIds": json.dumps(["1", "2"]),
    "outcomes": json.dumps(["Yes", "No"]),
    "outcomePrices": json.dumps(["1", "0"]),
    "closed": True,
    "umaResolutionStatus": "resolved",
    "closedTime": "2025-10-20 00:00:00+00",
    "events": [{"id": "7"}],
}
AS_OF = 1_760_918_400  # 2025-10-20


def trade(side: str, token: str, size: float, price: float, t: int, tx: str) -> dict[str, object]:
    return {
        "proxyWallet": W,
        "side": side,
        "asset": token,
        "conditionId": C,
        "size": size,
        "price": price,
        "timestamp": t,
        "transactionHash": tx,
    }


def act(kind: str, size: float, usdc: float, t: int, tx: str) -> dict[str, object]:
    return {
        "proxyWallet": W,
        "type": kind,
        "conditionId": C,
        "size": size,
        "usdcSize": usdc,
        "timestamp": t,
        "transactionHash": tx,
        "asset": "",
        "side": "",
    }


def test_split_then_sell_one_side_is_real_pnl_not_a_pre_window_sale() -> None:
    """Split 100 pUSD into 100 YES + 100 NO, sell the 100 NO at 0.30, hold YES, which wins: P&L = 30 + 100 - 100."""
    trades = [trade("SELL", "2", 100, 0.30, T0 + 60, TX[1])]
    activity = [act("SPLIT", 100, 100, T0, TX[0]), act("REDEEM", 100, 100, AS_OF - 10, TX[2])]
    without = evidence_from_rows(trades, [MARKET], ScoringSettings(), as_of=AS_OF).evidence[0]
    assert without.pre_window_sell_shares == pytest.approx(100) and without.pnl_usdc == pytest.approx(0.0)
    run = evidence_from_rows(trades, [MARKET], ScoringSettings(), as_of=AS_OF, activity=activity)
    e = run.evidence[0]
    assert e.pre_window_sell_shares == 0
    assert e.pnl_usdc == pytest.approx(30.0)
    assert e.realized_trading_usdc == pytest.approx(100 * (0.30 - 0.5))
    assert e.resolution_usdc == pytest.approx(100 * (1 - 0.5))
    assert e.redeemed_usdc == pytest.approx(100.0)  # the chain paid what the ledger booked at resolution
    assert e.trades == 1 and e.scored_trades == 1  # the split is not a decision; the sale is
    assert e.edge == pytest.approx(0.30 - 0.0)  # sold NO at 0.30, NO paid 0
    assert run.activity is not None and run.activity.by_type == {"SPLIT": 1, "REDEEM": 1}


def test_merge_closes_both_sides_before_resolution() -> None:
    trades = [trade("BUY", "1", 50, 0.40, T0, TX[0]), trade("BUY", "2", 50, 0.55, T0 + 1, TX[1])]
    activity = [act("MERGE", 50, 50, T0 + 3600, TX[2]), act("REWARD", 0, 1.25, T0 + 7200, TX[3])]
    open_market = MARKET | {"closed": False, "outcomePrices": json.dumps(["0.5", "0.5"]), "umaResolutionStatus": None}
    e = evidence_from_rows(trades, [open_market], ScoringSettings(), as_of=AS_OF, activity=activity).evidence[0]
    assert e.pnl_usdc == pytest.approx(50 * (1 - 0.40 - 0.55))  # merged at 1 per set: realised before resolution
    assert e.open_basis_usdc == pytest.approx(0.0)
    assert e.rewards_usdc == pytest.approx(1.25)
    assert e.trades == 2


def test_conversions_unknown_types_and_unknown_markets_are_counted_not_guessed() -> None:
    activity = [
        act("CONVERSION", 10, 0, T0, TX[0]),
        act("TELEPORT", 1, 1, T0, TX[1]),
        act("SPLIT", 5, 5, T0, TX[2]) | {"conditionId": "0x" + "ee" * 32},
        act("TRADE", 5, 2, T0, TX[3]),
        "junk",
    ]
    run = evidence_from_rows(
        [trade("BUY", "1", 10, 0.5, T0, TX[4])], [MARKET], ScoringSettings(), as_of=AS_OF, activity=activity
    )
    e = run.evidence[0]
    assert e.conversions == 1 and any("conversions not modelled" in f for f in e.flags)
    assert run.activity is not None
    assert run.activity.skipped == {"unknown_type": 1, "split_merge_unknown_market": 1, "not_an_object": 1}
    assert e.trades == 1  # activity TRADE rows never double the /trades record
