"""S3: the data bucket (drops, accepted and rejected data), the artifact bucket, and their access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.stages import Retention
from sluice.storage.keys import CAPTURES, DRIFT, INCOMING, QUALITY, REJECTED, SCORING_PARTS, VALIDATION

# Actions granted per key prefix; explicit lists, never wildcards.
READ_ACTIONS = ("s3:GetObject",)
WRITE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")


class Storage(Construct):
    """The buckets of one deployment: encrypted, SSL-only, private, versioned; data is retained."""

    def __init__(self, scope: Construct, construct_id: str, *, access_log_retention: Duration,
                 retention: Retention) -> None:
        super().__init__(scope, construct_id)
        self.access_log_bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,  # server access logs only deliver to SSE-S3
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(expiration=access_log_retention, noncurrent_version_expiration=Duration.days(1))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.data_bucket = self._bucket("Data", log_prefix="data/", lifecycle_rules=data_lifecycle(retention))
        self.artifact_bucket = self._bucket("Artifacts", log_prefix="artifacts/",
                                            lifecycle_rules=common_lifecycle(retention))
        # Object Created events of the data bucket go to EventBridge (the wiring's S3 trigger). Set on the
        # bucket itself: the L2 ``event_bridge_enabled`` would add a custom-resource Lambda to do the same.
        data = self.data_bucket.node.default_child
        assert isinstance(data, s3.CfnBucket)
        data.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(event_bridge_enabled=True)
        )

    def _bucket(self, construct_id: str, *, log_prefix: str, lifecycle_rules: list[s3.LifecycleRule]) -> s3.Bucket:
        return s3.Bucket(
            self,
            construct_id,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix=log_prefix,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=lifecycle_rules,
        )


def common_lifecycle(retention: Retention) -> list[s3.LifecycleRule]:
    """Every bucket: old object versions and failed multipart uploads do not stay billed forever."""
    return [s3.LifecycleRule(id="noncurrent-versions-and-incomplete-uploads",
                             noncurrent_version_expiration=Duration.days(retention.noncurrent_days),
                             abort_incomplete_multipart_upload_after=Duration.days(retention.incomplete_upload_days))]


def data_lifecycle(retention: Retention) -> list[s3.LifecycleRule]:
    """The data bucket: derived data expires per prefix (staged intermediates — parts of a file scored in parts,
    a validation job's output — after ``staging_days``); raw drops are archived, never expired."""
    expiring = {CAPTURES: retention.captures_days, DRIFT: retention.reports_days,
                QUALITY: retention.reports_days, REJECTED: retention.rejected_days,
                SCORING_PARTS: retention.staging_days, VALIDATION: retention.staging_days}
    rules = [s3.LifecycleRule(id=f"expire-{prefix}", prefix=f"{prefix}/", expiration=Duration.days(days))
             for prefix, days in expiring.items()]
    rules.append(s3.LifecycleRule(id=f"archive-{INCOMING}", prefix=f"{INCOMING}/", transitions=[
        s3.Transition(storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                      transition_after=Duration.days(retention.raw_archive_days))]))
    return [*common_lifecycle(retention), *rules]


def grant_prefix_read(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: str) -> None:
    """Read objects under ``prefix`` and list keys under it (nothing else in the bucket)."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=list(READ_ACTIONS), resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["s3:ListBucket"],
            resources=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}},
        )
    )


def grant_prefix_write(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: str) -> None:
    """Write objects under ``prefix`` only."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=list(WRITE_ACTIONS), resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
    )
