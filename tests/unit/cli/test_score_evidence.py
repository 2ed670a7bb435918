"""`copytrader score` on Data API rows (issue 12, item 8): real rows keep scoring with the same columns; each
wallet's JSON carries its events, independent events, the edge test as run, the number of trials and the reason
when it lacks evidence; a file that is not /trades rows at all exits 2 naming the missing columns."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from copytrader.cli.score import main
from copytrader.scoring.edge import EDGE_TEST_NAME
from tests.support.event_worlds import HEDGER, hedged_event, spread_wallet
from tests.support.handbook import data_file

SPREAD = "0x" + "cd" * 20
UNDEFINED_TEST = {"name": EDGE_TEST_NAME, "statistic": None, "df": None, "p_value": None}


def _score(tmp_path: Path, rows: object, markets: object, *extra: str) -> int:
    trades, gamma = tmp_path / "trades.json", tmp_path / "markets.json"
    trades.write_text(json.dumps(rows))
    gamma.write_text(json.dumps(markets))
    return main(["score", "--trades", str(trades), "--markets", str(gamma), "--quiet", *extra])


def test_each_wallet_carries_its_events_test_trials_and_reason(tmp_path: Path) -> None:
    # GIVEN the hedged neg-risk wallet (17 markets of one event) and a wallet with one 0.50 YES buy in each of three
    # single-market events, two won and one lost
    hedged_rows, hedged_markets = hedged_event()
    spread_rows, spread_markets = spread_wallet(
        SPREAD, [1, 2, 3], first_market=100, wins=[True, True, False], price=0.5, n0=1000
    )
    out = tmp_path / "scores.json"

    # WHEN they are scored
    code = _score(tmp_path, hedged_rows + spread_rows, hedged_markets + spread_markets, "--json", str(out))

    # THEN each record says how much independent evidence there was and which test ran on it
    assert code == 0
    records = {r["wallet"]: r for r in json.loads(out.read_text())}
    hedger, spread = records[HEDGER], records[SPREAD]
    assert (hedger["events"], hedger["independent_events"], hedger["markets"]) == (1, 1, 17)
    assert hedger["test"] == UNDEFINED_TEST  # one event: no test, not a number
    # e = +0.5, +0.5, -0.5 (mean 1/6); CR1 variance 3/2 * (1/9 + 1/9 + 4/9) / 9 = 1/9 beats the null's
    # 3 * 0.25 / 9 = 1/12, so t = (1/6) / (1/3) = 0.5 on 2 df, and P(T_2 > 0.5) = 1/2 - 0.5 / (2 sqrt(2.25)) = 1/3
    assert (spread["events"], spread["independent_events"]) == (3, 3)
    assert spread["test"]["name"] == EDGE_TEST_NAME and spread["test"]["df"] == 2
    assert spread["test"]["statistic"] == pytest.approx(0.5, abs=1e-12)
    assert spread["test"]["p_value"] == pytest.approx(1 / 3, abs=1e-12)
    assert hedger["trials"] == spread["trials"] == 2  # every wallet screened
    assert hedger["evidence_reason"] == spread["evidence_reason"] == "insufficient_events"  # fewer than 10 events
    assert not hedger["selected"] and not spread["selected"]


def test_a_wallet_with_enough_events_has_a_defined_test_and_no_reason(tmp_path: Path) -> None:
    # GIVEN one wallet with twelve single-market events (enough for the default floor of ten)
    rows, markets = spread_wallet(SPREAD, range(12), first_market=0, wins=[True] * 8 + [False] * 4, price=0.5, n0=0)
    out = tmp_path / "scores.jsonl"

    # WHEN it is scored
    assert _score(tmp_path, rows, markets, "--json", str(out)) == 0

    # THEN it has evidence enough: no reason, a defined test on 11 df, one trial
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert (record["independent_events"], record["evidence_reason"], record["trials"]) == (12, None, 1)
    assert record["test"]["df"] == 11 and record["test"]["statistic"] > 0


def test_the_real_global_feed_sample_scores_with_its_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 500 real rows of the global /trades feed (v1 columns, no transaction hash) and no market objects
    sample = data_file("asommerhauser-global-trades-sample/polymarket_trades_sample.csv")
    with sample.open(encoding="utf-8") as handle:
        wallets = {row["proxyWallet"].lower() for row in csv.DictReader(handle)}
    (tmp_path / "m.json").write_text("[]")
    out = tmp_path / "scores.json"

    # WHEN they are scored
    code = main(
        ["score", "--trades", str(sample), "--markets", str(tmp_path / "m.json"), "--json", str(out), "--quiet"]
    )

    # THEN every row is read (28 repeats dropped, none rejected), every wallet is scored, and none can be tested:
    # no market resolved, so no wallet has an independent event
    assert code == 0
    printed = capsys.readouterr().out
    assert "500 rows -> 472 trades (28 repeats dropped" in printed and "rejected: none" in printed
    records = json.loads(out.read_text())
    assert {r["wallet"] for r in records} == wallets
    assert {r["trials"] for r in records} == {len(wallets)}
    assert {(r["independent_events"], r["evidence_reason"]) for r in records} == {(0, "insufficient_events")}
    assert all(r["test"] == UNDEFINED_TEST for r in records)


@pytest.mark.parametrize(
    ("rows", "missing"),
    [
        # a positions export: other column names throughout
        (
            [{"user": "0x" + "12" * 20, "outcome": "Yes", "avgPrice": 0.4, "currentValue": 10.0, "date": 1760000000}],
            "proxyWallet / proxy_wallet, side, asset / token_id, conditionId / condition_id, price, size, timestamp",
        ),
        # /trades rows whose export lost the price and size columns
        (
            [
                {"proxyWallet": "0x" + "12" * 20, "side": "BUY", "asset": "1", "conditionId": "0x" + "01" * 32,
                 "timestamp": 1760000000}
            ],
            "price, size",
        ),
    ],
)  # fmt: skip
def test_a_file_without_the_trade_columns_exits_2_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rows: list[dict[str, object]], missing: str
) -> None:
    out = tmp_path / "scores.json"
    assert _score(tmp_path, rows, [], "--json", str(out)) == 2
    captured = capsys.readouterr()
    assert f"no row has the column(s) {missing} (Data API /trades fields)" in captured.err
    assert captured.out == "" and not out.exists()  # no table, no "as of 1970-01-01", no JSON


def test_a_csv_with_other_headers_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.csv").write_text("wallet,token,when\n0xabc,1,2025-10-09\n")
    (tmp_path / "m.json").write_text("[]")
    assert main(["score", "--trades", str(tmp_path / "t.csv"), "--markets", str(tmp_path / "m.json")]) == 2
    assert "no row has the column(s) proxyWallet / proxy_wallet, side," in capsys.readouterr().err


def test_v2_snake_case_rows_are_not_missing_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = {"proxy_wallet": "0x" + "12" * 20, "side": "BUY", "token_id": "1", "condition_id": "0x" + "01" * 32,
           "price": 0.5, "size": 10, "timestamp": 1760000000}  # fmt: skip
    assert _score(tmp_path, [row], []) == 0
    assert "1 rows -> 1 trades" in capsys.readouterr().out


def test_no_data_is_not_dated_1970(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _score(tmp_path, [], []) == 0
    printed = capsys.readouterr().out
    assert "1970" not in printed and "as of - (no dated data)" in printed
