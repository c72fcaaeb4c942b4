"""SageMaker processing jobs that validate large drops: the stage's validation job role and what validate_dataset
needs to start them (``[models.<m>.data] processing_job_above_mb`` on some model; none of it otherwise).

The job role (trusted by sagemaker.amazonaws.com) reads the raw drops under incoming/, writes the job's verdict and
normalized data under validation/ (validate_dataset's completion moves them on), writes the job's logs and pulls
the ML image. validate_dataset may CreateProcessingJob (and tag it) only under the stage's validation job-name
prefix, and pass only that role, only to SageMaker; it reads validation/ to settle the drop.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.assets import BuildInputs
from infra.components.storage import grant_prefix_read, grant_prefix_write
from infra.components.training_jobs import JOB_LOG_ACTIONS, ml_image
from sluice.config import ProjectConfig
from sluice.jobs.spec import ENV_JOB_IMAGE
from sluice.jobs.validation import ENV_VALIDATION_ROLE_ARN, VALIDATE_KIND
from sluice.naming import ResourceNames
from sluice.storage.keys import INCOMING, VALIDATION

PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


def validates_on_sagemaker(config: ProjectConfig) -> bool:
    """Whether some model's large drops are validated by a processing job."""
    return any(model.data.processing_job_above_mb is not None for model in config.models.values())


class ValidationJobs(Construct):
    """The stage's validation job role, and validate_dataset's right to start its jobs with it."""

    def __init__(self, scope: Construct, construct_id: str, *, names: ResourceNames, inputs: BuildInputs,
                 data_bucket: s3.IBucket, validate: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        image = ml_image(self, inputs)
        self.role = iam.Role(self, "Role", role_name=names.validation_job_role,
                             assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                             description="SageMaker processing jobs validating large drops: incoming/ in, "
                                         "validation/ out")
        grant_prefix_read(data_bucket, self.role, f"{INCOMING}/")
        grant_prefix_write(data_bucket, self.role, f"{VALIDATION}/")
        logs = stack.format_arn(service="logs", resource="log-group", resource_name=f"{PROCESSING_LOG_GROUP}:*",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)
        self.role.add_to_policy(iam.PolicyStatement(actions=list(JOB_LOG_ACTIONS), resources=[logs]))
        image.repository.grant_pull(self.role)
        self.jobs_arn = stack.format_arn(service="sagemaker", resource="processing-job",
                                         resource_name=f"{names.job_prefix(VALIDATE_KIND)}*")
        validate.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:CreateProcessingJob", "sagemaker:AddTags"], resources=[self.jobs_arn]))
        validate.add_to_role_policy(iam.PolicyStatement(
            actions=["iam:PassRole"], resources=[self.role.role_arn],
            conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}))
        grant_prefix_read(data_bucket, validate, f"{VALIDATION}/")
        validate.add_environment(ENV_JOB_IMAGE, image.image_uri)
        validate.add_environment(ENV_VALIDATION_ROLE_ARN, self.role.role_arn)
