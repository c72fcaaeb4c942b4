"""One Lambda function per FunctionSpec: heavy ML as a container image, the rest as zip + layers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.assets import (
    PACKAGE_EXCLUDES,
    BuildInputs,
    check_unzipped_limit,
    stage_sluice_layer,
    unzipped_size,
)
from infra.components.monitoring import capture_stream_arn
from infra.components.permissions import check_access_table, grant_access
from sluice.config.loader import CONFIG_ENV_VAR
from sluice.naming import ResourceNames
from sluice.predict.capture import ENV_CAPTURE_RATE, ENV_CAPTURE_STREAM
from sluice.settings import Settings
from sluice.wiring import FUNCTIONS, FunctionSpec, Packaging, packaging_for

CONFIG_PATH_ON_LAMBDA = "/opt/sluice.toml"  # the sluice layer's root, or copied there by the Dockerfile
METRICS_NAMESPACE = "sluice"
# One Python for every function: the zip runtime, the image's base (build arg) and the serving-deps wheels.
RUNTIME = lambda_.Runtime.PYTHON_3_12
PYTHON_VERSION = RUNTIME.name.removeprefix("python")
ARCHITECTURE = lambda_.Architecture.X86_64


@dataclass(frozen=True)
class ZipLayers:
    """The layers of every zip function, built once per stage (the parent stack) and their unzipped sizes."""

    versions: tuple[lambda_.ILayerVersion, ...]
    sizes: dict[str, int]


def predict_functions_arn(scope: Construct, names: ResourceNames) -> str:
    """Every predict function of the stage, its versions and aliases: one ARN whatever the number of models
    (``<prefix>-predict-*``; IAM's ``*`` spans the ``:`` of qualified ARNs)."""
    return Stack.of(scope).format_arn(service="lambda", resource="function", arn_format=ArnFormat.COLON_RESOURCE_NAME,
                                      resource_name=names.predict_function("*"))


class Functions(Construct):
    """Every function of the deployment with its role, log group and grants.

    ``by_name`` holds the shared functions (keyed by FunctionSpec name), ``predict`` the
    per-model predict functions (keyed by model).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: ResourceNames,
        settings: Settings,
        models: tuple[str, ...],
        inputs: BuildInputs,
        data_bucket: s3.IBucket,
        artifact_bucket: s3.IBucket,
        registry_table: dynamodb.ITable,
        idempotency_table: dynamodb.ITable,
        bus: events.IEventBus,
        log_retention: logs.RetentionDays,
        removal_policy: RemovalPolicy,
        specs: Mapping[str, FunctionSpec] = FUNCTIONS,
        capture_rates: Mapping[str, float] | None = None,
        endpoint_packages: Mapping[str, str] | None = None,
        reserved_concurrency: Mapping[tuple[str, str | None], int] | None = None,
        traced_models: Collection[str] = (),
        layers: ZipLayers | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        check_access_table()
        self._names = names
        self._capture_rates = dict(capture_rates or {})
        self._endpoint_packages = dict(endpoint_packages or {})
        self._reserved = dict(reserved_concurrency or {})  # none by default: quota 10 cannot reserve any
        self._traced_models = frozenset(traced_models)  # predictions are traced only where [serving] trace = true
        self._inputs = inputs
        self._settings_env = settings.to_env()
        self._log_retention = log_retention
        self._removal_policy = removal_policy
        self._zip_layers: ZipLayers | None = layers  # a model stack uses its parent's
        self.by_name: dict[str, lambda_.Function] = {}
        self.per_model: dict[str, dict[str, lambda_.Function]] = {}
        for spec in specs.values():
            if spec.per_model:
                self.per_model[spec.name] = {
                    model: self._function(spec, _function_name(names, spec, model), model=model) for model in models
                }
            else:
                self.by_name[spec.name] = self._function(spec, _function_name(names, spec, None), model=None)
        for name, fn, model in self.all_functions():
            grant_access(
                fn,
                function=name,
                model=model,
                data_bucket=data_bucket,
                artifact_bucket=artifact_bucket,
                registry_table=registry_table,
                idempotency_table=idempotency_table,
                bus=bus,
                predict_functions_arn=predict_functions_arn(self, names),
                capture_streams={m: capture_stream_arn(self, names, m) for m in models},
            )

    @property
    def predict(self) -> dict[str, lambda_.Function]:
        """The predict function of each model (the endpoints)."""
        return self.per_model.get("predict", {})

    def all_functions(self) -> list[tuple[str, lambda_.Function, str | None]]:
        """(spec name, function, model or None) for every function."""
        shared = [(name, fn, None) for name, fn in self.by_name.items()]
        per_model = [(name, fn, model) for name, fns in self.per_model.items() for model, fn in fns.items()]
        return [*shared, *per_model]

    @property
    def zip_layers(self) -> ZipLayers:
        """The sluice layer and the serving dependency layer shared by every zip function (and their sizes)."""
        if self._zip_layers is None:
            sluice_layer = stage_sluice_layer(self._inputs, python_version=PYTHON_VERSION)
            serving_deps = self._inputs.serving_deps(python_version=PYTHON_VERSION)
            versions: tuple[lambda_.ILayerVersion, ...] = (
                lambda_.LayerVersion(
                    self,
                    "SluiceLayer",
                    code=lambda_.Code.from_asset(str(sluice_layer)),
                    compatible_runtimes=[RUNTIME],
                    compatible_architectures=[ARCHITECTURE],
                    description="The sluice library (python/sluice) and the project configuration (/opt/sluice.toml)",
                    removal_policy=self._removal_policy,
                ),
                lambda_.LayerVersion(
                    self,
                    "ServingDepsLayer",
                    code=lambda_.Code.from_asset(str(serving_deps)),
                    compatible_runtimes=[RUNTIME],
                    compatible_architectures=[ARCHITECTURE],
                    description="numpy, onnxruntime and Powertools for manylinux x86_64 (make layers)",
                    removal_policy=self._removal_policy,
                ),
            )
            self._zip_layers = ZipLayers(versions=versions, sizes={"sluice layer": unzipped_size(sluice_layer),
                                                                   "serving-deps layer": unzipped_size(serving_deps)})
        return self._zip_layers

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return list(self.zip_layers.versions)

    def _function(self, spec: FunctionSpec, function_name: str, *, model: str | None) -> lambda_.Function:
        construct_id = _construct_id(spec.name, model)
        log_group = logs.LogGroup(
            self,
            f"{construct_id}Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=self._log_retention,
            removal_policy=self._removal_policy,
        )
        role = iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
        )
        log_group.grant_write(role)
        environment = {
            **self._settings_env,
            CONFIG_ENV_VAR: CONFIG_PATH_ON_LAMBDA,
            "POWERTOOLS_SERVICE_NAME": spec.name,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "OMP_NUM_THREADS": "1",
        }
        if model is not None:
            environment["SLUICE_MODEL"] = model
        if spec.name == "predict" and model is not None:  # capture (sluice.predict.capture)
            environment[ENV_CAPTURE_STREAM] = self._names.capture_stream(model)
            environment[ENV_CAPTURE_RATE] = str(self._capture_rates.get(model, 0.0))
        traced = model is None or model in self._traced_models
        if not traced:
            environment["POWERTOOLS_TRACE_DISABLED"] = "true"
        common: dict[str, Any] = {
            "function_name": function_name,
            "description": spec.description if model is None else f"{spec.description} ({model})",
            "memory_size": spec.memory_mb,
            "timeout": Duration.seconds(spec.timeout_s),
            "environment": environment,
            "tracing": lambda_.Tracing.ACTIVE if traced else lambda_.Tracing.DISABLED,
            "log_group": log_group,
            "role": role,
            "architecture": ARCHITECTURE,
            "reserved_concurrent_executions": self._reserved.get((spec.name, model)),
            "ephemeral_storage_size": Size.mebibytes(spec.ephemeral_mb),
        }
        endpoint_package = None if model is None else self._endpoint_packages.get(model)
        if packaging_for(spec, endpoint_package) is Packaging.IMAGE:
            return lambda_.DockerImageFunction(
                self,
                construct_id,
                code=lambda_.DockerImageCode.from_image_asset(
                    str(self._inputs.repo_root),
                    file=self._inputs.dockerfile,
                    cmd=[f"{spec.name}.app.lambda_handler"],
                    build_args={"PYTHON_VERSION": PYTHON_VERSION},
                    exclude=list(PACKAGE_EXCLUDES),
                    platform=ecr_assets.Platform.LINUX_AMD64,
                ),
                **common,
            )
        source = self._inputs.function_dir(spec.name)
        zip_layers = self.zip_layers
        check_unzipped_limit(function_name, {"handler": unzipped_size(source), **zip_layers.sizes})
        return lambda_.Function(
            self,
            construct_id,
            runtime=RUNTIME,
            handler="app.lambda_handler",
            code=lambda_.Code.from_asset(str(source), exclude=["**/__pycache__", "**/*.pyc"]),
            layers=list(zip_layers.versions),
            **common,
        )


def _function_name(names: ResourceNames, spec: FunctionSpec, model: str | None) -> str:
    """Physical names: handlers derive the per-model ones through ResourceNames."""
    if model is None:
        return names.shared_function(spec.name)
    if spec.name == "predict":
        return names.predict_function(model)
    raise ValueError(f"per-model function {spec.name!r} has no name in sluice.naming.ResourceNames")


def _construct_id(name: str, model: str | None) -> str:
    words = [*name.split("_"), *(model.split("-") if model else [])]
    return "".join(word.capitalize() for word in words)
