"""SageMaker training jobs on the local stack: moto records CreateTrainingJob; this module plays the job as
SageMaker runs it and emits the state change SageMaker would.

Playing a job (AWS: "How Amazon SageMaker AI Runs Your Training Image", "Events that Amazon SageMaker AI sends
to Amazon EventBridge"):
- ``/opt/ml`` is a temporary folder (``SLUICE_SAGEMAKER_ROOT``): ``input/config/hyperparameters.json`` holds the
  job's hyperparameters, each channel's objects are downloaded under ``input/data/<channel>/`` (the channel's S3
  prefix stripped);
- the container's entrypoint (``ContainerEntrypoint``: ``python3 -m sluice.jobs.train``) runs in a subprocess with
  this interpreter, one native thread (OMP_NUM_THREADS=1) and no AWS credentials (the job reads only files), stopped
  at ``MaxRuntimeInSeconds`` (status Stopped, secondary status MaxRuntimeExceeded);
- exit 0: ``model/`` is uploaded as ``<S3OutputPath>/<job>/output/model.tar.gz`` and the job is Completed; else it
  is Failed with ``AlgorithmError: <output/failure>`` as its FailureReason;
- DescribeTrainingJob then answers the played status, and "SageMaker Training Job State Change" (the detail shaped as
  DescribeTrainingJob's answer, times in epoch milliseconds) goes onto the default bus, where the wiring's rule
  routes it.

moto 5 marks a job Completed at once and replaces a job created twice under one name; ``install_training_jobs``
makes it answer as SageMaker does: a new job is InProgress, and a second CreateTrainingJob of a name is refused
with ResourceInUse.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sluice.events.sources import TRAINING_JOB_STATE_CHANGE

ENTRYPOINT_MODULE = "sluice.jobs.train"
POLL_S = 0.05


@dataclass(frozen=True)
class PlayedJob:
    """One training job as the local runtime ran it."""

    name: str
    arn: str
    status: str  # Completed | Failed | Stopped
    failure_reason: str
    seconds: float
    peak_rss_mb: float  # of the job's process (getrusage ru_maxrss of that child)
    output: str  # the entrypoint's stdout and stderr (the job's CloudWatch log)


def install_training_jobs() -> None:
    """moto's CreateTrainingJob as SageMaker answers it: InProgress, and a name used twice refused."""
    from moto.sagemaker import models
    from moto.sagemaker.exceptions import ResourceInUseException

    original = models.SageMakerModelBackend.create_training_job
    if getattr(original, "_sluice_jobs", False):
        return

    def create_training_job(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        if training_job_name in self.training_jobs:
            raise ResourceInUseException(f"Training job names must be unique within an AWS account and region, and "
                                         f"a training job with this name already exists ({training_job_name})")
        job: Any = original(self, training_job_name, *args, **kwargs)
        job.training_job_status, job.secondary_status = "InProgress", "Starting"
        job.training_end_time = None
        return job

    create_training_job._sluice_jobs = True  # type: ignore[attr-defined]
    models.SageMakerModelBackend.create_training_job = create_training_job  # type: ignore[method-assign]


class TrainingJobPlayer:
    """Plays the training jobs of one deployment (names ``job_prefix``) that have not been played yet."""

    def __init__(self, clients: Any, *, job_prefix: str, config_path: Path, region: str) -> None:
        self._clients = clients
        self._prefix = job_prefix
        self._config_path = config_path
        self._region = region
        self.played: dict[str, PlayedJob] = {}

    def pending(self) -> list[str]:
        """Jobs of this deployment not played yet, oldest first."""
        pages = self._clients.sagemaker.get_paginator("list_training_jobs").paginate(
            NameContains=self._prefix, SortBy="CreationTime", SortOrder="Ascending")
        return [job["TrainingJobName"] for page in pages for job in page["TrainingJobSummaries"]
                if job["TrainingJobName"].startswith(self._prefix) and job["TrainingJobName"] not in self.played]

    def play_pending(self) -> list[PlayedJob]:
        return [self.play(name) for name in self.pending()]

    def play(self, name: str) -> PlayedJob:
        """Run the job, store its output, settle its status and emit its state change."""
        job = self._clients.sagemaker.describe_training_job(TrainingJobName=name)
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="sluice-job-") as folder:
            root = Path(folder)
            self._stage_inputs(job, root)
            code, peak_kb, output = self._run(root, timeout_s=job["StoppingCondition"]["MaxRuntimeInSeconds"])
            if code == 0:
                status, secondary, reason = "Completed", "Completed", ""
                self._upload_model(job, root / "model")
            elif code is None:
                status, secondary, reason = "Stopped", "MaxRuntimeExceeded", ""
            else:
                failure = root / "output/failure"
                detail = failure.read_text().strip() if failure.is_file() else f"exit code {code}"
                status, secondary, reason = "Failed", "Failed", f"AlgorithmError: {detail}"[:1024]
        ended = time.time()
        played = PlayedJob(name=name, arn=job["TrainingJobArn"], status=status, failure_reason=reason,
                           seconds=round(ended - started, 3), peak_rss_mb=round(peak_kb / 1024, 1), output=output)
        self.played[name] = played
        self._settle(name, status, secondary, reason, started, ended)
        self._emit(job, played, secondary, started, ended)
        return played

    def _stage_inputs(self, job: dict[str, Any], root: Path) -> None:
        config = root / "input/config"
        config.mkdir(parents=True)
        (config / "hyperparameters.json").write_text(json.dumps(job.get("HyperParameters") or {}))
        (config / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
        for channel in job.get("InputDataConfig") or []:
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            target = root / "input/data" / channel["ChannelName"]
            target.mkdir(parents=True)
            pages = self._clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    relative = item["Key"][len(prefix):].lstrip("/")
                    if relative:
                        destination = target / relative
                        destination.parent.mkdir(parents=True, exist_ok=True)
                        self._clients.s3.download_file(bucket, item["Key"], str(destination))
        (root / "model").mkdir()
        (root / "output").mkdir()

    def _run(self, root: Path, *, timeout_s: float) -> tuple[int | None, int, str]:
        """(exit code or None when stopped at the time limit, peak RSS in KiB, output) of the entrypoint."""
        import sluice

        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update({"SLUICE_SAGEMAKER_ROOT": str(root), "SLUICE_CONFIG": str(self._config_path),
                    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "PYTHONPATH": os.pathsep.join(filter(None, (str(Path(sluice.__file__).parents[1]),
                                                                env.get("PYTHONPATH"))))})
        log = root / "job.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", ENTRYPOINT_MODULE], env=env, stdout=sink,
                                       stderr=subprocess.STDOUT, cwd=root)
            code, usage = _wait(process, timeout_s)
        return code, usage.ru_maxrss, log.read_text(errors="replace")[-20_000:]

    def _upload_model(self, job: dict[str, Any], model_dir: Path) -> None:
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted(model_dir.rglob("*")):
                if path.is_file():
                    tar.add(path, arcname=str(path.relative_to(model_dir)))
        bucket, key = _split_uri(job["ModelArtifacts"]["S3ModelArtifacts"]
                                 if job.get("ModelArtifacts") else "")
        if not key:
            bucket, _, prefix = job["OutputDataConfig"]["S3OutputPath"].removeprefix("s3://").partition("/")
            key = f"{prefix.rstrip('/')}/{job['TrainingJobName']}/output/model.tar.gz"
        self._clients.s3.put_object(Bucket=bucket, Key=key, Body=archive.getvalue())

    def _settle(self, name: str, status: str, secondary: str, reason: str, started: float, ended: float) -> None:
        """What DescribeTrainingJob answers after the run (moto in this process; a moto server keeps its own)."""
        try:
            from moto.sagemaker.models import sagemaker_backends
        except ImportError:
            return
        for account in sagemaker_backends.values():
            backend = account.get(self._region) if hasattr(account, "get") else None
            fake: Any = None if backend is None else backend.training_jobs.get(name)
            if fake is None:
                continue
            fake.training_job_status, fake.secondary_status = status, secondary
            fake.training_start_time = datetime.fromtimestamp(started).astimezone()
            fake.training_end_time = datetime.fromtimestamp(ended).astimezone()
            fake.billable_time_in_seconds = max(1, round(ended - started))
            if reason:
                fake.failure_reason = reason

    def _emit(self, job: dict[str, Any], played: PlayedJob, secondary: str, started: float, ended: float) -> None:
        detail = {key: _epoch_ms(value) for key, value in job.items() if key != "ResponseMetadata"}
        detail.update({"TrainingJobStatus": played.status, "SecondaryStatus": secondary,
                       "TrainingStartTime": int(started * 1000), "TrainingEndTime": int(ended * 1000),
                       "LastModifiedTime": int(ended * 1000), "BillableTimeInSeconds": max(1, round(ended - started))})
        if played.failure_reason:
            detail["FailureReason"] = played.failure_reason
        self._clients.events.put_events(Entries=[{
            "Source": "aws.sagemaker", "DetailType": TRAINING_JOB_STATE_CHANGE, "Resources": [played.arn],
            "Detail": json.dumps(detail, default=str),
        }])


def _wait(process: subprocess.Popen[bytes], timeout_s: float) -> tuple[int | None, Any]:
    """Reap ``process`` with its own resource usage (``wait4``); kill it at ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return process.returncode, usage
        if time.monotonic() > deadline:
            process.kill()
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            return None, usage
        time.sleep(POLL_S)


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _epoch_ms(value: Any) -> Any:
    """Times as EventBridge's SageMaker events carry them: epoch milliseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {key: _epoch_ms(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_ms(item) for item in value]
    return value
