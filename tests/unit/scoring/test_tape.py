"""Rows -> trade tape: formats, cleaning, de-duplication and leg merging, on team fixtures and the real sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from copytrader.scoring.tape import load_rows, read_rows
from tests.support.handbook import data_file

W1 = "0x" + "a1" * 20
W2 = "0x" + "b2" * 20
C1 = "0x" + "c3" * 32
TX1 = "0x" + "d4" * 32
TX2 = "0x" + "e5" * 32
T_YES, T_NO = "111", "222"


def v1(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "proxyWallet": W1,
        "side": "BUY",
        "asset": T_YES,
        "conditionId": C1,
        "size": 10.0,
        "price": 0.4,
        "timestamp": 1_760_000_000,
        "outcome": "Yes",
        "outcomeIndex": 0,
        "transactionHash": TX1,
    }
    row.update(over)
    return row


def v2(**over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "proxy_wallet": W2,
        "side": "SELL",
        "token_id": T_NO,
        "condition_id": C1,
        "size": 5.0,
        "price": 0.7,
        "timestamp": 1_760_000_100,
        "outcome_index": 999,
        "transaction_hash": TX2,
    }
    row.update(over)
    return row


def test_v1_and_v2_rows_become_one_tape_sorted_by_wallet_and_time() -> None:
    tape, report = load_rows([v2(), v1(timestamp=1_760_000_050, transactionHash=TX2), v1()])
    assert report.trades == 3 and report.rejected == {}
    assert tape.wallets == (W1, W2)
    assert tape.wallet.tolist() == [0, 0, 1]
    assert tape.timestamp.tolist() == [1_760_000_000, 1_760_000_050, 1_760_000_100]
    assert tape.buy.tolist() == [True, True, False]
    assert [tape.tokens[i] for i in tape.token] == [T_YES, T_YES, T_NO]
    assert tape.price.tolist() == [0.4, 0.4, 0.7]


def test_exact_repeats_are_dropped_and_legs_of_one_fill_merge() -> None:
    rows = [
        v1(size=10.0, price=0.40),
        v1(size=10.0, price=0.40),  # repeat (a pager or export duplicate)
        v1(size=30.0, price=0.44, timestamp=1_760_000_001),  # second leg of the same fill
        v1(size=5.0, price=0.4, side="SELL"),  # same tx, other side: a different trade
    ]
    tape, report = load_rows(rows)
    assert report.duplicates == 1 and report.merged_legs == 1 and report.trades == 2
    buy = int(np.flatnonzero(tape.buy)[0])
    assert tape.size[buy] == pytest.approx(40.0)
    assert tape.price[buy] == pytest.approx((10 * 0.40 + 30 * 0.44) / 40)
    assert tape.timestamp[buy] == 1_760_000_000
    assert tape.legs[buy] == 2


def test_bad_rows_are_counted_by_reason_and_never_reach_the_tape() -> None:
    rows = [
        "not a row",
        v1(proxyWallet="0xnope"),
        v1(side="HOLD"),
        v1(price=1.0),
        v1(price=float("nan")),
        v1(size=0),
        v1(size=1e13),
        v1(timestamp="yesterday"),
        v1(asset="12ab"),
        v1(conditionId="0x12"),
        v1(transactionHash="0x1234"),
        v1(fee=-1.0),
        v1(price=True),
        v1(),
    ]
    tape, report = load_rows(rows)
    assert tape.n == 1
    assert report.rejected == {
        "not_an_object": 1,
        "malformed_wallet": 1,
        "unknown_side": 1,
        "price_out_of_range": 1,
        "malformed_price": 2,
        "non_positive_size": 1,
        "implausible_size": 1,
        "malformed_timestamp": 1,
        "malformed_token_id": 1,
        "malformed_condition_id": 1,
        "malformed_tx_hash": 1,
        "negative_fee": 1,
    }


def test_a_fee_field_is_kept_and_rows_without_one_are_fee_free() -> None:
    tape, _ = load_rows([v1(fee=0.085), v1(transactionHash=TX2)])
    assert sorted(tape.fee.tolist()) == [0.0, 0.085]


def test_rows_without_tx_hash_are_kept_flagged_and_never_merged() -> None:
    _, report = load_rows([v1(transactionHash=None), v1(transactionHash=None, size=3.0), v1(transactionHash=None)])
    assert report.no_tx_hash == 2 and report.duplicates == 1 and report.trades == 2


def test_files_in_every_supported_format(tmp_path: Path) -> None:
    rows = [v1(), v2()]
    (tmp_path / "a.json").write_text(json.dumps(rows))
    (tmp_path / "b.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    (tmp_path / "c.json").write_text(json.dumps({"data": rows, "pagination": {"has_more": False}}))
    header = "proxyWallet,side,asset,conditionId,size,price,timestamp,transactionHash\n"
    (tmp_path / "d.csv").write_text(header + f"{W1},BUY,{T_YES},{C1},10,0.4,1760000000,{TX1}\n")
    assert load_rows(read_rows(tmp_path / "a.json"))[1].trades == 2
    jsonl = load_rows(read_rows(tmp_path / "b.jsonl"))[1]
    assert jsonl.trades == 2 and jsonl.rejected == {"not_an_object": 1}
    assert load_rows(read_rows(tmp_path / "c.json"))[1].trades == 2
    tape, report = load_rows(read_rows(tmp_path / "d.csv"))
    assert report.trades == 1 and tape.price.tolist() == [0.4] and tape.size.tolist() == [10.0]


def test_the_real_global_feed_sample() -> None:
    """500 real rows of the global /trades feed (tx hashes dropped by the exporter): 28 exact repeats, 472 trades."""
    tape, report = load_rows(read_rows(data_file("asommerhauser-global-trades-sample/polymarket_trades_sample.csv")))
    assert report.rows == 500
    assert report.duplicates == 28 and report.trades == 472
    assert report.no_tx_hash == 472 and report.rejected == {}
    assert len(tape.wallets) <= 190 and len(tape.conditions) == 75
    assert tape.price.min() > 0 and tape.price.max() < 1


def test_the_recorded_data_api_payload() -> None:
    rows = json.loads(data_file("nautilus-polymarket-fixtures/data_api_trades_response.json").read_text())
    tape, report = load_rows(rows)
    assert report.trades == 3 and report.rejected == {}
    assert tape.buy.tolist().count(False) == 1
