"""Where the scoring workflow keeps a run's documents: JSON objects by key in the scoring bucket.

`S3RunStore` is the deployed store (one object per key, many reads on a small thread pool); `MemoryRunStore` keeps
them in a dict (tests, local tools). `dumps` is the one JSON encoding of a document: compact, numpy scalars as
Python numbers, NaN and infinities as null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class RunStore(Protocol):
    """JSON documents by key (a missing key reads as None)."""

    def put_json(self, key: str, document: Any) -> None: ...

    def get_json(self, key: str) -> Any | None: ...

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]: ...


def dumps(document: Any) -> bytes:
    """Compact JSON; numpy scalars as Python numbers; NaN and infinities as null (JSON has neither)."""
    return json.dumps(_finite(document), separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return _finite(item())
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


class MemoryRunStore:
    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def put_json(self, key: str, document: Any) -> None:
        self.items[key] = dumps(document)

    def get_json(self, key: str) -> Any | None:
        body = self.items.get(key)
        return None if body is None else json.loads(body)

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]:
        return {key: json.loads(self.items[key]) for key in keys if key in self.items}


class S3RunStore:
    """One object per key in `bucket`; reads of many keys on a small thread pool (boto3 clients are thread-safe).

    A missing object reads as None; any other error (access denied, throttling) propagates.
    """

    def __init__(self, bucket: str, client: Any = None, workers: int = 16) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket, self._s3, self._workers = bucket, client, workers

    def put_json(self, key: str, document: Any) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=dumps(document), ContentType="application/json")

    def get_json(self, key: str) -> Any | None:
        from botocore.exceptions import ClientError

        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise
        return json.loads(response["Body"].read())

    def get_many_json(self, keys: Sequence[str]) -> dict[str, Any]:
        if not keys:
            return {}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(keys))) as pool:
            documents = list(pool.map(self.get_json, keys))
        return {key: document for key, document in zip(keys, documents, strict=True) if document is not None}
