"""A thin, typed wrapper over the S3 calls sluice makes."""

from __future__ import annotations

import json
from typing import Any, BinaryIO
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from sluice.storage.ranged import RangedObject


class ObjectStore:
    """Read and write objects in one bucket."""

    def __init__(self, s3_client: Any, bucket: str) -> None:
        self._s3 = s3_client
        self.bucket = bucket

    def get_bytes(self, key: str) -> bytes:
        response = self._s3.get_object(Bucket=self.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def get_json(self, key: str) -> Any:
        return json.loads(self.get_bytes(key))

    def put_bytes(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def put_json(self, key: str, document: Any) -> None:
        body = json.dumps(document, indent=2, sort_keys=True, default=str).encode()
        self.put_bytes(key, body, "application/json")

    def put_text(self, key: str, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.put_bytes(key, text.encode(), content_type)

    def put_file(self, key: str, file: BinaryIO, content_type: str = "application/octet-stream") -> None:
        """Upload an open file from its start (multipart when large; never held in memory whole)."""
        file.seek(0)
        self._s3.upload_fileobj(file, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def open_stream(self, key: str) -> BinaryIO:
        """The object's body as a forward-only stream (one GET, read as it is consumed)."""
        body: BinaryIO = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        return body

    def open_ranged(self, key: str, *, etag: str = "") -> RangedObject:
        """A seekable, read-only file over the object: each read is a ranged GET (for Parquet footers and chunks)."""
        return RangedObject(self._s3, self.bucket, key, etag=etag)

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (paginated), in key order."""
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)

    def exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def stored_key(self, event_key: str) -> str:
        """The key of the object an S3 event names: notifications URL-encode keys ("my data.csv" arrives as
        "my+data.csv"), so a key that names no object is URL-decoded; one that exists as sent is used as sent."""
        decoded = unquote_plus(event_key)
        if decoded == event_key or self.exists(event_key) or not self.exists(decoded):
            return event_key
        return decoded

    def copy_from(self, source_bucket: str, source_key: str, key: str) -> None:
        """Server-side copy (the source is never touched)."""
        self._s3.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": source_bucket, "Key": source_key})
