"""`copytrader fetch` end to end over loopback HTTP, fed by the recorded real payloads of the handbook
(Data API trades and positions, Gamma markets, the global trade feed) and by documented-layout rows.
The files it writes must round-trip through `parse_trade_row` and `market_from_gamma`; nothing it prints,
logs, writes or caches may contain the base URL's credentials."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from copytrader.cli import main
from copytrader.model import WhaleTrade
from copytrader.polymarket.data_api.rows import RejectReason, RowReject, parse_trade_row
from copytrader.polymarket.gamma import market_from_gamma
from tests.support.builders import T0, hex_id
from tests.support.data_api_rows import EPOCH0, activity_row, gamma_market, leaderboard_row, position_row, trade_row
from tests.support.fake_data_api import FakeDataApi, serve
from tests.support.handbook import data_file, load_json

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

FIXTURES = "nautilus-polymarket-fixtures"
GAMMA_FILES = [
    "gamma_market.json",
    "gamma_market_closed_binary_accepting_false.json",
    "gamma_market_closed_binary_accepting_true.json",
    "gamma_market_closed_nonbinary_legacy.json",
    "gamma_market_closed_zero_zero_legacy.json",
    "gamma_market_sports_market_map_handicap.json",
    "gamma_market_sports_market_money_line.json",
]
SECRET = "hunter2"
WHALE = hex_id("wallet:cli-whale", 20)
UNKNOWN_MARKET = hex_id("condition:unknown-to-gamma", 32)
SPLIT_MARKET = hex_id("condition:split-only", 32)  # touched by the whale's activity, never traded


def recorded_markets() -> list[dict[str, Any]]:
    markets: list[dict[str, Any]] = [load_json(f"{FIXTURES}/{name}") for name in GAMMA_FILES]
    return [*markets, *load_json(f"{FIXTURES}/gamma_event.json")[0]["markets"]]


def whale_rows(markets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Documented-layout fills of the whale on each recorded market's first token, one in a market Gamma does
    not know, and one row without a transaction hash (kept as received; the parser rejects it)."""
    rows = [
        trade_row(
            WHALE,
            EPOCH0 + 3600 * i,
            n=i,
            condition_id=market["conditionId"],
            asset=json.loads(market["clobTokenIds"])[0],
            price=0.37,
            size=250.5,
        )
        for i, market in enumerate(markets)
    ]
    rows.append(trade_row(WHALE, EPOCH0 + 3600 * 50, n=50, condition_id=UNKNOWN_MARKET))
    broken = trade_row(WHALE, EPOCH0 + 3600 * 51, n=51, condition_id=markets[0]["conditionId"])
    del broken["transactionHash"]
    return [*rows, broken]


@pytest.fixture
def recorded_api() -> Iterator[FakeDataApi]:
    fake = FakeDataApi()
    markets = recorded_markets()
    fake.markets = {m["conditionId"]: m for m in markets}
    fake.hide_closed_by_default = True  # closed markets must still be found (asked with closed=true)
    fake.add_trades(load_json(f"{FIXTURES}/data_api_trades_response.json"))
    fake.add_trades(whale_rows(markets))
    positions = load_json(f"{FIXTURES}/data_api_positions_response.json")
    fake.positions[positions[0]["proxyWallet"]] = positions
    fake.closed_positions[WHALE] = [position_row(WHALE, 7, closed=True, timestamp=EPOCH0)]
    split = {**activity_row(WHALE, EPOCH0 + 60, kind="SPLIT"), "conditionId": SPLIT_MARKET}
    redeem = {**activity_row(WHALE, EPOCH0 + 120, kind="REDEEM"), "conditionId": markets[1]["conditionId"]}
    fake.activity[WHALE] = [split, redeem]
    fake.markets[SPLIT_MARKET] = gamma_market(SPLIT_MARKET)
    with serve(fake) as served:
        yield served


def urls(api: FakeDataApi) -> list[str]:
    with_credentials = api.url.replace("http://", f"http://operator:{SECRET}@")
    return ["--base-url", f"{with_credentials}/data", "--gamma-url", f"{with_credentials}/gamma"]


def argv(*parts: list[str]) -> list[str]:
    return [arg for part in parts for arg in part]


def read_rows(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    rows: list[dict[str, Any]] = (
        [json.loads(line) for line in text.splitlines()] if path.suffix == ".jsonl" else json.loads(text)
    )
    return rows


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


def test_fetch_writes_what_score_reads_from_recorded_payloads(
    recorded_api: FakeDataApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN the recorded wallets, the whale, and the recorded positions' wallet, in a wallet file
    recorded_trades = load_json(f"{FIXTURES}/data_api_trades_response.json")
    positions_wallet = load_json(f"{FIXTURES}/data_api_positions_response.json")[0]["proxyWallet"]
    wallets = [WHALE, *(row["proxyWallet"] for row in recorded_trades), positions_wallet]
    (tmp_path / "wallets.txt").write_text("# from the handbook\n" + "\n".join(wallets) + "\n")
    names = ("trades.jsonl", "markets.json", "activity.jsonl", "positions.json", "closed.json")
    out = {name: tmp_path / "out" / name for name in names}
    caplog.set_level(logging.DEBUG)

    # WHEN fetched through base URLs that carry credentials
    code = main(
        argv(
            ["fetch", "--wallets", str(tmp_path / "wallets.txt"), "--quiet", "--cache", str(tmp_path / "c.sqlite3")],
            ["--out-trades", str(out["trades.jsonl"]), "--out-markets", str(out["markets.json"])],
            ["--out-positions", str(out["positions.json"]), "--out-closed-positions", str(out["closed.json"])],
            ["--out-activity", str(out["activity.jsonl"])],
            ["--out-report", str(tmp_path / "report.json"), *urls(recorded_api)],
        )
    )

    # THEN it succeeds and the trades are the rows as served, wallet by wallet, each newest first
    assert code == 0
    trades = read_rows(out["trades.jsonl"])
    served_whale = sorted(whale_rows(recorded_markets()), key=lambda r: -r["timestamp"])
    assert trades == [*served_whale, *recorded_trades]

    # AND every trade row parses (the one without a transaction hash is rejected with that reason)
    parsed = [parse_trade_row(row, T0) for row in trades]
    assert [p.reason for p in parsed if isinstance(p, RowReject)] == [RejectReason.MISSING_TX_HASH]
    assert all(isinstance(p, WhaleTrade) for p in parsed if not isinstance(p, RowReject))

    # AND the markets are the Gamma objects (recorded ones as recorded) of exactly the known markets those trades
    # and that activity touch
    markets = read_rows(out["markets.json"])
    activity = read_rows(out["activity.jsonl"])
    by_id = {m["conditionId"]: m for m in recorded_markets()}
    touched = {row["conditionId"] for row in [*trades, *activity]}
    assert SPLIT_MARKET in touched and {m["conditionId"] for m in markets} == touched - {UNKNOWN_MARKET}
    assert all(m == by_id[m["conditionId"]] for m in markets if m["conditionId"] != SPLIT_MARKET)
    assert [row["type"] for row in activity] == ["REDEEM", "SPLIT"]
    parsed_markets = [market_from_gamma(m) for m in markets]
    assert sum(m.payouts is not None for m in parsed_markets) == 4  # the four closed ones with a definite payout
    assert len(parsed_markets) == len(markets)

    # AND the positions are as recorded, the report says what is missing, and nothing holds the secret
    assert read_rows(out["positions.json"]) == load_json(f"{FIXTURES}/data_api_positions_response.json")
    assert len(read_rows(out["closed.json"])) == 1
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is True and report["markets"]["missing"] == [UNKNOWN_MARKET]
    assert report["wallets"][WHALE]["trades"]["rows"] == len(served_whale)
    err = capsys.readouterr().err
    assert UNKNOWN_MARKET in err
    assert_no_secret(
        err,
        (tmp_path / "report.json").read_text(),
        *(path.read_text() for path in out.values()),
        (tmp_path / "c.sqlite3").read_bytes().decode("latin-1"),
        *(record.getMessage() + repr(record.__dict__) for record in caplog.records),
    )


def global_feed_rows() -> list[dict[str, Any]]:
    """The recorded global `/trades` sample (real rows; its recorder dropped `transactionHash`, so a synthetic
    one is added from each row's content; its numbers were written as text by the CSV)."""
    rows = []
    with data_file("asommerhauser-global-trades-sample/polymarket_trades_sample.csv").open() as handle:
        for i, record in enumerate(csv.DictReader(handle)):
            row: dict[str, Any] = {k: v for k, v in record.items() if k not in ("cost", "datetime")}
            row.update(size=float(row["size"]), price=float(row["price"]), timestamp=int(row["timestamp"]))
            row["transactionHash"] = hex_id(f"sample:{i}:{row['proxyWallet']}:{row['asset']}", 32)
            rows.append(row)
    return rows


def test_discover_names_candidates_from_leaderboards_and_large_trades(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a leaderboard with a malformed row, and the recorded global feed
    fake = FakeDataApi()
    feed = global_feed_rows()
    fake.add_trades(feed)
    fake.add_trades([trade_row(WHALE, EPOCH0 + i, n=i) for i in range(5)])
    fake.leaderboards[("POLITICS", "MONTH", "PNL")] = [
        leaderboard_row(1, WHALE, 182733.41, 1e6, "whale"),
        {"rank": "2", "proxyWallet": "not-a-wallet", "pnl": 1.0, "vol": 1.0},
    ]
    big = {row["proxyWallet"] for row in feed if row["price"] * row["size"] >= 1000}
    assert big, "the recorded feed holds fills of at least 1,000 pUSD"

    # WHEN discovered and fetched
    with serve(fake) as api:
        code = main(
            argv(
                ["fetch", "--discover", "--categories", "POLITICS", "--periods", "MONTH", "--depth", "50", "--quiet"],
                ["--large-trade-usdc", "1000", "--no-cache", *urls(api)],
                ["--out-trades", str(tmp_path / "t.json"), "--out-markets", str(tmp_path / "m.json")],
                ["--out-report", str(tmp_path / "r.json")],
            )
        )

    # THEN the whale and the large takers are candidates, with provenance; the malformed row is counted
    assert code == 0
    report = json.loads((tmp_path / "r.json").read_text())
    candidates = {c["wallet"]: c["provenance"] for c in report["discovery"]["candidates"]}
    assert set(candidates) == big | {WHALE}
    assert candidates[WHALE] == ["leaderboard:PNL/MONTH/POLITICS#1 pnl=182733.41"]
    assert all(p.startswith("large_trade:") for wallet in big for p in candidates[wallet])
    assert report["discovery"]["skipped"] == {"malformed_wallet": 1}
    assert list(candidates) == sorted(candidates)
    trades = read_rows(tmp_path / "t.json")
    assert {row["proxyWallet"] for row in trades} == big | {WHALE}
    assert_no_secret(capsys.readouterr().err)


def test_a_failing_wallet_is_reported_with_exit_code_1_and_the_files_are_still_written(
    recorded_api: FakeDataApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the Data API refusing one wallet's trades
    recorded_api.fail("/data/trades", 400, when={"user": WHALE})
    other = load_json(f"{FIXTURES}/data_api_trades_response.json")[0]["proxyWallet"]
    (tmp_path / "w.json").write_text(json.dumps([WHALE, other]))

    # WHEN fetched
    code = main(
        argv(
            ["fetch", "--wallets", str(tmp_path / "w.json"), "--quiet", "--no-cache", *urls(recorded_api)],
            ["--out-trades", str(tmp_path / "t.json"), "--out-markets", str(tmp_path / "m.json")],
            ["--out-report", str(tmp_path / "r.json")],
        )
    )

    # THEN exit code 1, the other wallet's rows written, the failure named by path, never by URL
    assert code == 1
    assert [row["proxyWallet"] for row in read_rows(tmp_path / "t.json")] == [other]
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["complete"] is False
    assert report["wallets"][WHALE]["trades"]["completion"] == "request_failed"
    err = capsys.readouterr().err
    assert "GET /trades: HTTP 400" in err and "incomplete" in err
    assert_no_secret(err, (tmp_path / "r.json").read_text())
    assert recorded_api.url.split("//")[1] not in err
