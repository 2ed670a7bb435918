"""`CacheStore` on S3 (boto3): the discovery cache of the deployed scoring workflow.

Each key is one object `<prefix><key>.json.gz`. Reads of many keys run on a small thread pool (boto3
clients are thread-safe). A missing object reads as None; any other S3 error (access denied, throttling)
propagates rather than passing for an empty cache. Credentials, region and endpoint come from the
environment, as for every other AWS client here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

SUFFIX = ".json.gz"
_NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/")."""
    if not url.startswith("s3://"):
        raise ValueError("an S3 cache location looks like s3://bucket/prefix")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise ValueError("an S3 cache location needs a bucket: s3://bucket/prefix")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


class S3CacheStore:
    def __init__(
        self, bucket: str, prefix: str = "copytrader/discovery/", client: Any = None, workers: int = 8
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket, self.prefix = bucket, prefix
        self._s3 = client
        self._workers = workers

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{key}{SUFFIX}"

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = self._s3.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in _NOT_FOUND:
                return None
            raise
        body: bytes = response["Body"].read()
        return body

    def put(self, key: str, body: bytes) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=body, ContentType="application/gzip")

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        with ThreadPoolExecutor(max_workers=min(self._workers, len(keys))) as pool:
            bodies = list(pool.map(self.get, keys))
        return {key: body for key, body in zip(keys, bodies, strict=True) if body is not None}

    def put_many(self, items: Mapping[str, bytes]) -> None:
        if not items:
            return
        with ThreadPoolExecutor(max_workers=min(self._workers, len(items))) as pool:
            list(pool.map(lambda item: self.put(*item), items.items()))
