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
