"""`sluice local`'s embedded AWS: a moto server in a child process that answers as the in-process one does,
percentile statistics included (CloudWatch computes pNN over the raw values: nearest rank,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html)."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import boto3

from sluice.local.aws_server import AwsServer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_child_process_serves_aws_with_cloudwatch_percentiles() -> None:
    # GIVEN the embedded AWS started in its own process
    server = AwsServer(_free_port()).start()
    try:
        cloudwatch = boto3.client("cloudwatch", endpoint_url=server.url, region_name="us-east-1",
                                  aws_access_key_id="testing", aws_secret_access_key="testing")
        now = datetime.now(tz=UTC)
        # WHEN 100 durations are put (1 ms … 100 ms) and their p99 is asked for
        cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
            {"MetricName": "Duration", "Values": [float(value) for value in range(1, 101)], "Unit": "Milliseconds",
             "Timestamp": now}])
        answer = cloudwatch.get_metric_data(
            StartTime=now - timedelta(minutes=5), EndTime=now + timedelta(minutes=5),
            MetricDataQueries=[{"Id": "p99", "MetricStat": {
                "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Duration"}, "Period": 60, "Stat": "p99"}}])
        # THEN the answer is the nearest-rank p99 of the raw values
        assert [result["Values"] for result in answer["MetricDataResults"]] == [[99.0]]
    finally:
        server.stop()
    # AND once stopped, its port is free again
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", server.port))
