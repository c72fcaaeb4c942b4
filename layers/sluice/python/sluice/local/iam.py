"""IAM-enforcing local mode: each function calls the embedded AWS with credentials of its own role's policy.

Two layers, because moto's IAM authorization is partial (its ``moto/iam/access_control.py`` checks the signature,
the action and, for S3 only, the resource; it ignores conditions and passes ``*`` as the resource of other
services):

- **moto**: one IAM user per function (``predict`` once per model) with an access key and an inline policy made
  from its role's statements; moto's authorization is switched on, so an unsigned, unknown or unpermitted call
  fails inside moto as on AWS. The runtime itself acts as an administrator user.
- **sluice's evaluator** (``iam_policy.evaluate``), in a botocore ``before-call`` hook keyed by the caller's access
  key: every call is mapped to what AWS authorizes (``iam_actions.requests_for``: action, resource, condition keys)
  and checked against the role's statements as resolved from the template, conditions included. It also plays S3's
  rule for a missing key: HeadObject/GetObject answer 403, not 404, to a caller without an unconditioned
  ``s3:ListBucket`` on the bucket ("GetObject", Amazon S3 API Reference: "If you don't have the s3:ListBucket
  permission, Amazon S3 returns an HTTP status code 403").

A denial raises the ``ClientError`` the service would (``AccessDenied``/``AccessDeniedException``) and is recorded
in ``LocalIam.denials``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import boto3
import botocore.handlers
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from sluice.local.iam_actions import Place, requests_for
from sluice.local.iam_policy import AuthRequest, Effect, evaluate
from sluice.local.iam_template import FunctionPolicy

ADMIN = "admin"
_PARAMS = "sluice_iam_params"
_DENIED_CODES = {"s3": "AccessDenied", "sqs": "AccessDenied", "cloudwatch": "AccessDenied",
                 "sns": "AuthorizationError"}
# moto authorizes a call as "<service>:<Operation>" (moto/core/authorization.py takes the operation name), where
# IAM authorizes another action: each IAM action sluice grants, with the operations IAM authorizes by it.
_MOTO_ALIASES = {
    "s3:GetObject": ("s3:HeadObject", "s3:CopyObject", "s3:UploadPartCopy"),
    "s3:GetObjectVersion": ("s3:GetObject", "s3:HeadObject"),
    "s3:PutObject": ("s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload", "s3:CopyObject",
                     "s3:UploadPartCopy"),
    "s3:ListBucket": ("s3:ListObjectsV2", "s3:ListObjects", "s3:HeadBucket"),
    "dynamodb:PutItem": ("dynamodb:TransactWriteItems",),
    "dynamodb:UpdateItem": ("dynamodb:TransactWriteItems",),
    "dynamodb:DeleteItem": ("dynamodb:TransactWriteItems",),
    "dynamodb:ConditionCheckItem": ("dynamodb:TransactWriteItems",),
    "dynamodb:GetItem": ("dynamodb:TransactGetItems",),
    "lambda:InvokeFunction": ("lambda:Invoke",),
}
# ... and by the service's signing name where it differs from IAM's service prefix
_MOTO_PREFIXES = {"cloudwatch:": "monitoring:"}


MISSING_KEY = "a missing key without s3:ListBucket"


@dataclass(frozen=True)
class Check:
    """One authorization IAM made for a function's call: who, which call, what was asked, and the verdict."""

    principal: str
    operation: str
    request: AuthRequest
    verdict: str  # Effect's value, or MISSING_KEY

    @property
    def allowed(self) -> bool:
        return self.verdict == Effect.ALLOWED.value

    def __str__(self) -> str:
        return f"{self.principal}: {self.operation} needs {self.request} ({self.verdict})"


@dataclass(frozen=True)
class AccessKey:
    user: str
    key_id: str
    secret: str

    def env(self) -> dict[str, str]:
        """The variables a Lambda function's runtime gets for its role (no session token: a user's key)."""
        return {"AWS_ACCESS_KEY_ID": self.key_id, "AWS_SECRET_ACCESS_KEY": self.secret}


def moto_policy(statements: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    """The statements as moto can evaluate them: resources kept for S3 (the only service moto resolves), ``*``
    elsewhere, conditions dropped (moto ignores them), and moto's operation names beside IAM's actions."""
    shaped = []
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions = sorted({*actions, *(alias for action in actions for alias in _moto_names(action))})
        s3 = all(action.startswith("s3:") for action in actions)
        shaped.append({"Effect": statement["Effect"], "Action": actions,
                       "Resource": statement["Resource"] if s3 else "*"})
    return {"Version": "2012-10-17", "Statement": shaped}


def _moto_names(action: str) -> tuple[str, ...]:
    names = _MOTO_ALIASES.get(action, ())
    for prefix, signing in _MOTO_PREFIXES.items():
        if action.startswith(prefix):
            names += (signing + action.removeprefix(prefix),)
    return names


@dataclass
class LocalIam:
    """Users, keys and the enforcing hook of one local stack."""

    policies: Mapping[str, FunctionPolicy]
    prefix: str
    place: Place = field(default_factory=Place)
    enforce: bool = True
    """False: record every authorization in ``checks`` but refuse nothing (moto's authorization stays off)."""
    checks: list[Check] = field(default_factory=list)
    """Every authorization made for a function's call, in order."""

    def __post_init__(self) -> None:
        self._keys: dict[str, AccessKey] = {}
        self._by_key: dict[str, str] = {}
        self._stack = ExitStack()

    def provision(self, iam: Any) -> None:
        """Create the administrator and one user per function, each with an access key and its policy."""
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        self._user(iam, ADMIN, everything)
        for principal, policy in sorted(self.policies.items()):
            self._user(iam, principal, moto_policy(policy.statements))

    def _user(self, iam: Any, principal: str, document: dict[str, Any]) -> None:
        name = f"{self.prefix}-fn-{principal.replace(':', '-')}"
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="role", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self._keys[principal] = AccessKey(name, key["AccessKeyId"], key["SecretAccessKey"])
        self._by_key[key["AccessKeyId"]] = principal

    def env(self, principal: str) -> dict[str, str]:
        """The credentials ``principal`` (a function, ``predict:<model>`` or ``admin``) runs with."""
        if principal not in self._keys:
            raise KeyError(f"no IAM user for {principal!r}: is it in the synthesized template?")
        return self._keys[principal].env()

    @property
    def denials(self) -> list[Check]:
        return [check for check in self.checks if not check.allowed]

    def start(self) -> None:
        """Switch moto's authorization on and install the hook on every botocore session created from now."""
        from moto.core.authorization import enable_iam_authentication

        if self.enforce:
            self._stack.enter_context(enable_iam_authentication())
            _sign_bodiless_lambda_requests(self._stack)
        handlers = botocore.handlers.BUILTIN_HANDLERS
        hooks = [("before-parameter-build", self._keep_params, botocore.handlers.REGISTER_FIRST),
                 ("before-call", self._authorize, botocore.handlers.REGISTER_FIRST)]
        handlers.extend(hooks)
        for hook in hooks:
            self._stack.callback(handlers.remove, hook)
        fresh_sessions()
        self._stack.callback(fresh_sessions)

    def stop(self) -> None:
        self._stack.close()

    @contextmanager
    def acting_as(self, principal: str) -> Iterator[dict[str, str]]:
        """The environment of ``principal``'s function; clients created meanwhile sign with its key."""
        env = self.env(principal)
        fresh_sessions()
        try:
            yield env
        finally:
            fresh_sessions()

    # -- the hook ------------------------------------------------------------------------------------------

    def _keep_params(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS] = dict(params)  # before botocore rewrites any (e.g. CopySource)

    def _authorize(self, model: Any, request_signer: Any, context: Mapping[str, Any],
                   **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        credentials = getattr(request_signer, "_credentials", None)  # botocore keeps the signing key here
        principal = self._by_key.get(getattr(credentials, "access_key", "") or "")
        if principal is None or principal == ADMIN:
            return None
        service = model.service_model.service_name
        params = context.get(_PARAMS, {})
        statements = self.policies[principal].statements
        operation = f"{service}.{model.name}"
        for request in requests_for(service, model.name, params, self.place):
            effect = evaluate(statements, request)
            self.checks.append(Check(principal, operation, request, effect.value))
            if effect is not Effect.ALLOWED and self.enforce:
                return self._deny(principal, request, effect.value, service, model.name)
        if service == "s3" and model.name in ("HeadObject", "GetObject") and not self._exists(params):
            listing = AuthRequest("s3:ListBucket", f"arn:aws:s3:::{params['Bucket']}")
            if evaluate(statements, listing) is not Effect.ALLOWED:
                self.checks.append(Check(principal, operation, listing, MISSING_KEY))
                if not self.enforce:
                    return None
                return self._deny(principal, listing, MISSING_KEY, service, model.name)
        return None

    def _deny(self, principal: str, request: AuthRequest, reason: str, service: str,
              name: str) -> tuple[AWSResponse, dict[str, Any]]:
        user = f"arn:aws:iam::{self.place.account}:user/{self._keys[principal].user}"
        message = f"User: {user} is not authorized to perform: {request.action} on resource: {request.resource} " \
                  f"because {reason}"
        code = _DENIED_CODES.get(service, "AccessDeniedException")
        if service == "s3" and name == "HeadObject":  # a HEAD response has no body: botocore reports the status
            code, message = "403", "Forbidden"
        parsed = {"Error": {"Code": code, "Message": message},
                  "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}}}
        return AWSResponse("https://iam.local", 403, HTTPHeaders(), BytesIO(b"")), parsed

    def _exists(self, params: Mapping[str, Any]) -> bool:
        """Whether the object is there, read from moto's S3 backend (not through an API call, which would count as
        one more call of the function)."""
        from moto.s3.models import FakeKey, s3_backends

        bucket = s3_backends[self.place.account]["aws"].buckets.get(str(params["Bucket"]))
        if bucket is None:
            return False
        versions = bucket.keys.getlist(str(params["Key"]), default=[])
        if params.get("VersionId"):
            return any(str(v.version_id) == str(params["VersionId"]) for v in versions if isinstance(v, FakeKey))
        return bool(versions) and isinstance(versions[-1], FakeKey)

def _sign_bodiless_lambda_requests(stack: ExitStack) -> None:
    """moto 5.2.6 recomputes the signature of a bodiless Lambda request (GetFunctionConfiguration, GetAlias, …)
    over its headers as if they were a form body (``data=self._body or self._data`` in
    moto/iam/access_control.py), so every such call fails with SignatureDoesNotMatch; sign an empty payload, as
    the client did, until moto does."""
    from moto.iam.access_control import IAMRequestBase

    original = IAMRequestBase._create_aws_request

    def create(self: Any) -> Any:
        request = original(self)
        if self._service == "lambda" and not self._body:
            request.data = b""
        return request

    IAMRequestBase._create_aws_request = create  # type: ignore[method-assign]
    stack.callback(setattr, IAMRequestBase, "_create_aws_request", original)


def fresh_sessions() -> None:
    """Forget boto3's default session: it caches the credentials it first found, and a function's clients must
    sign with the key of the function that creates them."""
    boto3.DEFAULT_SESSION = None
