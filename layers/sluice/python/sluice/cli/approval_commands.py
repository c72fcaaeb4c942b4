"""`sluice approve` / `sluice reject`: a human's decision on a version waiting for approval, recorded with the
caller's identity (STS GetCallerIdentity) and reason; approve starts its release as deploy_model would."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from sluice.cli import render
from sluice.cli.errors import RefusedError, UsageError
from sluice.cli.target import resolve_target

ModelArgument = Annotated[str, typer.Argument(help="The model.")]
VersionArgument = Annotated[int, typer.Argument(help="The version waiting for approval.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit trail with who decided).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def approve(model: ModelArgument, version: VersionArgument, reason: ReasonOption, as_json: JsonOption = False
            ) -> None:
    """Approve a version waiting for approval: its release starts by the model's deployment policy."""
    _decide("approve", model, version, reason, as_json)


def reject(model: ModelArgument, version: VersionArgument, reason: ReasonOption, as_json: JsonOption = False
           ) -> None:
    """Reject a version waiting for approval: it is never served."""
    _decide("reject", model, version, reason, as_json)


def _decide(verb: str, model: str, version: int, reason: str, as_json: bool) -> None:
    import boto3

    from sluice.config import load_config
    from sluice.deployment.approval import DECIDED, ApprovalDecision, ApprovalRefusedError
    from sluice.steps.context import StepContext
    from sluice.steps.deploy import decide_approval

    if not reason.strip():
        raise UsageError("--reason must say why (it is recorded in the audit trail)")
    resolve_target()
    load_config().model(model)  # an undeclared model is a usage error (sluice.cli.errors)
    actor = str(boto3.client("sts").get_caller_identity()["Arn"])
    decision = ApprovalDecision.parse({"decision": verb, "reason": reason, "actor": actor}, model=model,
                                      version=version, correlation_id=f"cli-{uuid.uuid4()}")
    try:
        result: dict[str, Any] = decide_approval(StepContext.from_env(), decision, trigger=f"sluice {verb}")
    except ApprovalRefusedError as error:
        raise RefusedError(str(error)) from None
    if as_json:
        render.print_json(result)
        return
    detail = f" ({result['reason']})" if verb == "approve" and result.get("reason") else ""
    render.console.print(f"{model} v{version}: {DECIDED[verb]} by {actor}; outcome {result['outcome']}{detail}")
