import json
from decimal import Decimal

from copytrader.cli import main
from copytrader.cli.normalize import data_api_parser, normalize, read_records, rtds_parser
from tests.support import builders as b
from tests.support.handbook import data_file

M = b.market("n1")


def _v1(tx: str, size: float, price: float, wallet: str = "w1", ts: int = 1_790_000_000) -> dict:
    tok = M.tokens[0]
    return {
        "proxyWallet": b.wallet(wallet).upper().replace("0X", "0x"), "side": "BUY", "asset": tok.token_id,
        "conditionId": M.condition_id, "size": size, "price": price, "timestamp": ts, "outcome": "Yes",
        "outcomeIndex": 0, "transactionHash": b.hex_id(tx, 32),
    }  # fmt: skip


def _v2(row: dict) -> dict:
    names = {"proxyWallet": "proxy_wallet", "asset": "token_id", "conditionId": "condition_id",
             "outcomeIndex": "outcome_index", "transactionHash": "transaction_hash"}  # fmt: skip
    return {names.get(k, k): v for k, v in row.items()}


def test_repeats_are_duplicates_and_distinct_legs_are_summed(tmp_path):
    rows = [_v1("a", 10, 0.5), _v1("a", 30, 0.6), _v1("a", 10, 0.5), _v1("b", 5, 0.4, ts=1_789_999_000),
            {**_v1("c", 1, 0.5), "price": 1.5}]  # fmt: skip
    path = tmp_path / "rows.json"
    path.write_text(json.dumps(rows))
    trades, summary = normalize(read_records(path), data_api_parser)
    assert (summary.read, summary.duplicates, summary.merged_legs, summary.emitted) == (5, 1, 1, 2)
    assert summary.rejected == {"price_out_of_range": 1}
    # ordered by fill time: b first; the legs of a are one trade of 40 shares at the size-weighted price
    assert [t.tx_hash for t in trades] == [b.hex_id("b", 32), b.hex_id("a", 32)]
    assert trades[1].size == Decimal(40) and trades[1].price == Decimal("0.575")
    assert trades[1].wallet == b.wallet("w1")


def test_json_lines_csv_and_the_v2_envelope_give_the_same_trades(tmp_path):
    rows = [_v1("a", 10, 0.5), _v1("b", 5, 0.4)]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "b.json").write_text(json.dumps({"data": [_v2(r) for r in rows], "pagination": {"has_more": False}}))
    with (tmp_path / "c.csv").open("w") as f:
        f.write(",".join(rows[0]) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r.values()) + "\n")
    results = [normalize(read_records(tmp_path / n), data_api_parser)[0] for n in ("a.jsonl", "b.json", "c.csv")]
    keys = [[(t.key, t.size, t.price) for t in r] for r in results]
    assert keys[0] == keys[1] == keys[2] and len(keys[0]) == 2


def test_the_real_global_trades_sample_is_counted_honestly():
    # 500 real rows: 28 are exact repeats, and the sample has no transaction hashes (dropped by its author)
    _, summary = normalize(
        read_records(data_file("asommerhauser-global-trades-sample/polymarket_trades_sample.csv")), data_api_parser
    )
    assert (summary.read, summary.duplicates, summary.emitted) == (500, 28, 0)
    assert summary.rejected == {"missing_tx_hash": 472}


def test_command_writes_json_lines_and_a_summary(tmp_path, capsys):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([_v1("a", 10, 0.5), _v1("a", 10, 0.5)]))
    assert main(["normalize", "--source", "data-api", str(path)]) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    document = json.loads(line)
    for name in ("key", "wallet", "side", "token_id", "condition_id", "outcome", "price", "size", "timestamp",
                 "tx_hash", "source"):  # fmt: skip
        assert name in document
    assert document["source"] == "data-api" and document["price"] == "0.5"
    assert err.strip() == "read 2, emitted 1, duplicates 1, legs merged 0, rejected 0"


# -------------------------------------------------------------------------------------- rtds and chain


def test_rtds_frames_one_fill_reported_twice_is_one_trade(tmp_path):
    trade = b.trade(M, "w1", price="0.26", size="2.7027")
    payload = {
        "asset": trade.token_id,
        "conditionId": trade.condition_id,
        "proxyWallet": trade.wallet.upper().replace("0X", "0x"),
        "side": "BUY",
        "size": 2.7027,
        "price": 0.26,
        "timestamp": int(trade.timestamp.timestamp()),
        "transactionHash": trade.tx_hash,
        "outcome": "Yes",
        "outcomeIndex": 0,
    }
    frame = {"connection_id": "c", "topic": "activity", "type": "trades", "timestamp": 1_790_000_000_123,
             "payload": payload}  # fmt: skip
    lines = [frame, {**frame, "type": "orders_matched", "timestamp": 1_790_000_000_456}, "PING", "{broken"]
    path = tmp_path / "frames.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines))
    trades, summary = normalize(read_records(path), rtds_parser)
    assert (summary.read, summary.duplicates, summary.emitted) == (4, 1, 1)
    assert summary.rejected == {"malformed_json": 1}  # "{broken"; "PING" is a keep-alive: ignored, not rejected
    (got,) = trades
    assert got.key == trade.key and got.size == Decimal("2.7027") and got.source.value == "rtds"
    assert got.detected_at.timestamp() == 1_790_000_000.123


def test_chain_logs_are_decoded_resolved_and_their_legs_summed(tmp_path, capsys):
    from tests.support.chain_logs import trade_logs
    from tests.support.fake_polymarket import gamma_payload

    trade = b.trade(M, "w1", price="0.55", size="300")
    other = b.trade(b.market("unlisted"), "w2", tx="x")
    block = {"blockNumber": "0x10", "blockHash": b.hex_id("block", 32), "blockTimestamp": hex(1_790_000_000)}
    logs = [{**log, **block, "transactionHash": trade.tx_hash, "logIndex": hex(i)}
            for i, log in enumerate(trade_logs(trade, legs=3, taker_leg=False))]  # fmt: skip
    logs += [{**log, **block, "transactionHash": other.tx_hash, "logIndex": "0x9"} for log in trade_logs(other)]
    logs.append(logs[0])  # the same log twice (a subscription and a backfill): a duplicate
    logs.append({**logs[1], "logIndex": "0xa", "blockTimestamp": None})
    path, markets = tmp_path / "logs.jsonl", tmp_path / "markets.json"
    path.write_text("\n".join(json.dumps(log) for log in logs))
    markets.write_text(json.dumps([gamma_payload(M)]))

    assert main(["normalize", "--source", "chain", str(path), "--markets", str(markets)]) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    got = json.loads(line)
    assert got["key"] == trade.key and got["size"] == "300" and got["price"] == "0.55"
    assert got["condition_id"] == M.condition_id and got["outcome"] == "Yes" and got["source"] == "chain"
    assert err.strip() == (
        "read 6, emitted 1, duplicates 1, legs merged 2, rejected 2 (missing_block_time 1, unknown_token 1)"
    )
    assert main(["normalize", "--source", "chain", str(path)]) == 2  # token ids need a markets file
