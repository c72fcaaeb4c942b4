"""Monitoring: per-model capture streams (Firehose → Parquet under captures/<model>/) and dashboards.

Each model's predict function puts sampled records to its own delivery stream; Firehose converts the JSON
records to Parquet with the schema of a Glue table generated from the model's data contract, and writes
``captures/<model>/date=YYYY-MM-DD/`` in the data bucket (errors under ``capture-errors/<model>/``).
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.components.storage import grant_prefix_write
from sluice.config import ModelConfig, ProjectConfig
from sluice.monitoring.metrics import (
    DRIFT_SCORE,
    DRIFTED_FEATURE_SHARE,
    FEEDBACK_ROWS,
    LIVE_METRIC_NAMES,
    NAMESPACE,
    PREDICTION_DRIFT,
)
from sluice.naming import LIVE_ALIAS, ResourceNames
from sluice.wiring import capture

CAPTURES = "captures"
CAPTURE_ERRORS = "capture-errors"
BUFFER_MB = 128  # record format conversion needs at least 64 MB
BUFFER_INTERVAL = Duration.minutes(5)


def capture_columns(model: ModelConfig) -> list[glue.CfnTable.ColumnProperty]:
    """The Glue schema of a capture record, as the manifest declares it (sluice.wiring.capture)."""
    return [glue.CfnTable.ColumnProperty(name=name, type=kind) for name, kind in capture.capture_columns(model)]


class CaptureDatabase(Construct):
    """The stage's Glue database of capture tables (its tables live in the model stacks)."""

    def __init__(self, scope: Construct, construct_id: str, *, names: ResourceNames) -> None:
        super().__init__(scope, construct_id)
        self.database_name = capture.capture_database_name(names.prefix)
        self.database = glue.CfnDatabase(self, "Database", catalog_id=Stack.of(self).account,
                                         database_input=glue.CfnDatabase.DatabaseInputProperty(
                                             name=self.database_name,
                                             description="Captured predictions of the sluice endpoints"))


class CaptureStreams(Construct):
    """Per model a Glue table (in the stage's capture database), a delivery role and a Firehose delivery stream."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ProjectConfig, names: ResourceNames,
                 data_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.database_name = capture.capture_database_name(names.prefix)
        self.tables: dict[str, glue.CfnTable] = {}
        self.roles: dict[str, iam.Role] = {}
        self.streams: dict[str, firehose.CfnDeliveryStream] = {}
        for model_name, model in sorted(config.models.items()):
            cid = _camel(model_name)
            table_name = capture.capture_table_name(model_name)
            table = glue.CfnTable(
                self, f"{cid}Table", catalog_id=stack.account, database_name=self.database_name,
                table_input=glue.CfnTable.TableInputProperty(
                    name=table_name, table_type="EXTERNAL_TABLE", parameters={"classification": "parquet"},
                    partition_keys=[glue.CfnTable.ColumnProperty(name=name, type=kind)
                                    for name, kind in capture.PARTITION_KEYS],
                    storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                        columns=capture_columns(model),
                        location=f"s3://{data_bucket.bucket_name}/{CAPTURES}/{model_name}/",
                        input_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                        output_format="org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
                        serde_info=glue.CfnTable.SerdeInfoProperty(
                            serialization_library="org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
                    ),
                ),
            )
            # confused-deputy guard Firehose documents for its delivery roles: only this account's streams
            delivery = iam.ServicePrincipal("firehose.amazonaws.com",
                                            conditions={"StringEquals": {"sts:ExternalId": Aws.ACCOUNT_ID}})
            role = iam.Role(self, f"{cid}DeliveryRole", assumed_by=delivery,
                            description=f"Firehose delivery of {model_name}'s captured predictions")
            for prefix in (f"{CAPTURES}/{model_name}/", f"{CAPTURE_ERRORS}/{model_name}/"):
                grant_prefix_write(data_bucket, role, prefix)
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                resources=[data_bucket.bucket_arn]))
            role.add_to_principal_policy(iam.PolicyStatement(
                actions=["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"],
                resources=[stack.format_arn(service="glue", resource="catalog"),
                           stack.format_arn(service="glue", resource="database", resource_name=self.database_name),
                           stack.format_arn(service="glue", resource="table",
                                            resource_name=f"{self.database_name}/{table_name}")]))
            stream = firehose.CfnDeliveryStream(
                self, f"{cid}Stream", delivery_stream_name=names.capture_stream(model_name),
                delivery_stream_type="DirectPut",
                delivery_stream_encryption_configuration_input=(
                    firehose.CfnDeliveryStream.DeliveryStreamEncryptionConfigurationInputProperty(
                        key_type="AWS_OWNED_CMK")),
                extended_s3_destination_configuration=self._destination(
                    model_name, table_name, data_bucket, role, stack),
            )
            stream.node.add_dependency(role)
            stream.node.add_dependency(table)
            self.tables[model_name], self.roles[model_name], self.streams[model_name] = table, role, stream

    def _destination(self, model: str, table: str, bucket: s3.IBucket, role: iam.Role, stack: Stack
                     ) -> firehose.CfnDeliveryStream.ExtendedS3DestinationConfigurationProperty:
        stream = firehose.CfnDeliveryStream
        return stream.ExtendedS3DestinationConfigurationProperty(
            bucket_arn=bucket.bucket_arn, role_arn=role.role_arn,
            prefix=f"{CAPTURES}/{model}/date=!{{timestamp:yyyy-MM-dd}}/",
            error_output_prefix=f"{CAPTURE_ERRORS}/{model}/!{{firehose:error-output-type}}/date=!{{timestamp:yyyy-MM-dd}}/",
            buffering_hints=stream.BufferingHintsProperty(interval_in_seconds=int(BUFFER_INTERVAL.to_seconds()),
                                                          size_in_m_bs=BUFFER_MB),
            compression_format="UNCOMPRESSED",  # Parquet pages are compressed by the serializer
            data_format_conversion_configuration=stream.DataFormatConversionConfigurationProperty(
                enabled=True,
                input_format_configuration=stream.InputFormatConfigurationProperty(
                    deserializer=stream.DeserializerProperty(open_x_json_ser_de=stream.OpenXJsonSerDeProperty())),
                output_format_configuration=stream.OutputFormatConfigurationProperty(
                    serializer=stream.SerializerProperty(
                        parquet_ser_de=stream.ParquetSerDeProperty(compression="SNAPPY"))),
                schema_configuration=stream.SchemaConfigurationProperty(
                    catalog_id=stack.account, database_name=self.database_name, table_name=table,
                    region=stack.region, role_arn=role.role_arn, version_id="LATEST"),
            ),
        )

    def stream_arn(self, model: str) -> str:
        return self.streams[model].attr_arn


def capture_stream_arn(scope: Construct, names: ResourceNames, model: str) -> str:
    """The ARN of a model's capture stream, from its name (no reference: functions are built first)."""
    return Stack.of(scope).format_arn(service="firehose", resource="deliverystream",
                                      resource_name=names.capture_stream(model))


class Dashboards(Construct):
    """A CloudWatch dashboard per model: traffic, latency, errors per version, drift, live quality, pipeline."""

    def __init__(self, scope: Construct, construct_id: str, *, config: ProjectConfig, names: ResourceNames) -> None:
        super().__init__(scope, construct_id)
        self.by_model: dict[str, cloudwatch.Dashboard] = {
            model: self._dashboard(model, names) for model in sorted(config.models)
        }

    def _dashboard(self, model: str, names: ResourceNames) -> cloudwatch.Dashboard:
        function = names.predict_function(model)
        live = {"FunctionName": function, "Resource": f"{function}:{LIVE_ALIAS}"}
        period = Duration.minutes(5)

        def lambda_metric(name: str, statistic: str, label: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(namespace="AWS/Lambda", metric_name=name, dimensions_map=live,
                                     statistic=statistic, period=period, label=label)

        def per_version(metric: str, statistic: str) -> cloudwatch.MathExpression:
            return cloudwatch.MathExpression(
                # Lambda publishes ExecutedVersion only with FunctionName and Resource (the alias)
                expression=f"SEARCH('{{AWS/Lambda,ExecutedVersion,FunctionName,Resource}} MetricName=\"{metric}\" "
                           f"FunctionName=\"{function}\"', '{statistic}', 300)",
                label=f"{metric} by version", using_metrics={}, period=period)

        def sluice_search(dims: str, metric: str, statistic: str) -> cloudwatch.MathExpression:
            return cloudwatch.MathExpression(
                expression=f"SEARCH('{{{NAMESPACE},{dims}}} MetricName=\"{metric}\" model=\"{model}\"', "
                           f"'{statistic}', 3600)",
                label=metric, using_metrics={}, period=Duration.hours(1))

        model_dims = {"model": model}
        quality = [cloudwatch.Metric(namespace=NAMESPACE, metric_name=name, dimensions_map=model_dims,
                                     statistic="Average", period=Duration.hours(1), label=name)
                   for name in LIVE_METRIC_NAMES.values()]
        dashboard = cloudwatch.Dashboard(self, _camel(model), dashboard_name=f"{names.prefix}-{model}")
        dashboard.add_widgets(cloudwatch.TextWidget(
            markdown=f"# {model}\nEndpoint `{function}:{LIVE_ALIAS}`; captures in `{CAPTURES}/{model}/`; "
                     f"drift reports in `drift/{model}/`.", width=24, height=2))
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Traffic (live)", width=8, left=[
                lambda_metric("Invocations", "Sum", "requests"),
                lambda_metric("ConcurrentExecutions", "Maximum", "concurrency")]),
            cloudwatch.GraphWidget(title="Latency (live)", width=8, left=[
                lambda_metric("Duration", "p50", "p50"), lambda_metric("Duration", "p99", "p99")]),
            cloudwatch.GraphWidget(title="Errors and invocations per version", width=8,
                                   left=[per_version("Errors", "Sum")],
                                   right=[per_version("Invocations", "Sum")]),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(title="Drift: score per feature", width=8,
                                   left=[sluice_search("feature,model", DRIFT_SCORE, "Maximum")]),
            cloudwatch.GraphWidget(title="Drift: drifted feature share and prediction drift", width=8, left=[
                cloudwatch.Metric(namespace=NAMESPACE, metric_name=DRIFTED_FEATURE_SHARE,
                                  dimensions_map=model_dims, statistic="Maximum", period=Duration.hours(1)),
                cloudwatch.Metric(namespace=NAMESPACE, metric_name=PREDICTION_DRIFT,
                                  dimensions_map=model_dims, statistic="Maximum", period=Duration.hours(1))]),
            cloudwatch.GraphWidget(title="Live quality (from feedback)", width=8, left=quality, right=[
                cloudwatch.Metric(namespace=NAMESPACE, metric_name=FEEDBACK_ROWS, dimensions_map=model_dims,
                                  statistic="Sum", period=Duration.hours(1), label="labelled rows")]),
        )
        dashboard.add_widgets(cloudwatch.GraphWidget(
            title="Pipeline events (lifecycle outcomes)", width=24, left=[cloudwatch.MathExpression(
                expression=f"SEARCH('{{{NAMESPACE},service}} MetricName=\"train_trained\" OR "
                           "MetricName=\"deploy_deployed\" OR MetricName=\"rollback_rolled_back\" OR "
                           "MetricName=\"drift_drift_detected\" OR MetricName=\"train_debounced\" OR "
                           "MetricName=\"feedback_measured\"', 'Sum', 3600)",
                label="outcomes", using_metrics={}, period=Duration.hours(1))]))
        return dashboard


def _camel(name: str) -> str:
    return "".join(word.capitalize() for word in name.replace("_", "-").split("-"))
