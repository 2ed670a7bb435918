"""`copytrader normalize`: recorded feed input -> canonical WhaleTrades, one JSON line each, and a summary.

Input files: for `data-api`, a JSON array, JSON lines or CSV of `/trades` rows (v1 camelCase or v2
snake_case; a v2 `{"data": [...]}` envelope is unwrapped); for `rtds`, JSON lines of RTDS frames; for
`chain`, JSON lines (or an array) of JSON-RPC log objects, whose token ids are resolved to markets with a
Gamma markets file (`--markets`) or Gamma itself.

Counting (one canonical trade per fill, `copytrader.model.trade_key`): each parser names what identifies
its input (a Data API row's content; an RTDS payload without its envelope, so the `trades` and
`orders_matched` reports of one fill are one input; a chain log's transaction and log index); an input
whose identity was already read is a duplicate (pagination overlap, a frame replayed); distinct inputs
with the same key are legs of one fill and are summed (`merge_legs`); what cannot become a trade is
rejected with its reason. Output is ordered by fill time, then key, so a file always normalizes to the same bytes;
`detected_at` is the time the input itself records (the RTDS envelope's timestamp, else the fill time).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from copytrader.listener.chain_legs import LegGroup, whale_trade
from copytrader.model import WhaleTrade, utc_from_epoch
from copytrader.polymarket.chain import ChainReject, decode_order_filled
from copytrader.polymarket.data_api.rows import RowReject, merge_legs, parse_trade_row, row_timestamp
from copytrader.polymarket.rtds import FrameReject, TradeFrame, parse_frame
from copytrader.polymarket.tokens import TokenResolver
from copytrader.reasons import RejectTally

SOURCES = ("chain", "rtds", "data-api")
OUTPUT_FIELDS = (
    "key", "wallet", "side", "token_id", "condition_id", "outcome", "outcome_index", "price", "size",
    "timestamp", "tx_hash", "source", "detected_at", "fee",
)  # fmt: skip


@dataclass
class Summary(RejectTally):
    read: int = 0
    emitted: int = 0
    duplicates: int = 0
    merged_legs: int = 0

    def line(self) -> str:
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.rejected.items()))
        return (
            f"read {self.read}, emitted {self.emitted}, duplicates {self.duplicates}, "
            f"legs merged {self.merged_legs}, rejected {sum(self.rejected.values())}"
            + (f" ({reasons})" if reasons else "")
        )


# ------------------------------------------------------------------------------------------------ reading


def read_records(path: Path) -> Iterator[object]:
    """The records of a JSON array, a JSON-lines file or a CSV file (by content, not by extension).

    A line that is not JSON is yielded as its text, so the parser rejects it with a reason.
    """
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from json.loads(stripped)
        return
    if stripped.startswith("{") and _is_single_envelope(stripped):
        yield from json.loads(stripped)["data"]
        return
    first = stripped.splitlines()[0] if stripped else ""
    if first and not first.startswith("{"):
        yield from csv.DictReader(io.StringIO(stripped))
        return
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            yield line


def _is_single_envelope(text: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    return isinstance(document, dict) and isinstance(document.get("data"), list)


def digest(record: object) -> str:
    """A content identity of one input (JSON with sorted keys, or the text itself)."""
    content = record if isinstance(record, str) else json.dumps(record, sort_keys=True, default=str)
    return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


# ---------------------------------------------------------------------------------------------- normalizing

Parsed = WhaleTrade | str  # a trade, or the reason the input is rejected
Parser = Callable[[object], tuple[str, Parsed | None]]  # (identity of the input, result; None: not a trade input)


def data_api_parser(record: object) -> tuple[str, Parsed | None]:
    seconds = row_timestamp(record)
    at = utc_from_epoch(seconds if seconds is not None else 0)
    parsed = parse_trade_row(record, at)
    return digest(record), parsed.reason.value if isinstance(parsed, RowReject) else parsed


def rtds_parser(record: object) -> tuple[str, Parsed | None]:
    """One RTDS frame (as recorded); its payload identifies it, so `trades` and `orders_matched` reports of
    one fill are one input; the envelope's timestamp (ms) is when it was received."""
    payload = record.get("payload") if isinstance(record, dict) else None
    identity = digest(payload if isinstance(payload, dict) else record)
    stamp = record.get("timestamp") if isinstance(record, dict) else None
    try:
        received_at = utc_from_epoch(stamp / 1000 if isinstance(stamp, int) and not isinstance(stamp, bool) else 0)
    except (ValueError, OverflowError):  # an envelope time no datetime holds: unknown, like a missing one
        received_at = utc_from_epoch(0)
    text = record if isinstance(record, str) else json.dumps(record)
    result = parse_frame(text, received_at, None)
    if isinstance(result, TradeFrame):
        return identity, result.trade
    if isinstance(result, FrameReject):
        return identity, result.reason
    return identity, None  # keep-alive and control frames carry no trade


def _block_time(log: Mapping[str, Any]) -> datetime | None:
    raw = log.get("blockTimestamp")
    try:
        seconds = int(raw, 16) if isinstance(raw, str) and raw.startswith("0x") else int(raw)  # type: ignore[arg-type]
        return utc_from_epoch(seconds)
    except (TypeError, ValueError, OverflowError):
        return None


def chain_parser(resolver: TokenResolver) -> Parser:
    """One JSON-RPC `OrderFilled` log; identified by (transaction, log index). Its token is resolved by
    `resolver` (offline: `TokenResolver.from_gamma_markets`), its fill time is the log's `blockTimestamp`
    (providers such as Alchemy include it; a recorded log without it cannot be placed in time)."""

    def parse(record: object) -> tuple[str, Parsed | None]:
        identity = (
            f"{record.get('transactionHash')}:{record.get('logIndex')}" if isinstance(record, dict) else digest(record)
        )
        fill = decode_order_filled(record)
        if isinstance(fill, ChainReject):
            return identity, fill.reason.value
        token = resolver.cached(fill.token_id)
        if token is None:
            return identity, "unknown_token"
        block_time = _block_time(record) if isinstance(record, Mapping) else None
        if block_time is None:
            return identity, "missing_block_time"
        group = LegGroup(key=fill.key, block_number=fill.block_number, detected_at=block_time, legs=[fill])
        try:
            return identity, whale_trade(group, token, block_time)
        except ValidationError:
            return identity, "invalid_trade"

    return parse


def normalize(records: Iterable[object], parse: Parser) -> tuple[list[WhaleTrade], Summary]:
    """Parse every record, drop repeated inputs, sum the legs of each fill, order by fill time then key."""
    summary = Summary()
    seen: set[str] = set()
    trades: list[WhaleTrade] = []
    for record in records:
        summary.read += 1
        identity, item = parse(record)
        if identity in seen:
            summary.duplicates += 1
            continue
        seen.add(identity)
        if isinstance(item, WhaleTrade):
            trades.append(item)
        elif isinstance(item, str):
            summary.rejected[item] += 1
    merged = merge_legs(trades)
    summary.merged_legs = len(trades) - len(merged)
    merged.sort(key=lambda t: (t.timestamp, t.key))
    summary.emitted = len(merged)
    return merged, summary


def as_json_line(trade: WhaleTrade) -> str:
    document: dict[str, Any] = trade.model_dump(mode="json")
    return json.dumps({name: document[name] for name in OUTPUT_FIELDS}, separators=(",", ":"))


# ------------------------------------------------------------------------------------------------ the command
def add_parser(commands: Any) -> None:
    norm = commands.add_parser("normalize", help="recorded feed input -> canonical WhaleTrades as JSON lines")
    norm.add_argument("--source", required=True, choices=["chain", "rtds", "data-api"], help="what the file holds")
    norm.add_argument("file", help="Data API rows (JSON array, JSON lines, CSV), RTDS frames or RPC logs (JSON lines)")
    norm.add_argument("--markets", help="Gamma market objects (JSON array) to resolve chain logs' token ids")
    norm.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    for needed in (path, *([Path(args.markets)] if args.markets else [])):
        if not needed.exists():
            print(f"no such file: {needed}", file=sys.stderr)
            return 2
    if args.source == "chain" and not args.markets:
        print(
            "chain logs carry token ids only: pass --markets FILE (Gamma market objects) to resolve them",
            file=sys.stderr,
        )
        return 2
    trades, summary = normalize(read_records(path), _normalize_parser(args))
    for trade in trades:
        sys.stdout.write(as_json_line(trade) + "\n")
    print(summary.line(), file=sys.stderr)
    return 0


def _normalize_parser(args: argparse.Namespace) -> Any:
    if args.source == "data-api":
        return data_api_parser
    if args.source == "rtds":
        return rtds_parser
    markets = json.loads(Path(args.markets).read_text())
    return chain_parser(TokenResolver.from_gamma_markets(markets if isinstance(markets, list) else []))
