"""EventBridge rules generated from the wiring table (sluice.wiring.ROUTES) and the per-model schedules.

Nothing here names a trigger or a function: every rule comes from a Route, so the template and the
table cannot drift apart (tests/infra proves it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.components.alarms import metric_alarm
from sluice.config import ProjectConfig
from sluice.events.dead_letters import ENV_DEAD_LETTER_QUEUE
from sluice.wiring import ROUTES, PatternContext, Route, ScheduleTrigger
from sluice.wiring.alarms import dead_letter_alarm
from sluice.wiring.queues import (
    BUFFER_BATCH_SIZE,
    BUFFER_MAX_RECEIVES,
    DEAD_LETTER_RETENTION_DAYS,
    buffer_visibility_s,
)

# Event pattern keys (as AWS spells them) → aws_events.EventPattern fields.
_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "id": "id",
    "time": "time",
    "version": "version",
}


DEFAULT_MAX_EVENT_AGE = Duration.hours(6)  # well inside the 24 h idempotency window (sluice.idempotency)
ASYNC_RETRY_ATTEMPTS = 2


class WiringError(ValueError):
    """The wiring table cannot be turned into rules."""


def to_event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """Convert a raw event pattern (AWS JSON shape) into the CDK struct, unchanged."""
    unknown = sorted(set(pattern) - set(_PATTERN_FIELDS))
    if unknown:
        raise WiringError(f"unsupported event pattern keys {unknown}")
    return events.EventPattern(**{_PATTERN_FIELDS[key]: value for key, value in pattern.items()})


class Wiring(Construct):
    """One rule per event route, each with retries and a dead-letter queue; the schedule routes' access.

    Failed deliveries and failed asynchronous invocations of a function land in that function's
    queue in ``dead_letter_queues``; a message in a queue sets its alarm in ``dead_letter_alarms``. The function
    parks events it refuses there itself (``SLUICE_DEAD_LETTER_QUEUE``: once, with the reason). The routes in
    ``buffered`` (``[stack] buffer_drops``) target an SQS queue (``buffer_queues``) the function consumes in batches
    with partial batch failure; a message failing ``BUFFER_MAX_RECEIVES`` times moves to the dead-letter queue.
    The per-model schedule rules live in the model stacks (``ScheduleRules``): here each schedule route gets
    one Lambda permission and one queue-policy statement for every rule named like its rules, so neither
    the function's resource policy (20 KB) nor the queue policy (20 statements) grows with the models.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PatternContext,
        bus: events.IEventBus,
        function: Callable[[str], lambda_.IFunction],
        removal_policy: RemovalPolicy,
        routes: tuple[Route, ...] = ROUTES,
        delivery: Delivery | None = None,
        topic: sns.ITopic | None = None,
        buffered: Collection[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self._function = function
        self._removal_policy = removal_policy
        self._delivery = delivery or Delivery()
        self._names = context.names
        self._topic = topic
        self._buffered = frozenset(buffered)
        self.rules: list[events.Rule] = []
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.dead_letter_alarms: dict[str, cloudwatch.IAlarm] = {}
        self.buffer_queues: dict[str, sqs.Queue] = {}
        declared: set[tuple[str, str, str]] = set()
        for route in routes:
            target = self._function(route.function)
            queue = self._dead_letter_queue(route.function, target)
            if isinstance(route.trigger, ScheduleTrigger):
                self._allow_schedule_rules(route, target, queue, schedule_rule_arns(self, context, route))
                continue
            pattern = route.trigger.pattern(context)
            bus_key = "sluice" if route.on_sluice_bus else "default"
            _claim(declared, (bus_key, json.dumps(pattern, sort_keys=True), route.function))
            rule = events.Rule(self, _camel(route.name), description=route.description,
                               event_bus=bus if route.on_sluice_bus else None,
                               event_pattern=to_event_pattern(pattern))
            if route.name in self._buffered:
                rule.add_target(targets.SqsQueue(self._buffer(route, target, queue), dead_letter_queue=queue,
                                                 retry_attempts=self._delivery.retry_attempts,
                                                 max_event_age=self._delivery.max_event_age))
            else:
                rule.add_target(self._delivery.target(target, queue))
            self.rules.append(rule)

    def _buffer(self, route: Route, target: lambda_.IFunction, dead_letters: sqs.Queue) -> sqs.Queue:
        """The queue between the rule and the function, consumed in batches with partial batch failure."""
        buffer = sqs.Queue(
            self,
            f"{_camel(route.name)}Buffer",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(buffer_visibility_s(route.function)),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letters, max_receive_count=BUFFER_MAX_RECEIVES),
            removal_policy=self._removal_policy,
        )
        target.add_event_source(event_sources.SqsEventSource(
            buffer, batch_size=BUFFER_BATCH_SIZE, report_batch_item_failures=True))
        self.buffer_queues[route.name] = buffer
        return buffer

    def _allow_schedule_rules(self, route: Route, target: lambda_.IFunction, queue: sqs.Queue, rule_arns: str
                              ) -> None:
        principal = iam.ServicePrincipal("events.amazonaws.com")
        target.add_permission(f"Allow{_camel(route.name)}Rules", principal=principal,
                              action="lambda:InvokeFunction", source_arn=rule_arns)
        queue.add_to_resource_policy(iam.PolicyStatement(
            sid=f"Allow{_camel(route.name)}Rules", principals=[principal], actions=["sqs:SendMessage"],
            resources=[queue.queue_arn], conditions={"ArnLike": {"aws:SourceArn": rule_arns}}))

    def _dead_letter_queue(self, function: str, target: lambda_.IFunction) -> sqs.Queue:
        queue = self.dead_letter_queues.get(function)
        if queue is None:
            queue = sqs.Queue(
                self,
                f"{_camel(function)}DeadLetters",
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                enforce_ssl=True,
                retention_period=Duration.days(DEAD_LETTER_RETENTION_DAYS),
                removal_policy=self._removal_policy,
            )
            target.configure_async_invoke(
                on_failure=destinations.SqsDestination(queue),
                retry_attempts=ASYNC_RETRY_ATTEMPTS,
                max_event_age=self._delivery.max_event_age,
            )
            if isinstance(target, lambda_.Function):  # where the function parks what it refuses
                target.add_environment(ENV_DEAD_LETTER_QUEUE, queue.queue_url)
            self.dead_letter_queues[function] = queue
            self.dead_letter_alarms[function] = self._depth_alarm(function, queue)
        return queue

    def _depth_alarm(self, function: str, queue: sqs.Queue) -> cloudwatch.IAlarm:
        """ALARM as soon as one event is parked: something was lost to ``function`` and needs a redrive."""
        return metric_alarm(self, f"{_camel(function)}DeadLettersAlarm", dead_letter_alarm(function, self._names),
                            topic=self._topic, queue_names=lambda _: queue.queue_name)


class ScheduleRules(Construct):
    """The per-model schedule rules of some models (one model stack's), from the schedule routes.

    Their targets are the parent stack's functions and dead-letter queues, referenced by ARN only: the
    permissions to invoke and to park are the parent's, one per route (``Wiring``), whatever the models.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ProjectConfig,
        context: PatternContext,
        function_arn: Callable[[str], str],
        dead_letter_queue_arn: Callable[[str], str],
        routes: tuple[Route, ...] = ROUTES,
        delivery: Delivery | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        delivery = delivery or Delivery()
        self.rules: list[events.Rule] = []
        declared: set[tuple[str, str, str]] = set()
        for route in routes:
            if not isinstance(route.trigger, ScheduleTrigger):
                continue
            trigger = route.trigger
            schedules = [(model, expression) for model, model_config in sorted(config.models.items())
                         if (expression := trigger.expression(model_config))]
            if not schedules:
                continue
            target = lambda_.Function.from_function_attributes(
                self, f"{_camel(route.name)}Target", function_arn=function_arn(route.function), skip_permissions=True)
            queue = sqs.Queue.from_queue_arn(self, f"{_camel(route.name)}DeadLetters",
                                             dead_letter_queue_arn(route.function))
            for model, expression in schedules:
                rule_name = trigger.rule_name(context.names, model)
                _claim(declared, ("schedule", rule_name, route.function))
                rule = events.Rule(self, f"{_camel(route.name)}{_camel(model)}", rule_name=rule_name,
                                   description=f"{route.description} ({model}: {expression})",
                                   schedule=events.Schedule.expression(expression))
                rule.add_target(delivery.target(target, queue))
                self.rules.append(rule)


@dataclass(frozen=True)
class Delivery:
    """How a rule delivers to its function: retries, maximum event age, then the function's dead-letter queue."""

    retry_attempts: int = 4
    max_event_age: Duration = DEFAULT_MAX_EVENT_AGE

    def target(self, function: lambda_.IFunction, queue: sqs.IQueue) -> targets.LambdaFunction:
        return targets.LambdaFunction(function, dead_letter_queue=queue, retry_attempts=self.retry_attempts,
                                      max_event_age=self.max_event_age)


def schedule_rule_arns(scope: Construct, context: PatternContext, route: Route) -> str:
    """The ARN pattern of every rule of a schedule route (``rule/<prefix>-<kind>-*``, default bus)."""
    if not isinstance(route.trigger, ScheduleTrigger):
        raise WiringError(f"route {route.name!r} is not a schedule")
    return Stack.of(scope).format_arn(service="events", resource="rule",
                                      resource_name=route.trigger.rule_name(context.names, "*"))


def _claim(declared: set[tuple[str, str, str]], key: tuple[str, str, str]) -> None:
    if key in declared:
        raise WiringError(f"rule declared twice: {key}")
    declared.add(key)


def _camel(name: str) -> str:
    return "".join(word.capitalize() for word in name.replace("_", "-").split("-"))
