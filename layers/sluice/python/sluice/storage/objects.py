"""A thin, typed wrapper over the S3 calls sluice makes."""

from __future__ import annotations

import json
from typing import Any, BinaryIO
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from sluice.storage.ranged import RangedObject

SINGLE_COPY_LIMIT = 5 * 1024**3
"""The largest object one CopyObject request may copy (S3 API Reference, CopyObject)."""
COPY_PART_BYTES = 1024**3
"""Part size of a multipart copy: 5 MiB to 5 GiB per part, at most 10,000 parts (1 GiB parts: objects to ~9.7 TiB)."""
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_FORBIDDEN_CODES = frozenset({"403", "AccessDenied", "Forbidden"})


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
        """Whether ``key`` names an object.

        S3 answers a HeadObject on a missing key with 403, not 404, when the caller lacks an unconditioned
        ``s3:ListBucket`` on the bucket (every sluice role lists only under its prefixes, with an ``s3:prefix``
        condition a HeadObject cannot carry). A 403 is therefore settled by listing the key itself, which the
        prefix-scoped grant allows: absent from the listing means missing; present means access is really denied.
        """
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in _MISSING_CODES:
                return False
            if code in _FORBIDDEN_CODES and not self._listed(key):
                return False
            raise
        return True

    def _listed(self, key: str) -> bool:
        page = self._s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(item["Key"] == key for item in page.get("Contents", []))

    def stored_key(self, event_key: str) -> str:
        """The key of the object an S3 event names: notifications URL-encode keys ("my data.csv" arrives as
        "my+data.csv"), so a key that names no object is URL-decoded; one that exists as sent is used as sent."""
        decoded = unquote_plus(event_key)
        if decoded == event_key or self.exists(event_key) or not self.exists(decoded):
            return event_key
        return decoded

    def copy_from(self, source_bucket: str, source_key: str, key: str, *, size: int | None = None,
                  part_bytes: int = COPY_PART_BYTES) -> None:
        """Server-side copy (the source is never touched). One CopyObject up to 5 GiB; beyond, S3 refuses a
        single-request copy, so the object is copied in parts (UploadPartCopy) of ``part_bytes``."""
        source = {"Bucket": source_bucket, "Key": source_key}
        if size is None:
            size = int(self._s3.head_object(Bucket=source_bucket, Key=source_key)["ContentLength"])
        if size <= SINGLE_COPY_LIMIT and size <= part_bytes:
            self._s3.copy_object(Bucket=self.bucket, Key=key, CopySource=source)
            return
        upload = self._s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, part_bytes), start=1):
                end = min(start + part_bytes, size) - 1
                copied = self._s3.upload_part_copy(Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=number,
                                                   CopySource=source, CopySourceRange=f"bytes={start}-{end}")
                parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            self._s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload,
                                               MultipartUpload={"Parts": parts})
        except BaseException:
            self._s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload)
            raise
