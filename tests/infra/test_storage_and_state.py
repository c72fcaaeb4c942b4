"""Buckets are encrypted, SSL-only, private and versioned; tables match what the registry expects."""

from __future__ import annotations

from tests.infra.conftest import Synth, sluice_functions


def test_every_bucket_is_encrypted_private_and_versioned(synth: Synth) -> None:
    buckets = synth.of_type("AWS::S3::Bucket")
    assert len(buckets) == 3  # data, artifacts, access logs
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "Retain"


def test_every_bucket_denies_requests_without_ssl(synth: Synth) -> None:
    denied = set()
    for policy in synth.of_type("AWS::S3::BucketPolicy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}:
                denied.add(policy["Properties"]["Bucket"]["Ref"])
    assert denied == set(synth.of_type("AWS::S3::Bucket"))


def test_data_and_artifact_buckets_log_access_and_only_data_notifies_eventbridge(synth: Synth) -> None:
    variables = next(iter(sluice_functions(synth).values()))["Environment"]["Variables"]
    data = synth.resources[variables["SLUICE_DATA_BUCKET"]["Ref"]]["Properties"]
    artifacts = synth.resources[variables["SLUICE_ARTIFACT_BUCKET"]["Ref"]]["Properties"]
    assert data["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert "NotificationConfiguration" not in artifacts
    assert data["LoggingConfiguration"]["DestinationBucketName"] == artifacts["LoggingConfiguration"][
        "DestinationBucketName"]


def test_registry_table_keys_billing_and_recovery(synth: Synth) -> None:
    variables = next(iter(sluice_functions(synth).values()))["Environment"]["Variables"]
    registry = synth.resources[variables["SLUICE_REGISTRY_TABLE"]["Ref"]]
    props = registry["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert registry["DeletionPolicy"] == "Retain"


def test_idempotency_table_matches_powertools(synth: Synth) -> None:
    variables = next(iter(sluice_functions(synth).values()))["Environment"]["Variables"]
    props = synth.resources[variables["SLUICE_IDEMPOTENCY_TABLE"]["Ref"]]["Properties"]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert props["BillingMode"] == "PAY_PER_REQUEST"


def test_the_custom_bus_is_named_by_the_prefix_and_archived(synth: Synth) -> None:
    (bus_id, bus), = synth.of_type("AWS::Events::EventBus").items()
    assert bus["Properties"]["Name"] == "sluice-dev-events"
    (archive,) = synth.of_type("AWS::Events::Archive").values()
    assert archive["Properties"]["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert archive["Properties"]["EventPattern"] == {"source": ["sluice"]}


def test_derived_data_expires_per_prefix_and_raw_drops_are_archived_never_expired(synth: Synth) -> None:
    # GIVEN the dev stage's retention WHEN synthesized THEN the data bucket has one rule per prefix
    variables = next(iter(sluice_functions(synth).values()))["Environment"]["Variables"]
    data = synth.resources[variables["SLUICE_DATA_BUCKET"]["Ref"]]["Properties"]
    rules = {rule["Id"]: rule for rule in data["LifecycleConfiguration"]["Rules"]}
    assert {rules[f"expire-{prefix}"]["Prefix"]: rules[f"expire-{prefix}"]["ExpirationInDays"]
            for prefix in ("captures", "drift", "quality", "rejected", "scoring-parts", "validation")} == {
        "captures/": 30, "drift/": 90, "quality/": 90, "rejected/": 30, "scoring-parts/": 7, "validation/": 7}
    # AND nothing a user reads or a model's lineage names expires: predictions, reports, accepted data, raw drops
    assert not any(rule.get("Prefix", "").startswith(("scored", "accepted", "incoming/", "score/"))
                   and "ExpirationInDays" in rule for rule in rules.values())
    archive = rules["archive-incoming"]
    assert "ExpirationInDays" not in archive and archive["Transitions"] == [
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
    assert not any(rule.get("Prefix", "").startswith("accepted") for rule in rules.values())
    # AND every bucket drops old versions and failed multipart uploads
    for bucket in synth.of_type("AWS::S3::Bucket").values():
        lifecycle = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert any("NoncurrentVersionExpiration" in rule or "NoncurrentVersionExpirationInDays" in rule
                   for rule in lifecycle)
