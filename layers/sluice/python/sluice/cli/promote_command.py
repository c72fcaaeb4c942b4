"""`sluice promote MODEL VERSION --to STAGE [--from STAGE]`: the same artifact into another stage (``promotion/``).

A stage is reached by its resource prefix (``sluice-<stage>``, ``sluice.naming.stage_prefix``) in the account and
region the CLI runs in: its buckets and tables are read from the environment of its predict function
``sluice-<stage>-predict-<model>`` (CDK generates bucket and table names; every function carries them as
``SLUICE_*``), locally and on AWS alike. The current stage (`sluice local`, or the SLUICE_* variables) needs no
look-up. A target in another account (assuming a role there) is not built.
"""

from __future__ import annotations

from typing import Annotated, Any

import boto3
import typer
from botocore.exceptions import ClientError

from sluice.cli import render
from sluice.cli.errors import RefusedError, UsageError
from sluice.cli.target import resolve_target
from sluice.config.stages import STAGE_NAME
from sluice.naming import ResourceNames, stage_prefix
from sluice.settings import Settings, SettingsError


def promote(
    model: Annotated[str, typer.Argument(help="The model.")],
    version: Annotated[int, typer.Argument(min=1, help="The version to promote (in the source stage).")],
    to: Annotated[str, typer.Option("--to", help="The target stage (e.g. prod).")],
    source: Annotated[str | None, typer.Option(
        "--from", help="The source stage (default: the current one, `sluice local` or SLUICE_*).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
) -> None:
    """Copy a version's exact artifact (sha256 verified) into another stage's registry and release it there by
    that stage's deployment policy; promoting the same version twice makes one version."""
    from sluice.config import load_config
    from sluice.promotion import PromotionRefusedError
    from sluice.promotion import promote as promote_version

    current = resolve_target().settings
    load_config().model(model)  # an undeclared model is a usage error (sluice.cli.errors)
    source_settings = stage_settings(source or current.stage, current, model)
    target_settings = stage_settings(to, current, model)
    promoted_by = boto3.client("sts").get_caller_identity()["Arn"]
    try:
        result = promote_version(stage_end(source_settings), stage_end(target_settings), model, version,
                                 promoted_by=promoted_by)
    except PromotionRefusedError as error:
        raise RefusedError(str(error)) from None
    if as_json:
        render.print_json(result.to_dict())
        return
    said = "promoted" if result.outcome == "promoted" else "already promoted (nothing new registered)"
    render.console.print(f"{model} v{version} of {result.source_stage} {said}: {result.target_stage} "
                         f"v{result.target_version} (sha256 {result.artifact_sha256[:12]}…), released there by its "
                         "deployment policy")


def stage_settings(stage: str, current: Settings, model: str) -> Settings:
    """Where ``stage`` keeps its state: the current deployment's settings, or those its predict function carries."""
    if stage == current.stage:
        return current
    if not STAGE_NAME.match(stage):
        raise UsageError(f"{stage!r} is not a stage name (like dev or prod: {STAGE_NAME.pattern})")
    function = ResourceNames(stage_prefix(stage)).predict_function(model)
    try:
        configuration = boto3.client("lambda").get_function_configuration(FunctionName=function)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            raise UsageError(f"no stage {stage!r} with model {model!r} here: function {function} does not exist in "
                             "this account and region") from None
        raise
    try:
        return Settings.from_env((configuration.get("Environment") or {}).get("Variables") or {})
    except SettingsError as error:
        raise UsageError(f"{function} does not describe stage {stage!r}: {error}") from None


def stage_end(settings: Settings) -> Any:
    """A stage's artifact bucket, registry and bus, as the promotion reads and writes them."""
    from sluice.events import EventPublisher
    from sluice.promotion import StageEnd
    from sluice.registry import DynamoDBRegistry
    from sluice.storage import ObjectStore

    return StageEnd(name=settings.stage, artifacts=ObjectStore(boto3.client("s3"), settings.artifact_bucket),
                    registry=DynamoDBRegistry(boto3.client("dynamodb"), settings.registry_table),
                    events=EventPublisher(boto3.client("events"), settings.event_bus))
