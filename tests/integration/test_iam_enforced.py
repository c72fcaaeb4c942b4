"""The lifecycle with least privilege exercised: every function runs with only its role's statements from the
synthesized template (``LocalCloud(iam_template=...)``: moto's IAM authorization plus sluice's evaluator of
resources and conditions), so a missing action fails here with AccessDenied rather than on AWS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sluice.config import load_config
from sluice.demo import samples
from sluice.demo.monitoring_story import drifted_traffic, feedback_csv
from sluice.local import LocalCloud, ScriptedMeter
from sluice.local.iam import MISSING_KEY
from sluice.registry import DynamoDBRegistry, Status
from tests.conftest import REPO, load_event
from tests.infra.synthesized import dev_template, without_action
from tests.reliability.harness import fast_config

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


@pytest.fixture
def enforced(tmp_path: Path) -> Iterator[Any]:
    """A local stack on the fast configuration whose functions hold exactly their roles' policies."""

    def start(template: dict[str, Any] | None = None, *, extra_config: str = "") -> LocalCloud:
        config = fast_config(tmp_path / "sluice.toml")
        config.write_text(config.read_text() + extra_config)
        cloud = LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter(),
                           iam_template=template or dev_template())
        started.append(cloud.start())
        return cloud

    started: list[LocalCloud] = []
    yield start
    for cloud in started:
        cloud.stop()


def _events(cloud: LocalCloud, detail_type: str) -> list[dict[str, Any]]:
    return [e.detail for e in cloud.timeline if e.kind == "event" and e.name == detail_type]


def _errors(cloud: LocalCloud) -> list[str]:
    return [f"{e.name}: {e.detail['error']}" for e in cloud.timeline if e.kind == "error"]


def _rows(source: Path, rows: int, target: Path) -> Path:
    target.write_text("".join(source.read_text().splitlines(keepends=True)[: rows + 1]))
    return target


def _object_created(cloud: LocalCloud, key: str) -> dict[str, Any]:
    head = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)
    sample = load_event("s3_object_created.json")
    sample["detail"]["bucket"]["name"] = cloud.settings.data_bucket
    sample["detail"]["object"].update({"key": key, "etag": head["ETag"].strip('"'), "size": head["ContentLength"],
                                       "version-id": head.get("VersionId")})
    return sample


def test_the_whole_lifecycle_runs_on_least_privilege(enforced: Any, tmp_path: Path) -> None:
    # GIVEN a local stack where each function signs with its own IAM user, holding only its role's statements
    cloud = enforced()
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    # WHEN a dataset is dropped (validate → train → evaluate → deploy)
    cloud.drop(_rows(samples.BREAST_CANCER, 450, tmp_path / "early.csv"), MODEL)
    cloud.run_until_idle()
    # THEN version 1 is live
    assert registry.get_alias(MODEL, "live").version == 1, _errors(cloud)  # type: ignore[union-attr]
    # WHEN traffic is served and captured (predict), labelled (record_feedback) and checked for drift (detect_drift)
    served = drifted_traffic(cloud)
    contract = load_config(cloud.config_path).model(MODEL).contract
    ranges = {s.name: (s.min, s.max) for s in contract.columns if s.type in ("float", "int")}
    lines = feedback_csv(served).decode().splitlines()
    inside = [all((lo is None or row[k] >= lo) and (hi is None or row[k] <= hi) for k, (lo, hi) in ranges.items()
                  if k in row) for _, rows, _ in served for row in rows]
    labels = [lines[0]] + [line for line, keep in zip(lines[1:], inside, strict=True) if keep]
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"feedback/{MODEL}/day-1.csv",
                                Body="\n".join(labels).encode() + b"\n")
    cloud.run_until_idle()
    (drift,) = cloud.fire_schedule(MODEL, "drift-schedule")
    cloud.run_until_idle()
    # THEN each ran to its outcome
    assert len(_events(cloud, "LiveQualityMeasured")) == 1
    assert drift["outcome"] == "drift_detected", drift
    # WHEN the grown dataset arrives (a canary release of version 2), bakes, and is promoted by the check
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    assert registry.get_version(MODEL, 2).status is Status.CANARY, registry.get_version(MODEL, 2).gate_reasons
    features, _ = samples.instances(samples.BREAST_CANCER, "diagnosis", 5, start=100)
    for _ in range(200):
        assert cloud.predict(MODEL, features).status == 200
    cloud.advance(cloud.config.model(MODEL).deployment.bake_minutes)
    cloud.fire_schedule(MODEL, "deployment-check")
    cloud.run_until_idle()
    assert registry.get_alias(MODEL, "live").version == 2, (_errors(cloud), registry.get_deployment(MODEL))
    # AND the error alarm fires (rollback_model)
    cloud.set_alarm(MODEL, "errors")
    cloud.run_until_idle()
    # THEN version 1 is live again
    assert registry.get_alias(MODEL, "live").version == 1  # type: ignore[union-attr]
    assert len(_events(cloud, "ModelRolledBack")) == 1
    # AND no function failed, and the only refusals were S3's 403 for keys that did not exist yet (settled as
    # missing by ObjectStore.exists), never a missing grant
    assert _errors(cloud) == []
    assert cloud.iam is not None
    assert {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}, cloud.iam.denials
    # AND every function was exercised under its own identity
    principals = {check.principal for check in cloud.iam.checks}
    assert principals == {"validate_dataset", "train_model", "evaluate_model", "deploy_model", "rollback_model",
                          "detect_drift", "record_feedback", f"predict:{MODEL}"}


def test_the_approval_gate_runs_on_least_privilege(enforced: Any, tmp_path: Path) -> None:
    # GIVEN a stack on least privilege where diabetes waits for manual approvals (expiring after an hour)
    cloud = enforced(extra_config='\n[models.diabetes.deployment]\napproval = "manual"\n'
                                  'approval_expires_after_hours = 1\n')
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    # WHEN v1 passes the gate (deploy_model asks for approval) and nobody decides within the hour
    cloud.drop(_rows(samples.DIABETES, 300, tmp_path / "first.csv"), "diabetes")
    cloud.run_until_idle()
    assert registry.get_version("diabetes", 1).status is Status.PENDING_APPROVAL, _errors(cloud)
    cloud.advance(61)
    cloud.fire_release_checks()
    cloud.run_until_idle()
    # AND v2 passes the gate and an ApprovalDecided event approves it
    cloud.drop(_rows(samples.DIABETES, 350, tmp_path / "second.csv"), "diabetes")
    cloud.run_until_idle()
    assert registry.get_version("diabetes", 2).status is Status.PENDING_APPROVAL, _errors(cloud)
    cloud.clients.events.put_events(Entries=[{
        "Source": "sluice", "DetailType": "ApprovalDecided", "EventBusName": cloud.settings.event_bus,
        "Detail": '{"model": "diabetes", "version": 2, "decision": "approve", "reason": "ok", "actor": "ana", '
                  '"correlation_id": "iam-approval-2"}'}])
    cloud.run_until_idle()
    # THEN v1 was retired by the deployment check and v2 went live, no function failing and no grant missing
    assert registry.get_version("diabetes", 1).status is Status.RETIRED
    assert registry.get_alias("diabetes", "live").version == 2  # type: ignore[union-attr]
    assert _errors(cloud) == []
    assert cloud.iam is not None
    assert {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}, cloud.iam.denials
    assert "deploy_model" in {check.principal for check in cloud.iam.checks}
SAGEMAKER = f"\n[models.{MODEL}.training.sagemaker]\nauto_above_cells = 1000\n"  # the 569 x 31 drop trains there


def test_a_training_job_is_started_on_least_privilege(enforced: Any) -> None:
    # GIVEN breast-cancer's training on SageMaker (backend "auto" in sluice.toml, its threshold below the drop)
    cloud = enforced(extra_config=SAGEMAKER)
    # WHEN a dataset is dropped
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle()
    # THEN train_model started the job (CreateTrainingJob and AddTags on the job, PassRole of the model's job role to
    # SageMaker), its end made version 1 live, and nothing was refused
    assert cloud.iam is not None
    actions = {(str(check.request.action), check.request.resource) for check in cloud.iam.checks
               if check.principal == "train_model" and check.request.action.startswith(("sagemaker:", "iam:"))}
    assert {action for action, _ in actions} == {"sagemaker:CreateTrainingJob", "sagemaker:AddTags", "iam:PassRole"}
    assert ("iam:PassRole", f"arn:aws:iam::123456789012:role/sluice-{MODEL}-train-job") in actions
    assert [entry.detail["status"] for entry in cloud.timeline if entry.kind == "job"] == ["Completed"]
    registry = DynamoDBRegistry(cloud.clients.dynamodb, cloud.settings.registry_table)
    assert registry.get_alias(MODEL, "live").version == 1, _errors(cloud)  # type: ignore[union-attr]
    assert _errors(cloud) == [] and {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}


def test_train_model_without_pass_role_cannot_start_a_training_job(enforced: Any) -> None:
    # GIVEN train_model's role without iam:PassRole
    cloud = enforced(without_action(dev_template(), "train_model", "iam:PassRole"), extra_config=SAGEMAKER)
    # WHEN a dataset is dropped
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle(raise_errors=False)
    # THEN train_model failed with AccessDenied on passing the job role, and no job was started
    errors = _errors(cloud)
    assert errors and all(re.match(r"train_model: .*AccessDeniedException.*iam:PassRole", e) for e in errors), errors
    assert cloud.clients.sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_a_role_missing_an_action_fails_the_function_with_access_denied(enforced: Any) -> None:
    # GIVEN validate_dataset's role without events:PutEvents
    cloud = enforced(without_action(dev_template(), "validate_dataset", "events:PutEvents"))
    # WHEN a dataset is dropped
    cloud.drop(samples.BREAST_CANCER, MODEL)
    cloud.run_until_idle(raise_errors=False)
    # THEN validate_dataset failed with AccessDenied when announcing the accepted dataset, and nothing trained
    errors = _errors(cloud)
    assert errors and all(re.match(r"validate_dataset: AccessDeniedException: .*PutEvents", e) for e in errors)
    assert cloud.iam is not None
    assert [str(check.request.action) for check in cloud.iam.denials if check.verdict != MISSING_KEY] \
        == ["events:PutEvents"] * len(errors)
    assert _events(cloud, "DatasetAccepted") == []


def test_a_missing_key_is_a_403_without_list_bucket_and_is_handled_as_missing(enforced: Any) -> None:
    # GIVEN validate_dataset, whose role lists the data bucket only under its prefixes (s3:prefix condition)
    cloud = enforced()
    key = cloud.drop(samples.BREAST_CANCER, MODEL)
    # WHEN it checks a new data version's manifest (HeadObject on a key that does not exist yet)
    result = cloud.invoke("validate_dataset", _object_created(cloud, key))
    # THEN S3 answered 403 (as AWS does without an unconditioned s3:ListBucket), and the step took it for missing
    assert cloud.iam is not None
    (refused,) = [c for c in cloud.iam.denials if c.operation == "s3.HeadObject"]
    assert refused.verdict == MISSING_KEY and refused.request.action == "s3:ListBucket"
    assert result["outcome"] == "accepted", result
    # AND a HeadObject on a key that exists is allowed by the object grant alone (the same data dropped again)
    again = cloud.invoke("validate_dataset", _object_created(cloud, cloud.drop(samples.BREAST_CANCER, MODEL,
                                                                                name="again.csv")))
    assert again["outcome"] == "already_accepted" and again["data_version"] == result["data_version"]
    assert len([c for c in cloud.iam.denials if c.operation == "s3.HeadObject"]) == 1


def test_a_large_file_is_scored_in_parts_on_least_privilege(enforced: Any, tmp_path: Path) -> None:
    from tests.integration.scoring import outputs
    from tests.integration.test_batch_scoring import s3_event
    from tests.integration.test_batch_scoring_parts import SPLIT, csv_bytes, large_rows

    # GIVEN a stack whose functions hold only their roles' statements, files above 0.05 MB split into parts
    config = fast_config(tmp_path / "sluice.toml")
    config.write_text(config.read_text().replace('on_violation = "flag"', SPLIT))
    cloud = LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter(), iam_template=dev_template())
    cloud.start()
    try:
        cloud.drop(_rows(samples.BREAST_CANCER, 450, tmp_path / "early.csv"), MODEL)
        cloud.run_until_idle()
        # WHEN a 600-row file is dropped to score, and S3's event for it is delivered twice
        key = f"score/{MODEL}/large.csv"
        cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=csv_bytes(large_rows(600)))
        etag = cloud.clients.s3.head_object(Bucket=cloud.settings.data_bucket, Key=key)["ETag"].strip('"')
        first = cloud.invoke("score_batch", s3_event(cloud, key, etag))
        again = cloud.invoke("score_batch", s3_event(cloud, key, etag))
        cloud.run_until_idle()
        # THEN the duplicate started nothing: Step Functions answers a start of a running execution (same name,
        # same input) with that execution
        assert first["outcome"] == again["outcome"] == "scoring_in_parts", (first, again)
        assert first["execution"] == again["execution"]
        # AND score_batch started the state machine and score_part scored the parts and merged them, each under
        # its own identity, with no refusal but S3's 403 for keys that did not exist yet
        reports = [body for key, body in outputs(cloud, MODEL).items() if key.endswith("/v1/report.json")]
        assert len(reports) == 1 and '"parts"' in reports[0].decode(), _errors(cloud)
        assert _errors(cloud) == []
        assert cloud.iam is not None
        assert {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}, cloud.iam.denials
        assert {"score_batch", "score_part"} <= {check.principal for check in cloud.iam.checks}
        # AND a file whose execution ended without a result (the model's artifact unreadable meanwhile) is scored by
        # the next attempt when dropped again: score_batch may read the execution's status
        _scored_on_the_second_attempt(cloud, f"score/{MODEL}/retry.csv", csv_bytes(large_rows(300)))
        assert {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}, cloud.iam.denials
        assert any(check.request.action == "states:DescribeExecution" and check.principal == "score_batch"
                   and check.allowed for check in cloud.iam.checks)
    finally:
        cloud.stop()


def _scored_on_the_second_attempt(cloud: LocalCloud, key: str, body: bytes) -> None:
    from tests.integration.scoring import artifact_unreadable, outputs

    with artifact_unreadable(cloud, MODEL):
        cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)
        cloud.run_until_idle()
    stem = key.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    assert not [name for name in outputs(cloud, MODEL) if f"/{stem}-" in name and name.endswith("/v1/report.json")]
    cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=key, Body=body)
    cloud.run_until_idle()
    assert [name for name in outputs(cloud, MODEL) if f"/{stem}-" in name and name.endswith("/v1/report.json")]


def _validating(text: str) -> str:
    """A sluice.toml whose breast-cancer drops above 0.001 MB are validated by a processing job."""
    head, setting = f"[models.{MODEL}.data]\n", "processing_job_above_mb = 0.001\n"
    return text.replace(head, head + setting, 1) if head in text else f"{text}\n{head}{setting}"


def test_a_validation_job_is_started_and_settled_on_least_privilege(tmp_path: Path) -> None:
    # GIVEN the stage synthesized with breast-cancer's large drops validated on SageMaker, and a local stack whose
    # functions hold exactly that template's policies
    from tests.infra.conftest import synthesize
    from tests.infra.synthesized import merged

    (tmp_path / "synth").mkdir()
    synth_config = tmp_path / "synth" / "sluice.toml"
    synth_config.write_text(_validating((REPO / "sluice.toml").read_text()))
    synth = synthesize(tmp_path / "synth" / "out", config=synth_config)
    nested = {key: dict(child.to_json()) for key, child in synth.nested.items()}
    template = merged(dict(synth.template.to_json()), nested)
    config = fast_config(tmp_path / "sluice.toml")
    config.write_text(_validating(config.read_text()))
    with LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter(), iam_template=template) as cloud:
        # WHEN a dataset above the threshold is dropped
        cloud.drop(samples.BREAST_CANCER, MODEL)
        cloud.run_until_idle()
        # THEN validate_dataset started the job (CreateProcessingJob and AddTags on the job, PassRole of the stage's
        # validation role to SageMaker), settled its end (validation/ read, copied to accepted/), and nothing was
        # refused
        assert cloud.iam is not None
        actions = {(str(check.request.action), check.request.resource) for check in cloud.iam.checks
                   if check.principal == "validate_dataset"
                   and check.request.action.startswith(("sagemaker:", "iam:"))}
        assert {action for action, _ in actions} == {"sagemaker:CreateProcessingJob", "sagemaker:AddTags",
                                                     "iam:PassRole"}
        assert ("iam:PassRole", "arn:aws:iam::123456789012:role/sluice-validate-job") in actions
        assert [entry.detail["status"] for entry in cloud.timeline if entry.kind == "job"] == ["Completed"]
        assert len(_events(cloud, "DatasetAccepted")) == 1, _errors(cloud)
        assert _errors(cloud) == [] and {check.verdict for check in cloud.iam.denials} <= {MISSING_KEY}
