"""SageMaker training jobs: the ML image they run, a job role per model whose training may run there, and what
train_model needs to start them (``[models.<m>.training] backend = "sagemaker" | "auto"``; none of it otherwise).

The job role (trusted by sagemaker.amazonaws.com) reads its model's accepted data, writes its model's artifacts,
writes the job's logs and pulls the image. train_model may CreateTrainingJob (and tag it) only under the stage's
job-name prefix, and pass only the stage's job roles, only to SageMaker.
"""

from __future__ import annotations

from collections.abc import Collection

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.assets import PACKAGE_EXCLUDES, BuildInputs
from infra.components.functions import PYTHON_VERSION
from infra.components.storage import grant_prefix_read, grant_prefix_write
from sluice.config import ProjectConfig
from sluice.jobs.spec import ENV_JOB_IMAGE, ENV_JOB_ROLE_ARN, TRAIN_KIND
from sluice.naming import ResourceNames
from sluice.storage.keys import ACCEPTED, MODELS

JOB_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
JOB_LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")


def sagemaker_models(config: ProjectConfig) -> tuple[str, ...]:
    """The models whose training may run on SageMaker."""
    return tuple(name for name, model in config.models.items() if model.training.backend != "lambda")


def ml_image(scope: Construct, inputs: BuildInputs) -> ecr_assets.DockerImageAsset:
    """The container functions' image (same build: same asset hash, one image in the assets repository)."""
    return ecr_assets.DockerImageAsset(
        scope, "MlImage", directory=str(inputs.repo_root), file=inputs.dockerfile,
        build_args={"PYTHON_VERSION": PYTHON_VERSION}, exclude=list(PACKAGE_EXCLUDES),
        platform=ecr_assets.Platform.LINUX_AMD64)


class TrainingJobRoles(Construct):
    """One role per model whose training may run on SageMaker (in the model's stack)."""

    def __init__(self, scope: Construct, construct_id: str, *, models: Collection[str], names: ResourceNames,
                 inputs: BuildInputs, data_bucket: s3.IBucket, artifact_bucket: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.roles: dict[str, iam.Role] = {}
        if not models:
            return
        image = ml_image(self, inputs)
        logs_arn = Stack.of(self).format_arn(service="logs", resource="log-group", resource_name=f"{JOB_LOG_GROUP}:*",
                                             arn_format=ArnFormat.COLON_RESOURCE_NAME)
        for model in models:
            role = iam.Role(self, "".join(part.capitalize() for part in model.split("-")),
                            role_name=names.training_job_role(model),
                            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                            description=f"SageMaker training jobs of {model}: its accepted data, its artifacts")
            grant_prefix_read(data_bucket, role, f"{ACCEPTED}/{model}/")
            grant_prefix_write(artifact_bucket, role, f"{MODELS}/{model}/")
            role.add_to_policy(iam.PolicyStatement(actions=list(JOB_LOG_ACTIONS), resources=[logs_arn]))
            image.repository.grant_pull(role)
            self.roles[model] = role


def grant_job_launch(train: lambda_.Function, *, names: ResourceNames, inputs: BuildInputs) -> str:
    """Let train_model start its stage's training jobs with its stage's job roles; returns the jobs' ARN pattern."""
    stack = Stack.of(train)
    jobs = stack.format_arn(service="sagemaker", resource="training-job",
                            resource_name=f"{names.job_prefix(TRAIN_KIND)}*")
    roles = stack.format_arn(service="iam", region="", resource="role", resource_name=names.training_job_role("*"))
    train.add_to_role_policy(iam.PolicyStatement(actions=["sagemaker:CreateTrainingJob", "sagemaker:AddTags"],
                                                 resources=[jobs]))
    train.add_to_role_policy(iam.PolicyStatement(
        actions=["iam:PassRole"], resources=[roles],
        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
    image = ml_image(train, inputs)
    train.add_environment(ENV_JOB_IMAGE, image.image_uri)
    train.add_environment(ENV_JOB_ROLE_ARN, stack.format_arn(
        service="iam", region="", resource="role", resource_name=names.training_job_role("{model}")))
    return jobs
