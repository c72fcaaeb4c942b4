"""ObjectStore.stored_key: the object an S3 event names, whether or not the event URL-encoded its key."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from sluice.storage import ObjectStore

BUCKET = "sluice-data"


@pytest.fixture
def store() -> Iterator[ObjectStore]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key in ("feedback/m/my labels (2).csv", "feedback/m/a+b.csv"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        yield ObjectStore(s3, BUCKET)


def test_an_encoded_key_is_decoded_to_the_stored_object(store: ObjectStore) -> None:
    assert store.stored_key("feedback/m/my+labels+%282%29.csv") == "feedback/m/my labels (2).csv"


def test_a_key_stored_with_a_plus_is_kept_as_sent(store: ObjectStore) -> None:
    assert store.stored_key("feedback/m/a+b.csv") == "feedback/m/a+b.csv"


def test_plain_or_missing_keys_are_returned_unchanged(store: ObjectStore) -> None:
    assert store.stored_key("feedback/m/plain.csv") == "feedback/m/plain.csv"
    assert store.stored_key("feedback/m/gone+now.csv") == "feedback/m/gone+now.csv"


class ListBucketOnlyUnderPrefixes:
    """An S3 client as a sluice role sees S3 on AWS: its ``s3:ListBucket`` carries an ``s3:prefix`` condition,
    which a HeadObject request never satisfies, so S3 answers a HeadObject on a missing key with 403 AccessDenied
    instead of 404 (AWS S3 API Reference, HeadObject: "If you don't have the s3:ListBucket permission, Amazon S3
    returns an HTTP status code 403 Forbidden error"). ListObjectsV2 with a prefix inside the grant is allowed."""

    def __init__(self, client: object, *, denied: frozenset[str] = frozenset()) -> None:
        self._client = client
        self._denied = denied

    def head_object(self, **kwargs: str) -> object:
        from botocore.exceptions import ClientError

        try:
            if kwargs["Key"] in self._denied:
                raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")
            return self._client.head_object(**kwargs)  # type: ignore[attr-defined]
        except ClientError as error:
            if error.response["Error"]["Code"] == "404":
                raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject") from None
            raise

    def __getattr__(self, name: str) -> object:
        return getattr(self._client, name)


def test_a_missing_key_answered_403_is_missing_not_an_error(store: ObjectStore) -> None:
    # GIVEN S3 as a prefix-scoped role sees it (HeadObject on a missing key: 403)
    scoped = ObjectStore(ListBucketOnlyUnderPrefixes(store._s3), BUCKET)
    # WHEN existence is asked THEN missing keys are missing (even one whose name prefixes a stored key),
    # stored keys exist, and event keys still resolve to the stored object
    assert not scoped.exists("accepted/m/v1/manifest.json")
    assert not scoped.exists("feedback/m/my labels")
    assert scoped.exists("feedback/m/my labels (2).csv")
    assert scoped.stored_key("feedback/m/my+labels+%282%29.csv") == "feedback/m/my labels (2).csv"


def test_a_stored_object_that_is_denied_is_an_error_not_missing(store: ObjectStore) -> None:
    from botocore.exceptions import ClientError

    # GIVEN an object the role may list but not read WHEN existence is asked THEN the denial is raised
    scoped = ObjectStore(ListBucketOnlyUnderPrefixes(store._s3, denied=frozenset({"feedback/m/a+b.csv"})), BUCKET)
    with pytest.raises(ClientError, match="403"):
        scoped.exists("feedback/m/a+b.csv")


def test_an_object_larger_than_a_part_is_copied_in_parts(store: ObjectStore) -> None:
    # GIVEN an object of 11 MiB and a part size of 5 MiB (S3's smallest; beyond 5 GiB one CopyObject is refused)
    body = bytes(range(256)) * (11 * 4096)
    store.put_bytes("incoming/m/big.csv", body)
    # WHEN copied THEN the copy is made of three UploadPartCopy parts and equals the source byte for byte
    store.copy_from(BUCKET, "incoming/m/big.csv", "rejected/m/big.csv", part_bytes=5 * 1024**2)
    assert store.get_bytes("rejected/m/big.csv") == body
    head = store._s3.head_object(Bucket=BUCKET, Key="rejected/m/big.csv")
    assert head["ETag"].strip('"').endswith("-3")
    # AND a small object is one CopyObject
    store.copy_from(BUCKET, "feedback/m/a+b.csv", "rejected/m/a+b.csv")
    assert store.get_bytes("rejected/m/a+b.csv") == b"x"
