"""LocalCloud: provision the stack on moto, dispatch events by the wiring, serve the endpoint."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3

from sluice import clock as sluice_clock
from sluice import progress
from sluice.clock import Clock, system_clock
from sluice.config import ProjectConfig, load_config
from sluice.endpoint import PinnedModel
from sluice.events.dead_letters import ENV_DEAD_LETTER_QUEUE
from sluice.jobs.spec import ENV_JOB_IMAGE, ENV_JOB_ROLE_ARN, TRAIN_KIND
from sluice.jobs.validation import ENV_VALIDATION_ROLE_ARN, VALIDATE_KIND
from sluice.local import aws_events
from sluice.local.alarm_state import AlarmChange, evaluate_alarms, install_composite_alarms, set_state
from sluice.local.captures import deliver_staged
from sluice.local.cloudwatch import ingest_emf, install_percentiles, record_invocation, record_throttle
from sluice.local.environments import (
    Environment,
    EnvironmentKey,
    EnvironmentPool,
    InProcessEnvironment,
    Invocation,
    ProcessEnvironment,
    ThrottledError,
    environment_key,
)
from sluice.local.executions import Executions
from sluice.local.host import FunctionHost, find_functions_dir
from sluice.local.iam import ADMIN, LocalIam
from sluice.local.iam_template import function_policies
from sluice.local.metering import InjectedFailureError, Meter, meter_from_env
from sluice.local.notifications import notification_queue_url, read_notification
from sluice.local.provision import (
    Provisioned,
    buffer_queue_name,
    dead_letter_queue_name,
    observer_queue_name,
    provision,
    route_queue_name,
)
from sluice.local.router import WeightedRouter
from sluice.local.sagemaker_jobs import PlayedJob, SageMakerJobPlayer, install_sagemaker_jobs
from sluice.local.state_machines import ExecutionPlayer, threads
from sluice.naming import EVENT_SOURCE, LIVE_ALIAS
from sluice.scoring.jobs import STATE_MACHINE_ENV
from sluice.settings import Settings
from sluice.storage import ObjectStore
from sluice.wiring import FUNCTIONS, ROUTES, ScheduleTrigger, routes_in_use
from sluice.wiring.alarms import dead_letter_functions
from sluice.wiring.queues import BUFFER_BATCH_SIZE, buffered_routes
from sluice.wiring.state_machines import SCORE_PARTS, STATE_MACHINES

REGION = "us-east-1"
QUIET_ENV = {
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "POWERTOOLS_DEV": "false",
}
MAX_DISPATCH_ROUNDS = 200
# The predict function's EMF (per-version prediction metrics) is read from its output: metrics on for it.
PREDICT_ENV = {"POWERTOOLS_METRICS_DISABLED": "false"}
ENVIRONMENTS_ENV = "SLUICE_LOCAL_ENVIRONMENTS"
"""How many predict execution environments (worker processes) `sluice local` may run at once."""


def default_environments() -> int:
    """$SLUICE_LOCAL_ENVIRONMENTS, else twice the CPU count (one machine is not a Lambda fleet: past the CPUs more
    processes only cost memory), at least 2."""
    explicit = os.environ.get(ENVIRONMENTS_ENV, "").strip()
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)
    return max(2, 2 * (os.cpu_count() or 1))


class TaskError(RuntimeError):
    """A task that failed in a worker process: ``error`` is the type name of what it raised."""

    def __init__(self, failure: str) -> None:
        super().__init__(failure)
        self.error = failure.split(":", 1)[0]


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened: an event seen on a bus, or a function run and its outcome."""

    at: float
    kind: str  # "event" | "invoke" | "error" | "progress" (and "drop", "clock", "notify")
    name: str  # detail-type, function name, or the kind of progress ("trial")
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointResponse:
    status: int
    body: dict[str, Any]
    lambda_version: str


class LocalCloud:
    """The whole sluice deployment on an embedded AWS (moto), in this process."""

    def __init__(self, config_path: str | Path, *, prefix: str = "sluice", functions_dir: Path | None = None,
                 seed: int = 0, clock: Clock = system_clock, quiet: bool = True,
                 endpoint_url: str | None = None, on_record: Callable[[TimelineEntry], None] | None = None,
                 meter: Meter | None = None, iam_template: Mapping[str, Any] | None = None,
                 iam_enforce: bool = True, environments: int | None = None) -> None:
        self.config_path = Path(config_path).resolve()
        self.settings = Settings.local(prefix)
        self.config: ProjectConfig = load_config(self.config_path).for_stage(self.settings.stage)
        """The configuration as this stage deploys it (``ProjectConfig.for_stage``)."""
        self.functions_dir = functions_dir or find_functions_dir()
        self.timeline: list[TimelineEntry] = []
        self.router = WeightedRouter(seed)
        """The router of the predict endpoint (alias ``live`` and its weights)."""
        self.meter: Meter = meter or meter_from_env(os.environ)
        """What Lambda reports per request (duration, failure): measured, or scripted by a test."""
        self._clock = clock
        self._quiet = quiet
        self._endpoint_url = endpoint_url
        self._on_record = on_record
        self._mock: Any = None
        self._saved_env: dict[str, str] | None = None
        self._host = FunctionHost(self.functions_dir)
        self._capacity = environments or default_environments()
        self._environments: EnvironmentPool | None = None
        self._tasks: EnvironmentPool | None = None
        self._task_capacity = self._tasks_capacity = 1
        self._executions: Executions | None = None
        self._pool_lock = threading.Lock()
        self._version_env: dict[tuple[str, str], dict[str, str]] = {}
        self.clients: Any = None
        self.provisioned = Provisioned()
        self.jobs: SageMakerJobPlayer | None = None
        """Plays the SageMaker jobs train_model and validate_dataset start (moto only records them)."""
        if iam_template is not None and endpoint_url:
            raise ValueError("the IAM-enforcing mode needs the in-process embedded AWS (no endpoint_url)")
        self._iam_template = iam_template
        self._iam_enforce = iam_enforce
        self.iam: LocalIam | None = None
        """With ``iam_template`` (a synthesized CloudFormation template): each function runs with its role's policy
        (``iam_enforce=False``: its calls are only checked against it, in ``iam.checks``)."""

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self, *, provision_resources: bool = True) -> LocalCloud:
        self._saved_env = dict(os.environ)
        os.environ.update(self.environment())
        if self._endpoint_url is None:
            from moto import mock_aws

            self._mock = mock_aws()
            self._mock.start()
        self.clients = _clients()
        install_percentiles()
        install_composite_alarms()
        install_sagemaker_jobs()
        if provision_resources:
            self.provisioned = provision(self.clients, self.settings, self.config, self.functions_dir)
        else:
            self.provisioned = self._discover()
        if self._iam_template is not None:
            self._enforce_iam(self._iam_template)
        self.jobs = SageMakerJobPlayer(self.clients, train_prefix=self.settings.names.job_prefix(TRAIN_KIND),
                                       processing_prefix=self.settings.names.job_prefix(VALIDATE_KIND),
                                       config_path=self.config_path, region=REGION)
        return self

    def _enforce_iam(self, template: Mapping[str, Any]) -> None:
        """One IAM user per function with its role's statements; the runtime itself acts as an administrator."""
        policies = function_policies(template, local_env=self.settings.to_env(), local_prefix=self.settings.prefix)
        self.iam = LocalIam(policies, prefix=self.settings.prefix, enforce=self._iam_enforce)
        self.iam.provision(self.clients.iam)
        os.environ.pop("AWS_SESSION_TOKEN", None)  # users' keys carry no session token
        os.environ.update(self.iam.env(ADMIN))
        self.iam.start()
        self.clients = _clients()

    @contextlib.contextmanager
    def _identity(self, principal: str) -> Iterator[dict[str, str]]:
        """The credentials a function runs with: its own IAM user's in IAM-enforcing mode, else the process's."""
        if self.iam is None:
            yield {}
            return
        with self.iam.acting_as(principal) as env:
            yield env

    def stop(self) -> None:
        with self._pool_lock:
            for pool in (self._environments, self._tasks):
                if pool is not None:
                    pool.close()
            self._environments = self._tasks = None
        if self.iam is not None:
            self.iam.stop()
            self.iam = None
        if self._clock is system_clock:
            sluice_clock.reset()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_env is not None:
            os.environ.clear()
            os.environ.update(self._saved_env)
            self._saved_env = None

    def __enter__(self) -> LocalCloud:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """What every local function sees (the same variables CDK sets on AWS)."""
        env = {
            **self.settings.to_env(),
            "SLUICE_CONFIG": str(self.config_path),
            "SLUICE_FUNCTIONS_DIR": str(self.functions_dir),
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
            "OMP_NUM_THREADS": "1", "POWERTOOLS_SERVICE_NAME": "sluice",
            # the ML image and the job roles, as CDK sets them on train_model and validate_dataset
            ENV_JOB_IMAGE: f"{aws_events.ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{self.settings.prefix}-ml:local",
            ENV_JOB_ROLE_ARN: f"arn:aws:iam::{aws_events.ACCOUNT}:role/"
                              f"{self.settings.names.training_job_role('{model}')}",
            ENV_VALIDATION_ROLE_ARN: f"arn:aws:iam::{aws_events.ACCOUNT}:role/"
                                     f"{self.settings.names.validation_job_role}",
        }
        if self._endpoint_url:
            env["AWS_ENDPOINT_URL"] = self._endpoint_url
        if self._quiet:
            env.update(QUIET_ENV)
        return env

    # -- triggers ---------------------------------------------------------------------------------

    def drop(self, path: str | Path, model: str, *, name: str | None = None) -> str:
        """Upload a file under incoming/<model>/ (S3 then tells EventBridge)."""
        source = Path(path)
        key = f"incoming/{model}/{name or source.name}"
        self.clients.s3.put_object(Bucket=self.settings.data_bucket, Key=key, Body=source.read_bytes())
        self.record("drop", key, {"bytes": source.stat().st_size})
        return key

    def now(self) -> float:
        """The runtime's time (epoch seconds; advanced by ``advance``)."""
        return self._clock()

    def advance(self, minutes: float) -> float:
        """Let ``minutes`` pass for everything in this process (bake times without sleeping)."""
        if self._clock is not system_clock:
            raise RuntimeError("advance() needs the runtime's default clock")
        now = sluice_clock.advance(minutes * 60)
        self.record("clock", f"+{minutes:g} min", {})
        return now

    def fire_schedule(self, model: str, schedule: str = "retrain-schedule") -> list[Any]:
        """Fire a model's schedule (the route named ``schedule``) now: moto never fires schedules."""
        rule_arn = self.provisioned.schedules.get((schedule, model))
        if rule_arn is None:
            raise KeyError(f"{model} has no {schedule} in {self.config_path.name}")
        self.deliver_captures()
        event = aws_events.scheduled_event(rule_arn, region=REGION, now=self._clock())
        self.record("event", "Scheduled Event", {"rule": rule_arn.rsplit("/", 1)[-1]})
        return [self.invoke(route.function, event) for route in ROUTES if route.name == schedule]

    def fire_release_checks(self) -> list[Any]:
        """Fire the deployment-check schedule of every model with a release in progress or queued, or a version
        waiting for approval (the check retires it once expired). moto never fires schedules; `sluice local` calls
        this every minute, as the rate(1 minute) rule would."""
        from sluice.registry import DynamoDBRegistry, Status
        from sluice.wiring.routes import DEPLOYMENT_CHECK_KIND

        registry = DynamoDBRegistry(self.clients.dynamodb, self.settings.registry_table)
        results = []
        for (route, model), _ in sorted(self.provisioned.schedules.items()):
            if route != DEPLOYMENT_CHECK_KIND:
                continue
            waiting = any(v.status is Status.PENDING_APPROVAL for v in registry.list_versions(model))
            if registry.get_deployment(model) is not None or registry.queued_deployments(model) or waiting:
                results.extend(self.fire_schedule(model, route))
        return results

    def deliver_captures(self) -> int:
        """Do what Firehose does between the stream and S3: staged capture batches → partitioned Parquet."""
        store = ObjectStore(self.clients.s3, self.settings.data_bucket)
        return sum(deliver_staged(store, self.config.model(model)) for model in self.config.names)

    def set_alarm(self, model: str, kind: str = "errors", *, state: str = "ALARM",
                  reason: str = "Threshold Crossed: 1 datapoint was greater than or equal to the threshold") -> None:
        """Force an endpoint alarm into ``state`` and emit the state change EventBridge would (moto emits none)."""
        name = self.settings.names.endpoint_alarm(model, kind)
        (alarm,) = self.clients.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        set_state(self.clients, alarm, state, reason, now=self._clock())

    def evaluate_alarms(self) -> list[AlarmChange]:
        """Evaluate every alarm on the metrics recorded so far, as CloudWatch does each minute (moto never does);
        a change emits its state change event and notifies, as on AWS. `sluice local` calls it every minute."""
        changes = evaluate_alarms(self.clients, now=self._clock())
        for change in changes:
            self.record("alarm", change.name, {"state": change.state, "previous": change.previous,
                                                "reason": change.reason})
        return changes

    # -- dispatch ---------------------------------------------------------------------------------

    def invoke(self, function: str, event: dict[str, Any]) -> Any:
        """Run one handler in-process, as Lambda would, and record its outcome."""
        started = time.perf_counter()

        def progressed(kind: str, detail: dict[str, Any]) -> None:
            self.record("progress", kind, {"function": function, **detail})

        try:
            with progress.listening(progressed), self._identity(function) as identity:  # e.g. each trial, as it ends
                result = self._host.invoke(function, event, env=identity,
                                           init_env={**self._stage_env(), **self._function_env(function)})
        except Exception as error:
            self.record("error", function, {"error": f"{type(error).__name__}: {error}"})
            raise
        outcome = result if isinstance(result, dict) else {"result": result}
        self.record("invoke", function, {**outcome, "seconds": round(time.perf_counter() - started, 3)})
        return result

    def _function_env(self, function: str) -> dict[str, str]:
        """What CDK sets on this function beyond the shared settings: where it parks events it refuses, and
        score_batch's scoring state machine."""
        url = self.provisioned.dead_letter_queues.get(function)
        env = {ENV_DEAD_LETTER_QUEUE: url} if url else {}
        if function == "score_batch" and SCORE_PARTS.kind in self.provisioned.state_machines:
            env[STATE_MACHINE_ENV] = self.provisioned.state_machines[SCORE_PARTS.kind]
        return env

    # -- state machines ---------------------------------------------------------------------------

    def play_executions(self) -> int:
        """Play the executions started since the last call (moto stores them and runs no task): each Lambda task
        in its function; a Map's items at most MaxConcurrency at a time — in worker processes reaching the
        moto server when the runtime has one (``endpoint_url``), else in threads of this process (in-process moto
        cannot be reached from another process)."""
        if self._executions is None:
            player = ExecutionPlayer(self._invoke_task, self._run_items)
            self._executions = Executions(self.clients.stepfunctions, self.provisioned.state_machines, player,
                                          self._played)
        return self._executions.play_new()

    def _played(self, execution: str, output: Any, error: str | None) -> None:
        detail = {"execution": execution.rsplit(":", 1)[-1]}
        self.record("execution", execution.split(":")[-2], {**detail, "error": error} if error else
                    {**detail, "output": output})

    def _function_of(self, function_arn: str) -> str:
        name = function_arn.rsplit(":", 1)[-1]
        for spec in FUNCTIONS.values():
            if not spec.per_model and self.settings.names.shared_function(spec.name) == name:
                return spec.name
        raise KeyError(f"no function named {name}")

    def _invoke_task(self, function_arn: str, payload: Any) -> Any:
        function = self._function_of(function_arn)
        if not self._endpoint_url:
            return self.invoke(function, payload)
        key = environment_key(function, self.settings.names.shared_function(function), self._function_env(function))
        started = time.perf_counter()
        with self._task_pool().lease(key) as runner:
            invocation = runner.invoke(payload, now=self._clock(), function_name=key[1])
        if invocation.failure is not None:
            self.record("error", function, {"error": invocation.failure})
            raise TaskError(invocation.failure)
        self.record("invoke", function, {**(invocation.response if isinstance(invocation.response, dict) else {}),
                                         "seconds": round(time.perf_counter() - started, 3)})
        return invocation.response

    def _run_items(self, work: Callable[[Any], Any], items: list[Any], concurrency: int) -> list[Any]:
        if self._endpoint_url:
            self._task_capacity = max(self._task_capacity, concurrency)
        return threads(work, items, concurrency)

    def _task_pool(self) -> EnvironmentPool:
        """Worker processes of the state machines' tasks (at most the largest MaxConcurrency played)."""
        with self._pool_lock:
            if self._tasks is None or self._tasks_capacity != self._task_capacity:
                if self._tasks is not None:
                    self._tasks.close()
                self._tasks = EnvironmentPool(self._start_process, capacity=self._task_capacity)
                self._tasks_capacity = self._task_capacity
            return self._tasks

    def _stage_env(self) -> dict[str, str]:
        """This stack's own settings, for its functions' init: a second LocalCloud (another stage) started later
        on the same embedded AWS has rewritten the process's SLUICE_* variables."""
        return {**self.settings.to_env(), "SLUICE_CONFIG": str(self.config_path)}

    def run_until_idle(self, *, raise_errors: bool = True) -> int:
        """Deliver queued events to their functions until nothing is left; returns how many ran."""
        delivered = 0
        self.deliver_captures()
        for _ in range(MAX_DISPATCH_ROUNDS):
            moved = self._drain_observer()
            for route in ROUTES:
                url = self.provisioned.route_queues.get(route.name)
                if url is None:
                    continue
                if route.name in self.provisioned.buffered:
                    polled = self._poll_buffer(route.function, url, raise_errors=raise_errors)
                    moved, delivered = moved + polled, delivered + polled
                    continue
                for message in self._receive(url):
                    event = json.loads(message["Body"])
                    self.clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    moved += 1
                    delivered += 1
                    if event.get("source") != EVENT_SOURCE:
                        self.record("event", str(event.get("detail-type")), _aws_event_summary(event))
                    try:
                        self.invoke(route.function, event)
                    except Exception:
                        if raise_errors:
                            raise
                    finally:
                        moved += self._drain_observer()
            moved += len(self.play_training_jobs())
            if moved == 0 and self.play_executions() == 0:
                return delivered
        raise RuntimeError(f"events still flowing after {MAX_DISPATCH_ROUNDS} rounds")

    def play_training_jobs(self) -> list[PlayedJob]:
        """Run the SageMaker jobs (training, processing) started since the last call, as SageMaker would, each
        emitting its state change onto the default bus (the wiring's rule then delivers it)."""
        if self.jobs is None:
            return []
        played = self.jobs.play_pending()
        for job in played:
            self.record("job", job.name, {"kind": job.kind, "status": job.status, "seconds": job.seconds,
                                          "peak_rss_mb": job.peak_rss_mb, "failure_reason": job.failure_reason,
                                          "exit_message": job.exit_message})
        return played

    def _poll_buffer(self, function: str, url: str, *, raise_errors: bool) -> int:
        """Play Lambda's SQS event source mapping once: a batch to the function; delete what it processed, and
        make what it reported (``batchItemFailures``) or everything, if it raised, visible again at once (the
        queue's maxReceiveCount then moves a message that keeps failing to the dead-letter queue)."""
        messages: list[dict[str, Any]] = self.clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=BUFFER_BATCH_SIZE, WaitTimeSeconds=0,
            AttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        arn = self.clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        failed = {message["MessageId"] for message in messages}
        try:
            result = self.invoke(function, aws_events.sqs_batch_event(messages, queue_arn=arn, region=REGION))
            failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        except Exception:
            if raise_errors:
                raise
        finally:
            for message in messages:
                if message["MessageId"] in failed:
                    self.clients.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"],
                                                               VisibilityTimeout=0)
                else:
                    self.clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            self._drain_observer()
        return len(messages)

    def _drain_observer(self) -> int:
        seen = self._drain_notifications()
        for message in self._receive(self.provisioned.observer_queue):
            event = json.loads(message["Body"])
            self.clients.sqs.delete_message(QueueUrl=self.provisioned.observer_queue,
                                            ReceiptHandle=message["ReceiptHandle"])
            self.record("event", str(event.get("detail-type")), dict(event.get("detail") or {}))
            seen += 1
        return seen

    def _drain_notifications(self) -> int:
        url = self.provisioned.notifications_queue
        seen = 0
        for message in self._receive(url):
            self.clients.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            subject, detail = read_notification(message["Body"])
            self.record("notify", subject, detail)
            seen += 1
        return seen

    def _receive(self, url: str) -> list[dict[str, Any]]:
        if not url:
            return []
        messages: list[dict[str, Any]] = self.clients.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        return messages

    def record(self, kind: str, name: str, detail: dict[str, Any]) -> None:
        entry = TimelineEntry(at=self._clock(), kind=kind, name=name, detail=detail)
        self.timeline.append(entry)
        if self._on_record is not None:
            self._on_record(entry)

    # -- the endpoint -----------------------------------------------------------------------------

    def http(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
             query: str = "") -> EndpointResponse:
        """Serve one HTTP request as the model's Function URL on alias ``live`` would (safe to call from many
        threads: each concurrent request runs in its own execution environment, see ``local/environments.py``)."""
        model = _model_in_path(path)
        if model is None or model not in self.config.models:
            known = ", ".join(self.config.names)
            return EndpointResponse(404, {"error": f"no model at {path}; serving: {known}"}, "")
        function_name = self.settings.names.predict_function(model)
        alias = self.live_alias(function_name)
        version = "$LATEST" if alias is None else self.router.choose(alias)
        env = self._version_environment(function_name, version)
        pinned = PinnedModel.from_env(env)
        model_version = pinned.version if pinned else None
        event = aws_events.function_url_event(method, path, body, headers or {}, now=self._clock(), query=query)
        if self.meter.fails(model, model_version):
            invocation = Invocation(None, f"{InjectedFailureError.__name__}: {model} v{model_version}: failure "
                                          "injected by the meter", "", 0.0)
        else:
            try:
                with self._identity(f"predict:{model}") as identity:  # its own IAM user's key when enforced
                    invocation = self._invoke_endpoint(function_name, {**env, **identity}, event)
            except ThrottledError as throttled:
                record_throttle(self.clients.cloudwatch, function_name, at=self._clock())
                return EndpointResponse(429, {"error": str(throttled), "type": "TooManyRequestsException",
                                              "reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
                                        version)
            except Exception as error:  # the container's init failed (e.g. its model does not verify): a 502
                invocation = Invocation(None, f"{type(error).__name__}: {error}", "", 0.0)
        failed = invocation.failure is not None
        duration_ms = self.meter.duration_ms(model, model_version, invocation.duration_ms)
        self._play_cloudwatch(function_name, version, invocation.output, duration_ms, failed)
        if failed or not isinstance(invocation.response, dict):
            name = (invocation.failure or "InvalidResponse").split(":", 1)[0]
            return EndpointResponse(502, {"error": f"the function failed: {name}"}, version)
        return EndpointResponse(int(invocation.response["statusCode"]), json.loads(invocation.response["body"]),
                                version)

    def _invoke_endpoint(self, function_name: str, env: dict[str, str], event: dict[str, Any]) -> Invocation:
        """One request in an execution environment of the version (leased from the pool, started if none is
        idle); ``ThrottledError`` beyond the function's reserved concurrency."""
        key = environment_key("predict", function_name, env)
        with self._environment_pool().lease(key, reserved=self._reserved_concurrency(function_name)) as runner:
            return runner.invoke(event, now=self._clock(), function_name=function_name)

    @property
    def environments(self) -> EnvironmentPool:
        """The execution environments of the predict functions (started as requests need them)."""
        return self._environment_pool()

    def _environment_pool(self) -> EnvironmentPool:
        with self._pool_lock:
            if self._environments is None:
                if self._endpoint_url:  # every environment a worker process reaching the moto server
                    self._environments = EnvironmentPool(self._start_process, capacity=self._capacity)
                else:  # in-process moto: one environment per version, in this process
                    self._environments = EnvironmentPool(self._start_in_process, capacity=64, per_key=1)
            return self._environments

    def _start_process(self, key: EnvironmentKey) -> Environment:
        function, _, variables = key
        return ProcessEnvironment(function, {**self.environment(), **dict(variables)},
                                  functions_dir=self.functions_dir, timeout_s=FUNCTIONS[function].timeout_s)

    def _start_in_process(self, key: EnvironmentKey) -> Environment:
        function, _, variables = key
        return InProcessEnvironment(self._host, function, dict(variables))

    def _version_environment(self, function_name: str, version: str) -> dict[str, str]:
        """The environment variables of a version (a published version's never change: read once)."""
        cached = self._version_env.get((function_name, version))
        if cached is not None:
            return cached
        configuration = self.clients.awslambda.get_function_configuration(FunctionName=function_name,
                                                                           Qualifier=version)
        env = {**(configuration.get("Environment") or {}).get("Variables", {}), **PREDICT_ENV}
        if version != "$LATEST":
            self._version_env[(function_name, version)] = env
        return env

    def _reserved_concurrency(self, function_name: str) -> int | None:
        """The function's reserved concurrency (PutFunctionConcurrency), None when it has none: read per request,
        as Lambda applies it to the next invocation."""
        value = self.clients.awslambda.get_function_concurrency(FunctionName=function_name).get(
            "ReservedConcurrentExecutions")
        return None if value is None else int(value)

    def live_alias(self, function_name: str) -> dict[str, Any] | None:
        """Alias ``live`` of a predict function as GetAlias returns it (None before it exists)."""
        try:
            alias: dict[str, Any] = self.clients.awslambda.get_alias(FunctionName=function_name, Name=LIVE_ALIAS)
        except self.clients.awslambda.exceptions.ResourceNotFoundException:
            return None
        return alias

    def _play_cloudwatch(self, function_name: str, version: str, output: str, duration_ms: float,
                         error: bool) -> None:
        """Lambda's per-version metrics and the EMF in the function's output, as AWS would record them."""
        now = self._clock()
        if version != "$LATEST":
            record_invocation(self.clients.cloudwatch, function_name, version, duration_ms=duration_ms, error=error,
                              at=now)
        for line in ingest_emf(self.clients.cloudwatch, output, at=now):
            print(line, file=sys.stdout)

    def predict(self, model: str, instances: list[dict[str, Any]]) -> EndpointResponse:
        body = json.dumps({"instances": instances}).encode()
        return self.http("POST", f"/v1/models/{model}:predict", body, {"Content-Type": "application/json"})

    # -- helpers ----------------------------------------------------------------------------------

    def _discover(self) -> Provisioned:
        """Find resources provisioned by another process (e.g. `sluice local`)."""
        found = Provisioned()
        found.buffered = set(buffered_routes(self.config))
        for route in routes_in_use(self.config):
            if isinstance(route.trigger, ScheduleTrigger):
                continue
            name = (buffer_queue_name if route.name in found.buffered else route_queue_name)(self.settings, route)
            found.route_queues[route.name] = self.clients.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        found.dead_letter_queues = {function: self.clients.sqs.get_queue_url(
            QueueName=dead_letter_queue_name(self.settings, function))["QueueUrl"]
            for function in dead_letter_functions()}
        found.observer_queue = self.clients.sqs.get_queue_url(QueueName=observer_queue_name(self.settings))["QueueUrl"]
        found.notifications_queue = notification_queue_url(self.clients, self.settings)
        machines = {machine["name"]: machine["stateMachineArn"]
                    for machine in self.clients.stepfunctions.list_state_machines()["stateMachines"]}
        found.state_machines = {kind: machines[self.settings.names.state_machine(kind)] for kind in STATE_MACHINES
                                if self.settings.names.state_machine(kind) in machines}
        for route in ROUTES:
            if not isinstance(route.trigger, ScheduleTrigger):
                continue
            for model in self.config.names:
                try:
                    rule = self.clients.events.describe_rule(Name=route.trigger.rule_name(self.settings.names, model))
                except self.clients.events.exceptions.ResourceNotFoundException:
                    continue
                found.schedules[(route.name, model)] = rule["Arn"]
                if route.name == "retrain-schedule":
                    found.schedule_rules[model] = rule["Arn"]
        return found


def _clients() -> SimpleNamespace:
    return SimpleNamespace(
        s3=boto3.client("s3", region_name=REGION), dynamodb=boto3.client("dynamodb", region_name=REGION),
        events=boto3.client("events", region_name=REGION), sqs=boto3.client("sqs", region_name=REGION),
        iam=boto3.client("iam", region_name=REGION), awslambda=boto3.client("lambda", region_name=REGION),
        cloudwatch=boto3.client("cloudwatch", region_name=REGION), sns=boto3.client("sns", region_name=REGION),
        firehose=boto3.client("firehose", region_name=REGION), glue=boto3.client("glue", region_name=REGION),
        stepfunctions=boto3.client("stepfunctions", region_name=REGION),
        sagemaker=boto3.client("sagemaker", region_name=REGION),
    )


def _aws_event_summary(event: dict[str, Any]) -> dict[str, Any]:
    detail = event.get("detail") or {}
    if "object" in detail:
        return {"key": detail["object"].get("key"), "bucket": (detail.get("bucket") or {}).get("name")}
    if "alarmName" in detail:
        return {"alarm": detail["alarmName"], "state": (detail.get("state") or {}).get("value")}
    return {"resources": event.get("resources", [])}


def _model_in_path(path: str) -> str | None:
    parts = path.strip("/").split("/")
    if len(parts) != 3 or parts[0] != "v1" or parts[1] != "models":
        return None
    return parts[2].split(":", 1)[0] or None
