"""`CacheStore` in one SQLite file (stdlib `sqlite3`): the discovery cache on a workstation.

One table `entries(key TEXT PRIMARY KEY, body BLOB)`. Every call opens its own connection, so the store
may be used from worker threads (`asyncio.to_thread`); WAL journaling lets readers run beside a writer,
and writes of one store take turns on a lock (SQLite would otherwise make concurrent writers back off
and retry for up to 100 ms at a time).
The default file is `$XDG_CACHE_HOME/copytrader/discovery.sqlite3` (`~/.cache/...` without the variable);
its folder is created private to the user.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

CACHE_FILE_NAME = "discovery.sqlite3"
_CHUNK = 500  # keys per `IN (...)`: below SQLite's default limit of bound parameters


def default_cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "copytrader" / CACHE_FILE_NAME


class SqliteCacheStore:
    def __init__(self, path: Path | str | None = None, timeout_s: float = 30.0) -> None:
        self.path = Path(path).expanduser() if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._timeout_s = timeout_s
        self._write_lock = threading.Lock()
        with self._connection() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, body BLOB NOT NULL)")

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=self._timeout_s)) as db, db:  # `with db`: one transaction
            yield db

    def get(self, key: str) -> bytes | None:
        with self._connection() as db:
            row = db.execute("SELECT body FROM entries WHERE key = ?", (key,)).fetchone()
        return bytes(row[0]) if row is not None else None

    def put(self, key: str, body: bytes) -> None:
        self.put_many({key: body})

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self._connection() as db:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                for key, body in db.execute(f"SELECT key, body FROM entries WHERE key IN ({marks})", chunk):
                    found[key] = bytes(body)
        return found

    def put_many(self, items: Mapping[str, bytes]) -> None:
        with self._write_lock, self._connection() as db:
            db.executemany("INSERT OR REPLACE INTO entries (key, body) VALUES (?, ?)", list(items.items()))
