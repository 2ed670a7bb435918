"""The files of `copytrader fetch`: the wallet list it reads, the row files and report it writes.

Row files hold JSON objects exactly as the API sent them: a JSON array, or JSON lines when the file name
ends in `.jsonl` (`copytrader normalize` and `copytrader score` read both). The markets file is always a
JSON array, whatever its name (`copytrader score --markets` reads only that). Files are written to a
temporary sibling and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from copytrader.discovery.leaderboard import wallet_address


def read_wallets(path: Path) -> list[str]:
    """Wallet addresses, lower-cased, repeats dropped, in file order.

    The file is a JSON array of address strings, or text with one address per line (blank lines and
    `#` comments ignored). A malformed address is an error naming its line (or array position): a typo
    in an operator's list must not silently drop a wallet.
    """
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith("["):
        entries = [(f"item {i + 1}", item) for i, item in enumerate(json.loads(text))]
    else:
        entries = [
            (f"line {n}", stripped)
            for n, line in enumerate(text.splitlines(), start=1)
            if (stripped := line.split("#", 1)[0].strip())
        ]
    wallets: dict[str, None] = {}
    bad: list[str] = []
    for where, value in entries:
        wallet = wallet_address(value)
        if wallet is None:
            bad.append(f"{where}: {value!r}")
        else:
            wallets[wallet] = None
    if bad:
        raise ValueError("not a 0x wallet address: " + "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else ""))
    return list(wallets)


def _write_atomically(path: Path, write: Callable[[TextIO], object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_records(path: Path, records: Iterable[Mapping[str, Any]], *, json_lines: bool | None = None) -> int:
    """Write the records as a JSON array or JSON lines (`json_lines`; by default: for a `.jsonl` name),
    streaming; returns how many."""
    count = 0
    lines = path.name.endswith(".jsonl") if json_lines is None else json_lines

    def write(out: TextIO) -> None:
        nonlocal count
        if not lines:
            out.write("[")
        for record in records:
            text = json.dumps(record, separators=(",", ":"))
            if lines:
                out.write(text + "\n")
            else:
                out.write(("," if count else "") + text)
            count += 1
        if not lines:
            out.write("]\n")

    _write_atomically(path, write)
    return count


def write_document(path: Path, document: Mapping[str, Any]) -> None:
    _write_atomically(path, lambda out: out.write(json.dumps(document, indent=2, sort_keys=True) + "\n"))
