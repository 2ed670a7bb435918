"""`copytrader score`: files in, a ranked table and per-wallet JSON out; the simulation's truth checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copytrader.cli.score import main
from copytrader.sim import SimConfig, build_world

REQUIRED = {"wallet", "trades", "pnl_usdc", "edge", "edge_ci_low", "dsr", "score", "selected", "reasons"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, frozenset[str]]:
    world = build_world(SimConfig(seed=4, n_wallets=400, n_skilled=12, history_days=60))
    folder = tmp_path_factory.mktemp("score")
    trades, markets = folder / "trades.jsonl", folder / "markets.json"
    trades.write_text("".join(json.dumps(r) + "\n" for r in world.history_trade_rows()))
    markets.write_text(json.dumps(world.history_markets_gamma()))
    return trades, markets, world.skilled_addresses


def test_recorded_trades_and_markets(
    files: tuple[Path, Path, frozenset[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trades, markets, skilled = files
    out = tmp_path / "scores.json"
    assert main(["score", "--trades", str(trades), "--markets", str(markets), "--json", str(out), "--quiet"]) == 0
    records = json.loads(out.read_text())
    assert len(records) == 400 and set(records[0]) >= REQUIRED
    chosen = [r["wallet"] for r in records if r["selected"]]
    assert chosen and set(chosen) <= skilled
    assert [r["rank"] for r in records[: len(chosen)]] == list(range(1, len(chosen) + 1))  # best bound first
    printed = capsys.readouterr().out
    assert "rank wallet" in printed and f"selected {len(chosen)}" in printed
    # the same files scored again give the same answer (seeded bootstrap, data's own as-of time)
    again = tmp_path / "again.json"
    main(["score", "--trades", str(trades), "--markets", str(markets), "--json", str(again), "--quiet"])
    assert json.loads(again.read_text()) == records


def test_simulate_reports_precision_and_false_discoveries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sim.jsonl"
    code = main(
        ["score", "--simulate", "--wallets", "300", "--skilled", "0", "--seed", "3", "--json", str(out), "--quiet"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "selected 0, skilled among them 0" in printed and "false discoveries 0" in printed
    assert "no wallet qualifies" in printed
    lines = out.read_text().splitlines()
    assert len(lines) == 300 and json.loads(lines[0])["sim_kind"] in {"noise", "lucky", "maker"}


def test_bad_invocations_exit_2_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "--trades", str(tmp_path / "missing.json"), "--markets", str(tmp_path / "m.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "t.json").write_text("[]")
    assert main(["score", "--trades", str(tmp_path / "t.json")]) == 2
    assert "--trades needs --markets" in capsys.readouterr().err
    assert main(["score", "--simulate", "--fdr", "0.9"]) == 2
    assert "fdr_q" in capsys.readouterr().err
    assert main(["score", "--simulate", "--as-of", "someday"]) == 2


def test_empty_input_is_a_clean_no_answer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "t.json").write_text("[]")
    (tmp_path / "m.json").write_text("[]")
    assert main(["score", "--trades", str(tmp_path / "t.json"), "--markets", str(tmp_path / "m.json"), "--quiet"]) == 0
    assert "no wallet qualifies" in capsys.readouterr().out


def test_named_at_tests_each_wallet_only_on_what_followed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    world = build_world(SimConfig(seed=5, n_wallets=60, n_skilled=3, history_days=12))
    trades, markets, out = tmp_path / "t.jsonl", tmp_path / "m.json", tmp_path / "s.json"
    trades.write_text("".join(json.dumps(r) + "\n" for r in world.history_trade_rows()))
    markets.write_text(json.dumps(world.history_markets_gamma()))
    named = int(world.day_start.timestamp()) - 6 * 86_400
    base = ["score", "--trades", str(trades), "--markets", str(markets), "--quiet", "--json", str(out)]
    assert main([*base, "--named-at", str(named)]) == 0
    records = json.loads(out.read_text())
    assert {r["named_at"] for r in records} == {named} and {r["looked_from"] for r in records} == {None}
    tested = [r for r in records if r["trades"]]
    assert tested and all(r["first_trade"] > named for r in tested)
    assert sum(r["in_sample_events"] for r in records) > 0
    printed = capsys.readouterr().out
    assert f"selection split: {len(records)} wallets tested only on what their naming could not see" in printed
    assert main([*base]) == 0 and "selection split: none" in capsys.readouterr().out
    assert main([*base, "--looked-from", str(named)]) == 2
    assert "--looked-from needs --named-at" in capsys.readouterr().err
    assert main([*base, "--named-at", str(named), "--looked-from", str(named + 1)]) == 2
    assert "cannot look at history after it" in capsys.readouterr().err
