"""Two corrections to moto's DynamoDB (moto 5.2.5), and one to its server's routing, applied by `LocalAws` while it
runs.

1. Isolation. DynamoDB transactions are serializable: no other write interleaves with one, and a
   cancelled transaction leaves nothing behind. moto applies a `TransactWriteItems` item by item with no
   lock, and rolls back by putting back whole-table snapshots, so under concurrent requests (moto server
   is threaded) another request's committed write can be undone by a rollback. Local mode serializes
   every DynamoDB write with one re-entrant lock, which makes the risk limits' concurrency tests mean
   what they would mean against DynamoDB.
2. Cost. moto backs up a transaction by deep-copying each table it touches, once per item, so every
   transaction costs time proportional to the tables' size and keeps the copies alive for the garbage
   collector (measured: per-trade latency of the pipeline rising from 68 ms to 266 ms over 1000 trades,
   and full collections of 0.2-1.1 s). Local mode backs up only the items the transaction touches and
   restores them if it is cancelled.
3. Routing. The server finds the service of every request by listing moto's package directory
   (`moto.backends.list_of_moto_modules`: a `listdir` and ~160 `isdir` calls per request). Each is a system call
   that lets go of the GIL, and under load (the Lambda tasks run in the server's threads, beside the state machines
   and the clients) each release can cost a thread switch interval: measured in the demo's day, the listing was the
   largest single cost of the server. Local mode lists the directory once.
4. Parsing. moto's Step Functions parses a state machine's definition with its ANTLR grammar (pure Python) at the
   start of every execution. The parsed program holds no execution's state (that is the evaluation environment's),
   so local mode parses each definition once (`AmazonStateLanguageParser.parse`, keyed by the definition's text).
"""

from __future__ import annotations

import copy
import functools
import threading
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_WRITES = ("put_item", "update_item", "delete_item", "batch_write_item")


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's DynamoDB backend: tables are not deep-copied."""

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _key_of(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        key: dict[str, Any] = op["Key"]
        return key
    table = backend.get_table(op["TableName"])
    item = op["Item"]
    key = {table.hash_key_attr: item[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = item[table.range_key_attr]
    return key


def _transact_with_item_backups(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _LOCK:
            backups: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
            for entry in transact_items:
                op_type, op = next(iter(entry.items()))
                table_name = op.get("TableName")
                if op_type == "ConditionCheck" or table_name not in self.tables:
                    continue
                try:
                    key = _key_of(self, op_type, op)
                except KeyError:
                    continue  # malformed operation: moto's own validation reports it
                current = self.get_item(table_name, key)
                backups.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
            try:
                return original(self, transact_items)
            except Exception:
                for table_name, key, attributes in reversed(backups):
                    if attributes is None:
                        if self.get_item(table_name, key) is not None:
                            self.delete_item(table_name, key)
                    else:
                        self.put_item(table_name, attributes)
                raise

    return transact_write_items


def _locked(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return original(self, *args, **kwargs)

    return write


def apply() -> Callable[[], None]:
    """Install the corrections; returns a function that removes them."""
    import moto.backends as moto_backends
    import moto.dynamodb.models as backend_module
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    list_modules = moto_backends.list_of_moto_modules
    modules = tuple(list_modules())
    setattr(moto_backends, "list_of_moto_modules", lambda: iter(modules))  # noqa: B010
    parse = AmazonStateLanguageParser.__dict__["parse"]  # the staticmethod itself, put back by `undo`
    setattr(AmazonStateLanguageParser, "parse", staticmethod(functools.lru_cache(maxsize=32)(parse.__func__)))  # noqa: B010

    backend = backend_module.DynamoDBBackend
    originals = {name: getattr(backend, name) for name in (*_WRITES, "transact_write_items")}
    original_copy = getattr(backend_module, "copy")  # noqa: B009 - the module moto imported, replaced below
    for name in _WRITES:
        setattr(backend, name, _locked(originals[name]))
    backend.transact_write_items = _transact_with_item_backups(originals["transact_write_items"])  # type: ignore[method-assign]
    setattr(backend_module, "copy", _NoTableCopy())  # noqa: B010

    def undo() -> None:
        setattr(moto_backends, "list_of_moto_modules", list_modules)  # noqa: B010
        setattr(AmazonStateLanguageParser, "parse", parse)  # noqa: B010
        for name, method in originals.items():
            setattr(backend, name, method)
        setattr(backend_module, "copy", original_copy)  # noqa: B010

    return undo
