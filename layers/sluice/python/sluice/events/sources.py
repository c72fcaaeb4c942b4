"""Every event shape AWS documents for sluice's triggers, parsed once at the edge into typed items.

Shapes (each read through Powertools' event source data classes):
- S3 "Object Created" through EventBridge (keys as stored) and classic S3 notifications (``Records[]``, keys
  URL-encoded: "+" is a space, "%2B" a plus), S3's ``s3:TestEvent``;
- any of the below wrapped in SNS (``Records[].Sns.Message``) or in an SQS body (raw, or an SNS notification);
  the SQS batch itself is left to the caller (partial batch failure is per record, see ``sluice.handlers``);
- EventBridge rule schedules and EventBridge Scheduler through the bus ("Scheduled Event"), Scheduler invoking
  the function directly with its input as the event (``{"model": ..., "action": ...}``) or with none;
- "CloudWatch Alarm State Change" (metric and composite alarms), the alarm-as-Lambda-action shape (``alarmData``)
  and an alarm's SNS notification (``AlarmName``, ``NewStateValue``);
- "SageMaker Training Job State Change" (source ``aws.sagemaker``; the detail resembles DescribeTrainingJob, epoch
  milliseconds for times, FailureReason when Failed) and "SageMaker Processing Job State Change" (the detail
  resembles DescribeProcessingJob: ExitMessage, FailureReason);
- sluice's own events (source ``sluice``).

Each item carries the idempotency key its shape allows: object events by the object, sluice events by their
fact, schedules by their occurrence, alarms by their state change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import (
    CloudWatchAlarmEvent,
    EventBridgeEvent,
    S3Event,
    SNSEvent,
    SQSEvent,
)
from aws_lambda_powertools.utilities.data_classes.cloud_watch_alarm_event import CloudWatchAlarmData
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventBridgeNotificationEvent
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from sluice.naming import EVENT_SOURCE

SCHEDULED_EVENT = "Scheduled Event"
ALARM_STATE_CHANGE = "CloudWatch Alarm State Change"
OBJECT_CREATED = "Object Created"
TRAINING_JOB_STATE_CHANGE = "SageMaker Training Job State Change"
PROCESSING_JOB_STATE_CHANGE = "SageMaker Processing Job State Change"
S3_TEST_EVENT = "s3:TestEvent"
# What a Scheduler input may name: the model and action, and Scheduler's context attributes
# (<aws.scheduler.schedule-arn>, <aws.scheduler.scheduled-time>, <aws.scheduler.execution-id>).
SCHEDULER_INPUT_KEYS = ("model", "action", "schedule", "scheduled_time", "execution_id")


@dataclass(frozen=True)
class ObjectCreated:
    """An object written to S3; ``key`` is the object's key as stored (classic notifications decoded)."""

    bucket: str
    key: str
    etag: str
    size: int
    version_id: str
    shape: str  # "eventbridge" | "s3-notification"
    route: str = field(default=OBJECT_CREATED, init=False)

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        # S3 (and moto) may repeat envelope ids: the object itself is the key
        return ("object", self.bucket, self.key, self.etag, self.version_id)


@dataclass(frozen=True)
class SluiceEvent:
    """One of sluice's own events; ``model`` and ``correlation_id`` are always present."""

    detail_type: str
    detail: Mapping[str, Any]
    event_id: str
    shape: str = "eventbridge"

    @property
    def route(self) -> str:
        return self.detail_type

    @property
    def model(self) -> str:
        return str(self.detail["model"])

    @property
    def correlation_id(self) -> str:
        return str(self.detail["correlation_id"])

    @property
    def version(self) -> int:
        """The model version the event is about (required where a handler asks for it)."""
        value = self.detail.get("version")
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise EventError(f"{self.detail_type} {self.event_id} has no model version (got {value!r})")
        return int(value)

    def text(self, name: str) -> str:
        """A required text field of the detail."""
        value = self.detail.get(name)
        if not isinstance(value, str) or not value:
            raise EventError(f"{self.detail_type} {self.event_id} has no {name} (got {value!r})")
        return value

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        detail = self.detail
        return ("sluice", self.detail_type, self.model, str(detail.get("version")), str(detail.get("data_version")),
                self.correlation_id)


@dataclass(frozen=True)
class ScheduleFired:
    """A schedule fired: a rule or a Scheduler schedule through EventBridge, or Scheduler with an input."""

    name: str  # the rule's or schedule's name ("" when Scheduler sent no input)
    occurrence: str  # unique per firing: the envelope id, Scheduler's execution id, or the invocation's request id
    at: str  # when it fired, when the event says
    shape: str  # "rule" | "scheduler" | "scheduler-input"
    model: str | None = None  # named by a Scheduler input
    action: str | None = None
    route: str = field(default=SCHEDULED_EVENT, init=False)

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        return ("schedule", self.name, self.model or "", self.action or "", self.occurrence, self.at)


@dataclass(frozen=True)
class AlarmChanged:
    """An alarm changed state, delivered by EventBridge, as the alarm's own Lambda action, or through SNS."""

    alarm_name: str
    state: str  # OK | ALARM | INSUFFICIENT_DATA
    timestamp: str
    reason: str
    state_data: Mapping[str, Any]  # the state as sent (reasonData: what the new state was judged on)
    event_id: str
    composite: bool
    shape: str  # "eventbridge" | "alarm-action" | "sns-notification"
    route: str = field(default=ALARM_STATE_CHANGE, init=False)

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        # the same state change, whichever way it arrived, acts once
        return ("alarm", self.alarm_name, self.state, self.timestamp)


@dataclass(frozen=True)
class TrainingJobChanged:
    """A SageMaker training job changed status (InProgress, Completed, Failed, Stopping, Stopped)."""

    job_name: str
    job_arn: str
    status: str
    secondary_status: str
    failure_reason: str
    hyperparameters: Mapping[str, str]
    model_artifacts: str  # s3://… model.tar.gz ("" until Completed)
    instance_type: str
    billable_s: int | None
    training_s: float | None
    changed_at: str  # LastModifiedTime as sent
    event_id: str
    route: str = field(default=TRAINING_JOB_STATE_CHANGE, init=False)

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        # SageMaker may send several events per state change: the change itself is the key
        return ("sagemaker-training", self.job_arn, self.status, self.secondary_status, self.changed_at)


@dataclass(frozen=True)
class ProcessingJobChanged:
    """A SageMaker processing job changed status (InProgress, Completed, Failed, Stopping, Stopped)."""

    job_name: str
    job_arn: str
    status: str
    failure_reason: str
    exit_message: str
    arguments: tuple[str, ...]  # AppSpecification.ContainerArguments
    outputs: Mapping[str, str]  # output name -> its S3 URI
    changed_at: str  # LastModifiedTime as sent
    event_id: str
    route: str = field(default=PROCESSING_JOB_STATE_CHANGE, init=False)

    @property
    def idempotency_key(self) -> tuple[str, ...]:
        # several events may announce one state change, and a job reaches its final status once: job and status
        return ("sagemaker-processing", self.job_arn, self.status)


@dataclass(frozen=True)
class S3TestNotification:
    """The ``s3:TestEvent`` S3 sends when a notification is configured: acknowledged, never acted on."""

    bucket: str
    route: str = field(default=S3_TEST_EVENT, init=False)


@dataclass(frozen=True)
class Unrecognised:
    """An event of a shape or kind sluice does not act on (acknowledged, never raised)."""

    description: str
    route: str = field(default="", init=False)


@dataclass(frozen=True)
class Malformed:
    """An event meant for sluice that cannot be read: a one-line error, not worth a retry."""

    error: str
    route: str = field(default="", init=False)


Item = (ObjectCreated | SluiceEvent | ScheduleFired | AlarmChanged | TrainingJobChanged | ProcessingJobChanged
        | S3TestNotification | Unrecognised | Malformed)
Actionable = ObjectCreated | SluiceEvent | ScheduleFired | AlarmChanged | TrainingJobChanged | ProcessingJobChanged


class EventError(ValueError):
    """An event for sluice is malformed or names something that does not exist (not retriable)."""


def is_sqs_batch(event: Mapping[str, Any]) -> bool:
    records = event.get("Records")
    return bool(records) and isinstance(records, list) and all(
        isinstance(record, dict) and record.get("eventSource") == "aws:sqs" for record in records)


def parse(event: Any, *, request_id: str) -> tuple[Item, ...]:
    """The items one invocation's event carries (an SQS batch is parsed record by record: ``parse_sqs_record``)."""
    if not isinstance(event, Mapping):
        return (Unrecognised(f"an event of type {type(event).__name__}, not a JSON object"),)
    if is_sqs_batch(event):
        return tuple(item for record in SQSEvent(dict(event)).records for item in parse_sqs_record(record))
    return _parse_payload(event, request_id=request_id)


def parse_sqs_record(record: SQSRecord) -> tuple[Item, ...]:
    """The items one SQS message carries: its body is an event, or an SNS notification wrapping one.

    A message's id is stable across redeliveries, so it stands in for an invocation's request id.
    """
    try:
        body = json.loads(record.body)
    except ValueError:
        return (Malformed(f"SQS message {record.message_id} is not JSON: {record.body[:80]!r}"),)
    if isinstance(body, dict) and body.get("Type") == "Notification" and "Message" in body:
        return _parse_message(str(body["Message"]), f"SNS message {body.get('MessageId', '')}", record.message_id)
    if not isinstance(body, dict):
        return (Unrecognised(f"SQS message {record.message_id} holds {type(body).__name__}, not an event"),)
    return _parse_payload(body, request_id=record.message_id)


def _parse_message(message: str, what: str, request_id: str) -> tuple[Item, ...]:
    try:
        payload = json.loads(message)
    except ValueError:
        return (Unrecognised(f"{what} is not JSON: {message[:80]!r}"),)
    if not isinstance(payload, dict):
        return (Unrecognised(f"{what} holds {type(payload).__name__}, not an event"),)
    return _parse_payload(payload, request_id=request_id)


def _parse_payload(payload: Mapping[str, Any], *, request_id: str) -> tuple[Item, ...]:
    event = dict(payload)
    try:
        if isinstance(event.get("Records"), list):
            return _parse_records(event)
        if event.get("Event") == S3_TEST_EVENT:
            return (S3TestNotification(str(event.get("Bucket", ""))),)
        if "alarmData" in event:
            return (_alarm_action(CloudWatchAlarmEvent(event)),)
        if "AlarmName" in event and "NewStateValue" in event:
            return (_alarm_notification(event),)
        if "detail-type" in event:
            return (_eventbridge(EventBridgeEvent(event)),)
        if not event or any(key in event for key in SCHEDULER_INPUT_KEYS):
            return (_scheduler_input(event, request_id),)
    except KeyError as error:
        return (Malformed(f"{_describe(event)} has no {error}"),)
    except (TypeError, ValueError, AttributeError) as error:
        return (Malformed(f"{_describe(event)} is not readable: {error}"),)
    return (Unrecognised(f"an event of no known shape (keys: {', '.join(sorted(event))[:200]})"),)


def _parse_records(event: dict[str, Any]) -> tuple[Item, ...]:
    records = event["Records"]
    sources = {str(record.get("eventSource") or record.get("EventSource")) for record in records
               if isinstance(record, dict)}
    if sources == {"aws:s3"}:
        return tuple(_s3_record(record) for record in S3Event(event).records)
    if sources == {"aws:sns"}:
        return tuple(item for record in SNSEvent(event).records
                     for item in _parse_message(record.sns.message, f"SNS message {record.sns.message_id}",
                                                record.sns.message_id))
    if sources == {"aws:sqs"}:
        return tuple(item for record in SQSEvent(event).records for item in parse_sqs_record(record))
    return (Unrecognised(f"records from {', '.join(sorted(sources))}"),)


def _s3_record(record: Any) -> Item:
    if not str(record.event_name).startswith("ObjectCreated:"):
        return Unrecognised(f"S3 {record.event_name} of {record.s3.get_object.get('key')}")
    obj = record.s3.get_object
    # classic notifications URL-encode keys; S3Event.object_key decodes only the first record's, so decode each
    return ObjectCreated(bucket=record.s3.bucket.name, key=unquote_plus(obj.key), etag=obj.etag,
                         size=int(obj.get("size") or 0), version_id=str(obj.version_id or ""),
                         shape="s3-notification")


def _eventbridge(event: EventBridgeEvent) -> Item:
    detail_type, source = event.detail_type, event.source
    if source == "aws.s3" and detail_type == OBJECT_CREATED:
        detail = S3EventBridgeNotificationEvent(event.raw_event).detail
        # EventBridge sends the key as stored; Powertools' ``key`` property would URL-decode it a second time
        key = str(detail.object.raw_event["key"])
        # AWS documents "etag"; moto's S3 → EventBridge events spell it "eTag" (as classic notifications do)
        etag = detail.object.etag or str(detail.object.get("eTag") or "")
        return ObjectCreated(bucket=detail.bucket.name, key=key, etag=etag,
                             size=int(detail.object.size or 0), version_id=str(detail.object.get("version-id") or ""),
                             shape="eventbridge")
    if detail_type == SCHEDULED_EVENT:
        resource = (event.resources or [""])[0]
        shape = "scheduler" if ":schedule/" in resource else "rule"
        return ScheduleFired(name=resource.rsplit("/", 1)[-1], occurrence=event.get_id, at=event.time, shape=shape)
    if detail_type == ALARM_STATE_CHANGE:
        data = CloudWatchAlarmData(event.detail)
        return _alarm(data, event_id=event.get_id, shape="eventbridge")
    if source == "aws.sagemaker" and detail_type == TRAINING_JOB_STATE_CHANGE:
        return _training_job(event.detail, event_id=event.get_id)
    if source == "aws.sagemaker" and detail_type == PROCESSING_JOB_STATE_CHANGE:
        return _processing_job(event.detail, event_id=event.get_id)
    if source == EVENT_SOURCE:
        facts = event.detail
        missing = [name for name in ("model", "correlation_id") if not facts.get(name)]
        if missing:
            return Malformed(f"{detail_type} {event.get_id} has no {' or '.join(missing)}")
        return SluiceEvent(detail_type=detail_type, detail=facts, event_id=event.get_id)
    return Unrecognised(f"{source} {detail_type!r}")


def _training_job(detail: Mapping[str, Any], *, event_id: str) -> TrainingJobChanged:
    """No Powertools class reads this event: its detail is read here, once."""
    start, end = detail.get("TrainingStartTime"), detail.get("TrainingEndTime")
    training_s = (float(end) - float(start)) / 1000 if isinstance(start, int | float) and isinstance(
        end, int | float) else None  # epoch milliseconds
    billable = detail.get("BillableTimeInSeconds")
    hyperparameters = detail.get("HyperParameters") or {}
    return TrainingJobChanged(
        job_name=str(detail["TrainingJobName"]), job_arn=str(detail["TrainingJobArn"]),
        status=str(detail["TrainingJobStatus"]), secondary_status=str(detail.get("SecondaryStatus") or ""),
        failure_reason=str(detail.get("FailureReason") or ""),
        hyperparameters={str(key): str(value) for key, value in dict(hyperparameters).items()},
        model_artifacts=str((detail.get("ModelArtifacts") or {}).get("S3ModelArtifacts") or ""),
        instance_type=str((detail.get("ResourceConfig") or {}).get("InstanceType") or ""),
        billable_s=int(billable) if isinstance(billable, int | float) else None, training_s=training_s,
        changed_at=str(detail.get("LastModifiedTime") or end or ""), event_id=event_id)


def _processing_job(detail: Mapping[str, Any], *, event_id: str) -> ProcessingJobChanged:
    """No Powertools class reads this event either: its detail is read here, once."""
    outputs = (detail.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    app = detail.get("AppSpecification") or {}
    return ProcessingJobChanged(
        job_name=str(detail["ProcessingJobName"]), job_arn=str(detail["ProcessingJobArn"]),
        status=str(detail["ProcessingJobStatus"]), failure_reason=str(detail.get("FailureReason") or ""),
        exit_message=str(detail.get("ExitMessage") or ""),
        arguments=tuple(str(item) for item in app.get("ContainerArguments") or ()),
        outputs={str(output.get("OutputName")): str((output.get("S3Output") or {}).get("S3Uri") or "")
                 for output in outputs},
        changed_at=str(detail.get("LastModifiedTime") or detail.get("ProcessingEndTime") or ""), event_id=event_id)


def _alarm_action(event: CloudWatchAlarmEvent) -> AlarmChanged:
    data = event.alarm_data
    return _alarm(data, event_id=f"{event.alarm_arn}@{event.timestamp}", shape="alarm-action")


def _alarm_notification(message: dict[str, Any]) -> AlarmChanged:
    """An alarm's SNS notification (its action is a topic the function subscribes to); Powertools has no class."""
    state = {"value": str(message["NewStateValue"]), "reason": str(message.get("NewStateReason") or ""),
             "timestamp": str(message["StateChangeTime"])}
    return AlarmChanged(alarm_name=str(message["AlarmName"]), state=state["value"], timestamp=state["timestamp"],
                        reason=state["reason"], state_data=state,
                        event_id=f"{message.get('AlarmArn', message['AlarmName'])}@{state['timestamp']}",
                        composite="AlarmRule" in message, shape="sns-notification")


def _alarm(data: CloudWatchAlarmData, *, event_id: str, shape: str) -> AlarmChanged:
    state = data.state
    configuration = data.get("configuration") or {}
    return AlarmChanged(alarm_name=data.alarm_name, state=state.value, timestamp=state.timestamp,
                        reason=str(state.get("reason") or ""), state_data=state.raw_event, event_id=event_id,
                        composite="alarmRule" in configuration, shape=shape)


def _scheduler_input(event: dict[str, Any], request_id: str) -> Item:
    unknown = sorted(set(event) - set(SCHEDULER_INPUT_KEYS))
    if unknown:
        return Malformed(f"schedule input has unknown key {unknown[0]!r} (known: {', '.join(SCHEDULER_INPUT_KEYS)})")
    texts = {key: value for key, value in event.items() if isinstance(value, str)}
    if len(texts) != len(event):
        wrong = next(key for key in event if key not in texts)
        return Malformed(f"schedule input {wrong!r} must be text, got {event[wrong]!r}")
    schedule = texts.get("schedule", "")
    occurrence = texts.get("execution_id") or texts.get("scheduled_time") or request_id
    return ScheduleFired(name=schedule.rsplit("/", 1)[-1], occurrence=occurrence,
                         at=texts.get("scheduled_time", ""), shape="scheduler-input",
                         model=texts.get("model"), action=texts.get("action"))


def _describe(event: Mapping[str, Any]) -> str:
    kind = event.get("detail-type") or event.get("Event") or ("alarm action" if "alarmData" in event else "event")
    return f"{kind} {event.get('id') or event.get('alarmArn') or ''}".strip()
