"""SageMaker jobs on the local stack: moto records CreateTrainingJob and CreateProcessingJob; this module plays each
job as SageMaker runs it and emits the state change SageMaker would.

Playing a job (AWS: "How Amazon SageMaker AI Runs Your Training Image", "How Amazon SageMaker Processing Runs Your
Processing Container Image", "Events that Amazon SageMaker AI sends to Amazon EventBridge"):
- ``/opt/ml`` is a temporary folder (``SLUICE_SAGEMAKER_ROOT``). A training job finds its hyperparameters at
  ``input/config/hyperparameters.json`` and each channel's objects under ``input/data/<channel>/`` (the channel's
  S3 prefix stripped); a processing job finds each input's objects under its ``LocalPath``
  (``/opt/ml/processing/input/<name>``, the prefix stripped up to its last ``/``);
- the container's entrypoint (``ContainerEntrypoint``, its ``python3`` this interpreter, then a processing job's
  ``ContainerArguments``) runs in a subprocess with one native thread (OMP_NUM_THREADS=1) and no AWS credentials
  (the job reads and writes only files), stopped at ``MaxRuntimeInSeconds`` (status Stopped);
- exit 0: a training job's ``model/`` is uploaded as ``<S3OutputPath>/<job>/output/model.tar.gz``, a processing
  job's output folders (``/opt/ml/processing/output/<name>``) to their ``S3Uri``, and the job is Completed; else it
  is Failed: a training job with ``AlgorithmError: <output/failure>`` as its FailureReason, a processing job with
  ``AlgorithmError: See job logs for more information`` and the first 1 KB of ``output/message`` as its
  ExitMessage;
- Describe*Job then answers the played status, and "SageMaker Training/Processing Job State Change" (the detail
  shaped as Describe*Job's answer, times in epoch milliseconds) goes onto the default bus, where the wiring's rule
  routes it.

moto 5 marks a job Completed at once and replaces a job created twice under one name; ``install_sagemaker_jobs``
makes it answer as SageMaker does: a new job is InProgress, and a second Create*Job of a name is refused with
ResourceInUse.
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sluice.events.sources import PROCESSING_JOB_STATE_CHANGE, TRAINING_JOB_STATE_CHANGE

POLL_S = 0.05
OPT_ML = "/opt/ml"
MAX_MESSAGE_CHARS = 1024
PROCESSING_FAILURE = "AlgorithmError: See job logs for more information"


@dataclass(frozen=True)
class PlayedJob:
    """One SageMaker job as the local runtime ran it."""

    name: str
    arn: str
    status: str  # Completed | Failed | Stopped
    failure_reason: str
    seconds: float
    peak_rss_mb: float  # of the job's process alone (its ru_maxrss, spawned through own_peak.py)
    output: str  # the entrypoint's stdout and stderr (the job's CloudWatch log)
    kind: str = "Training"  # Training | Processing
    exit_message: str = ""


@dataclass(frozen=True)
class Ending:
    """How a played job ended, as Describe*Job reports it."""

    status: str
    secondary: str
    reason: str
    message: str = ""


def install_sagemaker_jobs() -> None:
    """moto's CreateTrainingJob and CreateProcessingJob as SageMaker answers them: InProgress, and a name used
    twice refused."""
    from moto.sagemaker import models

    _install(models.SageMakerModelBackend, "create_training_job", "training_jobs", "training_job_status",
             "training_end_time", "Training")
    _install(models.SageMakerModelBackend, "create_processing_job", "processing_jobs", "processing_job_status",
             "processing_end_time", "Processing")


def _install(backend: Any, method: str, jobs: str, status: str, end: str, kind: str) -> None:
    from moto.sagemaker.exceptions import ResourceInUseException

    original = getattr(backend, method)
    if getattr(original, "_sluice_jobs", False):
        return

    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get(f"{kind.lower()}_job_name", args[0] if args and kind == "Training" else None)
        if name in getattr(self, jobs):
            raise ResourceInUseException(f"{kind} job names must be unique within an AWS account and region, and a "
                                         f"{kind.lower()} job with this name already exists ({name})")
        job: Any = original(self, *args, **kwargs)
        setattr(job, status, "InProgress")
        setattr(job, end, None)
        if kind == "Training":
            job.secondary_status = "Starting"
        return job

    create._sluice_jobs = True  # type: ignore[attr-defined]
    setattr(backend, method, create)


class SageMakerJobPlayer:
    """Plays the jobs of one deployment (training names ``train_prefix``, processing ``processing_prefix``) that
    have not been played yet."""

    def __init__(self, clients: Any, *, train_prefix: str, processing_prefix: str, config_path: Path,
                 region: str) -> None:
        self._clients = clients
        self._prefixes = {"Training": train_prefix, "Processing": processing_prefix}
        self._config_path = config_path
        self._region = region
        self.played: dict[str, PlayedJob] = {}

    def pending(self) -> list[tuple[str, str]]:
        """(kind, name) of the jobs of this deployment not played yet, oldest first per kind."""
        found = []
        for kind, prefix in self._prefixes.items():
            operation = f"list_{kind.lower()}_jobs"
            arguments = {"NameContains": prefix}
            if kind == "Training":
                arguments.update(SortBy="CreationTime", SortOrder="Ascending")
            pages = self._clients.sagemaker.get_paginator(operation).paginate(**arguments)
            found += [(kind, job[f"{kind}JobName"]) for page in pages for job in page[f"{kind}JobSummaries"]
                      if job[f"{kind}JobName"].startswith(prefix) and job[f"{kind}JobName"] not in self.played]
        return found

    def play_pending(self) -> list[PlayedJob]:
        return [self.play(name, kind) for kind, name in self.pending()]

    def play(self, name: str, kind: str = "Training") -> PlayedJob:
        """Run the job, store its output, settle its status and emit its state change."""
        sagemaker = self._clients.sagemaker
        job = (sagemaker.describe_training_job(TrainingJobName=name) if kind == "Training"
               else sagemaker.describe_processing_job(ProcessingJobName=name))
        started = time.time()
        with tempfile.TemporaryDirectory(prefix="sluice-job-") as folder:
            root = Path(folder)
            if kind == "Training":
                self._stage_training(job, root)
                command = list(job["AlgorithmSpecification"]["ContainerEntrypoint"])
            else:
                self._stage_processing(job, root)
                app = job["AppSpecification"]
                command = list(app["ContainerEntrypoint"]) + list(app.get("ContainerArguments") or [])
            limit = (job.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds", 86_400)
            code, peak_kb, output = self._run(root, command, timeout_s=limit)
            ending = self._ending(kind, code, root)
            if ending.status == "Completed":
                self._upload(kind, job, root)
        ended = time.time()
        played = PlayedJob(name=name, arn=job[f"{kind}JobArn"], status=ending.status, failure_reason=ending.reason,
                           seconds=round(ended - started, 3), peak_rss_mb=round(peak_kb / 1024, 1), output=output,
                           kind=kind, exit_message=ending.message)
        self.played[name] = played
        self._settle(kind, name, ending, started, ended)
        self._emit(kind, job, played, ending, started, ended)
        return played

    @staticmethod
    def _ending(kind: str, code: int | None, root: Path) -> Ending:
        if code is None:
            return Ending("Stopped", "MaxRuntimeExceeded", "")
        if kind == "Processing":
            message = root / "output/message"
            text = message.read_text(errors="replace")[:MAX_MESSAGE_CHARS] if message.is_file() else ""
            return Ending("Completed", "", "", text) if code == 0 else Ending("Failed", "", PROCESSING_FAILURE, text)
        if code == 0:
            return Ending("Completed", "Completed", "")
        failure = root / "output/failure"
        detail = failure.read_text().strip() if failure.is_file() else f"exit code {code}"
        return Ending("Failed", "Failed", f"AlgorithmError: {detail}"[:MAX_MESSAGE_CHARS])

    def _stage_training(self, job: dict[str, Any], root: Path) -> None:
        config = root / "input/config"
        config.mkdir(parents=True)
        (config / "hyperparameters.json").write_text(json.dumps(job.get("HyperParameters") or {}))
        (config / "resourceconfig.json").write_text(json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}))
        for channel in job.get("InputDataConfig") or []:
            uri = channel["DataSource"]["S3DataSource"]["S3Uri"]
            bucket, _, prefix = uri.removeprefix("s3://").partition("/")
            self._download(bucket, prefix, prefix, root / "input/data" / channel["ChannelName"])
        (root / "model").mkdir()
        (root / "output").mkdir()

    def _stage_processing(self, job: dict[str, Any], root: Path) -> None:
        for item in job.get("ProcessingInputs") or []:
            source = item["S3Input"]
            bucket, _, prefix = source["S3Uri"].removeprefix("s3://").partition("/")
            self._download(bucket, prefix, prefix[:prefix.rfind("/") + 1], _mapped(root, source["LocalPath"]))
        for output in (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            _mapped(root, output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        (root / "output").mkdir(exist_ok=True)

    def _download(self, bucket: str, prefix: str, strip: str, target: Path) -> None:
        """Every object under ``prefix`` into ``target``, its key less ``strip``."""
        target.mkdir(parents=True, exist_ok=True)
        for page in self._clients.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(strip):].lstrip("/")
                if relative:
                    destination = target / relative
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    self._clients.s3.download_file(bucket, item["Key"], str(destination))

    def _run(self, root: Path, command: Sequence[str], *, timeout_s: float) -> tuple[int | None, int, str]:
        """(exit code or None when stopped at the time limit, peak RSS in KiB, output) of the entrypoint."""
        import sluice

        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env.update({"SLUICE_SAGEMAKER_ROOT": str(root), "SLUICE_CONFIG": str(self._config_path),
                    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                    "PYTHONPATH": os.pathsep.join(filter(None, (str(Path(sluice.__file__).parents[1]),
                                                                env.get("PYTHONPATH"))))})
        argv = [sys.executable if index == 0 and part.startswith("python") else part
                for index, part in enumerate(command)]
        log, peak = root / "job.log", root / ".peak_rss_kb"
        with log.open("wb") as sink:  # through own_peak.py: this process's peak is not the job's (see there)
            process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("own_peak.py")), str(peak), *argv],
                                       env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=root)
            code, usage = _wait(process, timeout_s)
        peak_kb = int(peak.read_text()) if peak.is_file() else usage.ru_maxrss  # stopped: the launcher's own
        return code, peak_kb, log.read_text(errors="replace")[-20_000:]

    def _upload(self, kind: str, job: dict[str, Any], root: Path) -> None:
        if kind == "Training":
            self._upload_model(job, root / "model")
            return
        for output in (job.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
            local = _mapped(root, output["S3Output"]["LocalPath"])
            bucket, key = _split_uri(output["S3Output"]["S3Uri"])
            for path in sorted(local.rglob("*")):
                if path.is_file():
                    self._clients.s3.upload_file(str(path), bucket,
                                                 f"{key.rstrip('/')}/{path.relative_to(local).as_posix()}")

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

    def _settle(self, kind: str, name: str, ending: Ending, started: float, ended: float) -> None:
        """What Describe*Job answers after the run (moto in this process; a moto server keeps its own)."""
        try:
            from moto.sagemaker.models import sagemaker_backends
        except ImportError:
            return
        for account in sagemaker_backends.values():
            backend = account.get(self._region) if hasattr(account, "get") else None
            jobs = {} if backend is None else getattr(backend, f"{kind.lower()}_jobs")
            fake: Any = jobs.get(name)
            if fake is None:
                continue
            stem = kind.lower()
            setattr(fake, f"{stem}_job_status", ending.status)
            setattr(fake, f"{stem}_start_time", datetime.fromtimestamp(started).astimezone())
            setattr(fake, f"{stem}_end_time", datetime.fromtimestamp(ended).astimezone())
            fake.last_modified_time = datetime.fromtimestamp(ended).astimezone()
            if kind == "Training":
                fake.secondary_status = ending.secondary
                fake.billable_time_in_seconds = max(1, round(ended - started))
            if ending.reason:
                fake.failure_reason = ending.reason
            if ending.message:
                fake.exit_message = ending.message

    def _emit(self, kind: str, job: dict[str, Any], played: PlayedJob, ending: Ending, started: float,
              ended: float) -> None:
        detail = {key: _epoch_ms(value) for key, value in job.items() if key != "ResponseMetadata"}
        detail.update({f"{kind}JobStatus": played.status, f"{kind}StartTime": int(started * 1000),
                       f"{kind}EndTime": int(ended * 1000), "LastModifiedTime": int(ended * 1000)})
        if kind == "Training":
            detail.update({"SecondaryStatus": ending.secondary,
                           "BillableTimeInSeconds": max(1, round(ended - started))})
        if ending.reason:
            detail["FailureReason"] = ending.reason
        if ending.message:
            detail["ExitMessage"] = ending.message
        detail_type = TRAINING_JOB_STATE_CHANGE if kind == "Training" else PROCESSING_JOB_STATE_CHANGE
        self._clients.events.put_events(Entries=[{
            "Source": "aws.sagemaker", "DetailType": detail_type, "Resources": [played.arn],
            "Detail": json.dumps(detail, default=str),
        }])


def _mapped(root: Path, path: str) -> Path:
    """A path of the job's container (under /opt/ml) in the played job's folder."""
    return root / Path(path).relative_to(OPT_ML)


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
