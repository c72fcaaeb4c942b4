"""The training backend: configuration (strict), the pure chooser, and the training job's request and name."""

from __future__ import annotations

import json

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.config.model import SageMakerTraining, TrainingSettings
from sluice.jobs.spec import JobSettings, JobSpecError, training_job_name, training_job_request
from sluice.training.backend import choose_backend, estimate_mb, lambda_cell_limit

BASE = """
[models.mm]
task = "classification"
[models.mm.training]
families = ["logistic_regression"]
{training}
[models.mm.contract]
target = "y"
[[models.mm.contract.columns]]
name = "x"
{tables}
"""


def _training(training: str = "", tables: str = "") -> TrainingSettings:
    return load_config_text(BASE.format(training=training, tables=tables)).model("mm").training


def _settings(backend: str, **sagemaker: object) -> TrainingSettings:
    return TrainingSettings(families=("ridge",), backend=backend,  # type: ignore[arg-type]
                            sagemaker=SageMakerTraining(**sagemaker))  # type: ignore[arg-type]


def test_the_backend_defaults_to_lambda_with_sagemaker_defaults() -> None:
    settings = _training()
    assert settings.backend == "lambda" and settings.sagemaker == SageMakerTraining()


def test_the_sagemaker_table_is_read() -> None:
    settings = _training('backend = "auto"', '[models.mm.training.sagemaker]\ninstance_type = "ml.c5.4xlarge"\n'
                                             'spot = true\nmax_run_s = 7200\nvolume_gb = 100\nauto_above_cells = 5')
    assert settings.backend == "auto"
    assert settings.sagemaker == SageMakerTraining("ml.c5.4xlarge", True, 7200, 100, 5)


@pytest.mark.parametrize(("training", "tables", "message"), [
    ('backend = "batch"', "", "must be one of 'lambda', 'sagemaker', 'auto'"),
    ("", '[models.mm.training.sagemaker]\ninstance = "ml.m5.xlarge"', "did you mean 'instance_type'"),
    ("", '[models.mm.training.sagemaker]\ninstance_type = "m5.xlarge"', "SageMaker instance type"),
    ("", "[models.mm.training.sagemaker]\nmax_run_s = 10", "at least 60"),
    ("", '[models.mm.training.sagemaker]\nspot = "yes"', "true or false"),
    ("", "[models.mm.training.sagemaker]\nauto_above_cells = 0", "at least 1"),
])
def test_a_bad_training_backend_is_refused_naming_the_key(training: str, tables: str, message: str) -> None:
    with pytest.raises(ConfigError, match="training") as raised:
        _training(training, tables)
    assert message in str(raised.value)


def test_a_named_backend_is_used_whatever_the_size() -> None:
    assert choose_backend(_settings("lambda"), rows=10**8, columns=50, memory_mb=3008).backend == "lambda"
    assert choose_backend(_settings("sagemaker"), rows=10, columns=2, memory_mb=3008).backend == "sagemaker"


def test_auto_compares_the_estimate_with_what_the_memory_allows() -> None:
    # GIVEN the default threshold: (3008 MB - 300 MB base) / (8 bytes x 4.4 measured peak factor) cells
    limit = lambda_cell_limit(3008)
    assert 79_000_000 < limit < 82_000_000  # RESULTS.md's measured training: about 80M cells (3.8M rows x 21)
    # WHEN 1M x 20 and 10M x 20 are trained
    small = choose_backend(_settings("auto"), rows=1_000_000, columns=20, memory_mb=3008)
    large = choose_backend(_settings("auto"), rows=10_000_000, columns=20, memory_mb=3008)
    # THEN the first fits the Lambda, the second goes to SageMaker with the estimate in its reason
    assert small.backend == "lambda" and large.backend == "sagemaker"
    assert large.estimate_mb == round(estimate_mb(10_000_000, 20), 1) and large.estimate_mb > 3008
    assert "above" in large.reason and "3008 MB" in large.reason


def test_auto_above_cells_overrides_the_estimate() -> None:
    settings = _settings("auto", auto_above_cells=1000)
    assert choose_backend(settings, rows=100, columns=10, memory_mb=3008).backend == "lambda"
    chosen = choose_backend(settings, rows=101, columns=10, memory_mb=3008)
    assert chosen.backend == "sagemaker" and "auto_above_cells" in chosen.reason


def test_the_job_name_is_deterministic_per_claim_and_valid() -> None:
    name = training_job_name("sluice", "breast-cancer", 3, "DatasetAccepted:c1:d1")
    assert name == training_job_name("sluice", "breast-cancer", 3, "DatasetAccepted:c1:d1")
    assert name != training_job_name("sluice", "breast-cancer", 3, "DatasetAccepted:c2:d1")
    assert name.startswith("sluice-train-breast-cancer-v3-")
    long = training_job_name("a-long-deployment-prefix", "m" * 40, 123456, "k")
    assert len(long) <= 63 and long.endswith(long.rsplit("-", 1)[1]) and "--" not in long


def test_the_request_maps_data_versions_to_channels_and_the_config_to_resources() -> None:
    settings = JobSettings(image="img:1", role_arn_template="arn:aws:iam::1:role/p-{model}-train-job")
    request = training_job_request(
        name="p-train-m-v1-x", model="m", version=1,
        data_keys=["accepted/m/d1/data.parquet", "accepted/m/d2/data.parquet"], data_bucket="data",
        artifact_bucket="art", settings=settings, job=SageMakerTraining("ml.m5.xlarge", True, 600, 50),
        hyperparameters={"window": {"mode": "append"}, "data_version": "d2"}, tags={"sluice:model": "m"})
    assert [channel["DataSource"]["S3DataSource"]["S3Uri"] for channel in request["InputDataConfig"]] == [
        "s3://data/accepted/m/d1/", "s3://data/accepted/m/d2/"]
    assert json.loads(request["HyperParameters"]["channels"]) == ["data0", "data1"]
    assert all(isinstance(value, str) for value in request["HyperParameters"].values())
    assert request["OutputDataConfig"]["S3OutputPath"] == "s3://art/models/m/000001/sagemaker/"
    assert request["RoleArn"] == "arn:aws:iam::1:role/p-m-train-job"
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 1200}
    assert request["EnableManagedSpotTraining"] is True


def test_more_data_versions_than_channels_is_refused() -> None:
    settings = JobSettings(image="i", role_arn_template="{model}")
    with pytest.raises(JobSpecError, match="1 to 20 data versions"):
        training_job_request(name="n", model="m", version=1, data_keys=[f"a/{i}/d.parquet" for i in range(21)],
                             data_bucket="d", artifact_bucket="a", settings=settings, job=SageMakerTraining(),
                             hyperparameters={}, tags={})


def test_job_settings_need_the_image_and_a_per_model_role() -> None:
    with pytest.raises(JobSpecError, match="SLUICE_JOB_IMAGE"):
        JobSettings.from_env({"SLUICE_JOB_IMAGE": "i", "SLUICE_JOB_ROLE_ARN": "arn:one-role"})
