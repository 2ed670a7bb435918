"""`copytrader fetch` inputs and outputs without a network: the wallet list, the row files, and argument
errors that must not echo a base URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copytrader.cli import main
from copytrader.discovery.discover import DiscoveryPlan
from copytrader.discovery.files import read_wallets, write_document, write_records
from copytrader.discovery.run import FetchPlan
from tests.support.builders import hex_id

A, B = hex_id("wallet:a", 20), hex_id("wallet:b", 20)


def test_wallets_come_from_lines_with_comments_or_a_json_array(tmp_path: Path) -> None:
    lines = tmp_path / "wallets.txt"
    lines.write_text(f"# whales\n{A.upper().replace('0X', '0x')}  # the first\n\n{B}\n{A}\n")
    assert read_wallets(lines) == [A, B]
    array = tmp_path / "wallets.json"
    array.write_text(json.dumps([B, A]))
    assert read_wallets(array) == [B, A]


def test_a_malformed_wallet_is_an_error_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "wallets.txt"
    path.write_text(f"{A}\n0x123\n")
    with pytest.raises(ValueError, match="line 2: '0x123'"):
        read_wallets(path)


@pytest.mark.parametrize("name", ["rows.json", "rows.jsonl"])
def test_rows_are_written_as_received_as_an_array_or_json_lines(tmp_path: Path, name: str) -> None:
    rows: list[dict[str, Any]] = [{"price": 0.0674345935091477, "size": 43195.56}, {"price": 0.1, "nested": {"a": [1]}}]
    path = tmp_path / "out" / name
    assert write_records(path, rows) == 2
    text = path.read_text()
    read = [json.loads(line) for line in text.splitlines()] if name.endswith(".jsonl") else json.loads(text)
    assert read == rows
    assert [p.name for p in path.parent.iterdir()] == [name], "no temporary file is left behind"
    write_records(path, [])
    assert path.read_text() == ("" if name.endswith(".jsonl") else "[]\n")
    forced = tmp_path / "markets.jsonl"
    write_records(forced, rows, json_lines=False)
    assert json.loads(forced.read_text()) == rows, "the markets file is a JSON array whatever its name"
    write_document(tmp_path / "report.json", {"b": 1, "a": 2})
    assert json.loads((tmp_path / "report.json").read_text()) == {"a": 2, "b": 1}


def test_a_fetch_names_its_wallets_one_way_only() -> None:
    with pytest.raises(ValueError):
        FetchPlan()
    with pytest.raises(ValueError):
        FetchPlan(wallets=(A,), discovery=DiscoveryPlan())


def test_a_bad_base_url_is_refused_without_repeating_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wallets = tmp_path / "w.txt"
    wallets.write_text(A)
    base = ["fetch", "--wallets", str(wallets), "--out-trades", "t.json", "--out-markets", "m.json", "--no-cache"]
    with pytest.raises(SystemExit) as exited:
        main([*base, "--base-url", "ftp://operator:hunter2@proxy.example/data"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and "proxy.example" not in err and "http(s) URL" in err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--depth", "2000"], "depth"),
        (["--large-trade-limit", "0", "--large-trade-usdc", "10"], "large-trade limit"),
        (["--concurrency", "0"], "concurrency"),
    ],
)
def test_out_of_range_options_exit_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    outputs = ["--out-trades", str(tmp_path / "t.json"), "--out-markets", str(tmp_path / "m.json")]
    code = main(["fetch", "--discover", *outputs, "--no-cache", "--quiet", *extra])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()


def test_an_invalid_wallet_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wallets = tmp_path / "w.txt"
    wallets.write_text("not-a-wallet\n")
    code = main(["fetch", "--wallets", str(wallets), "--out-trades", "t.json", "--out-markets", "m.json", "--no-cache"])
    assert code == 2 and "line 1" in capsys.readouterr().err
