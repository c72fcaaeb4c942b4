"""Events in the exact shapes AWS sends them, for triggers moto never fires itself."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qsl

from sluice.clock import iso

ACCOUNT = "123456789012"


def scheduled_event(rule_arn: str, *, region: str, now: float) -> dict[str, Any]:
    """What EventBridge delivers when a schedule rule fires."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": ACCOUNT, "time": iso(now)[:19] + "Z", "region": region, "resources": [rule_arn], "detail": {},
    }


def alarm_state_change_detail(alarm_name: str, *, state: str, previous: str, reason: str, now: float,
                              metric: str, function_name: str, period_s: int = 60,
                              datapoints: int = 1) -> dict[str, Any]:
    """The detail of a "CloudWatch Alarm State Change" event; its reasonData spans ``datapoints`` periods."""
    timestamp = _cloudwatch_time(now)
    reason_data = {"version": "1.0", "queryDate": timestamp, "startDate": _cloudwatch_time(now - period_s * datapoints),
                   "statistic": "Sum", "period": period_s, "recentDatapoints": [1.0] * datapoints, "threshold": 1.0}
    return {
        "alarmName": alarm_name,
        "state": {"value": state, "reason": reason, "timestamp": timestamp, "reasonData": json.dumps(reason_data)},
        "previousState": {"value": previous, "reason": "", "timestamp": timestamp},
        "configuration": {
            "description": f"sluice endpoint alarm {alarm_name}",
            "metrics": [{
                "id": "m1",
                "metricStat": {
                    "metric": {"namespace": "AWS/Lambda", "name": metric,
                               "dimensions": {"FunctionName": function_name, "Resource": f"{function_name}:live"}},
                    "period": period_s, "stat": "Sum",
                },
                "returnData": True,
            }],
        },
    }


def sqs_batch_event(messages: list[dict[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """What Lambda's SQS event source mapping delivers for ``messages`` (as ReceiveMessage returned them)."""
    return {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}), "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""), "eventSource": "aws:sqs", "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for message in messages]}


def _cloudwatch_time(epoch_s: float) -> str:
    return iso(epoch_s)[:23] + "+0000"


def function_url_event(method: str, path: str, body: bytes, headers: dict[str, str], *,
                       now: float, query: str = "") -> dict[str, Any]:
    """A Lambda Function URL (payload format 2.0) request."""
    is_text = True
    try:
        text = body.decode()
    except UnicodeDecodeError:
        is_text = False
        text = base64.b64encode(body).decode()
    event: dict[str, Any] = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {key.lower(): value for key, value in headers.items()},
        "requestContext": {
            "accountId": "anonymous", "apiId": "local", "domainName": "localhost", "domainPrefix": "localhost",
            "http": {"method": method.upper(), "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
                     "userAgent": headers.get("User-Agent", "")},
            "requestId": str(uuid.uuid4()), "routeKey": "$default", "stage": "$default",
            "time": iso(now), "timeEpoch": int(now * 1000),
        },
        "body": text, "isBase64Encoded": not is_text,
    }
    if query:
        event["queryStringParameters"] = query_parameters(query)
    return event


def query_parameters(query: str) -> dict[str, str]:
    """``queryStringParameters`` as a Function URL (payload 2.0) sends them: decoded, repeated keys joined by
    commas, absent when the request has no query string."""
    joined: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        joined.setdefault(key, []).append(value)
    return {key: ",".join(values) for key, values in joined.items()}


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True)
