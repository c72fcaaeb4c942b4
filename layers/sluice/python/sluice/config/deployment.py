"""How a model's new versions reach live: the release strategy and its safety checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from sluice.config.errors import ConfigError
from sluice.config.reader import Table
from sluice.config.schedule import schedule_problem
from sluice.serving.formats import ONNX_FORMAT, SKLEARN_FORMAT

Strategy = Literal["all_at_once", "canary", "linear", "ab", "shadow"]
AbMetric = Literal["error_rate", "latency_p99", "live_accuracy"]
EndpointPackage = Literal["zip", "image"]
Approval = Literal["none", "manual"]
APPROVALS: tuple[str, ...] = get_args(Approval)
MAX_APPROVAL_HOURS = 90 * 24.0
"""The longest a version may wait for a human (90 days)."""
STRATEGIES: tuple[str, ...] = get_args(Strategy)
AB_METRICS: tuple[str, ...] = get_args(AbMetric)
ENDPOINT_PACKAGES: tuple[str, ...] = get_args(EndpointPackage)
SERVABLE_FORMATS: dict[str, tuple[str, ...]] = {"zip": (ONNX_FORMAT,), "image": (ONNX_FORMAT, SKLEARN_FORMAT)}
"""What a predict function can load, by its endpoint package (the zip has onnxruntime, not scikit-learn)."""


@dataclass(frozen=True)
class ReleaseChecks:
    """When a bake check calls the candidate worse than live."""

    max_error_rate_increase: float = 0.01
    """Candidate error rate minus live error rate (0.01 = one percentage point)."""
    max_latency_p99_ratio: float = 1.5
    latency_slack_ms: float = 50.0
    """Latency only fails when the candidate's p99 is also this much slower (sub-slack noise is ignored)."""
    max_prediction_shift: float = 0.1
    """Mean prediction difference: absolute for class probabilities, relative to live for regression."""
    min_shadow_agreement: float = 0.9
    min_requests: int = 10
    """Fewer candidate requests than this and the check waits another step (nothing is concluded)."""


@dataclass(frozen=True)
class DeploymentSettings:
    """``[models.<name>.deployment]``: the release strategy and its parameters."""

    strategy: Strategy = "all_at_once"
    canary_weight: float = 0.1
    bake_minutes: float = 10.0
    linear_step: float = 0.25
    interval_minutes: float = 5.0
    ab_split: float = 0.5
    ab_minutes: float = 60.0
    ab_metric: AbMetric = "error_rate"
    ab_margin: float = 0.0
    """How much worse than live the candidate may be on ``ab_metric`` and still win."""
    shadow_minutes: float = 30.0
    check_every: str = "rate(1 minute)"
    """How often the bake check runs while a release is in progress (an EventBridge schedule expression)."""
    checks: ReleaseChecks = field(default_factory=ReleaseChecks)
    endpoint_package: EndpointPackage = "zip"
    """How the model's predict function ships on AWS: "zip" (slim layers, ONNX only) or "image" (the ML
    image, which can also serve the scikit-learn fallback of a version whose ONNX export disagreed). Fixed once
    the endpoint exists: Lambda cannot change a function's package type (README: Serving formats)."""
    approval: Approval = "none"
    """"manual": a version the evaluation gate approved waits in ``pending_approval`` for `sluice approve`."""
    approval_expires_after_hours: float = 168.0
    """How long a version waits for a decision before the deployment check retires it ("approval expired")."""

    @property
    def check_schedule(self) -> str | None:
        """The model's deployment-check schedule: progressive releases need it, and manual approvals (their
        expiry sweep); an all_at_once release without approval has none."""
        return None if self.strategy == "all_at_once" and self.approval == "none" else self.check_every


def parse_deployment(body: Table) -> DeploymentSettings:
    """Read ``[models.<name>.deployment]`` strictly (unknown keys and wrong types are refused)."""
    checks = body.table("checks")
    defaults = ReleaseChecks()
    release_checks = ReleaseChecks(
        **{key: checks.number(key, getattr(defaults, key)) for key in ReleaseChecks.__dataclass_fields__
           if key != "min_requests"},
        min_requests=checks.integer("min_requests", defaults.min_requests, minimum=0),
    )
    checks.finish()
    fields = DeploymentSettings.__dataclass_fields__
    numbers = {key: body.number(key, getattr(_DEFAULTS, key)) for key in fields
               if isinstance(getattr(_DEFAULTS, key), float)}
    settings = DeploymentSettings(
        strategy=body.string("strategy", _DEFAULTS.strategy, choices=STRATEGIES),
        ab_metric=body.string("ab_metric", _DEFAULTS.ab_metric, choices=AB_METRICS),
        check_every=body.string("check_every", _DEFAULTS.check_every),
        endpoint_package=body.string("endpoint_package", _DEFAULTS.endpoint_package, choices=ENDPOINT_PACKAGES),
        approval=body.string("approval", _DEFAULTS.approval, choices=APPROVALS),
        checks=release_checks,
        **numbers,
    )
    body.finish()
    problem = schedule_problem(settings.check_every)
    if problem:
        raise body.error(f"{settings.check_every!r}: {problem}", "check_every")
    where = body.where
    _check(settings, where)
    return settings


def _check(settings: DeploymentSettings, where: str) -> None:
    if settings.strategy not in STRATEGIES:
        raise ConfigError(f"{where}: strategy must be one of {STRATEGIES}, not {settings.strategy!r}")
    if settings.endpoint_package not in ENDPOINT_PACKAGES:
        raise ConfigError(f"{where}: endpoint_package must be one of {ENDPOINT_PACKAGES}, "
                          f"not {settings.endpoint_package!r}")
    if settings.ab_metric not in AB_METRICS:
        raise ConfigError(f"{where}: ab_metric must be one of {AB_METRICS}, not {settings.ab_metric!r}")
    for name in ("canary_weight", "linear_step", "ab_split"):
        if not 0 < float(getattr(settings, name)) < 1:
            raise ConfigError(f"{where}: {name} must be between 0 and 1 (exclusive)")
    for name in ("bake_minutes", "interval_minutes", "ab_minutes", "shadow_minutes"):
        if float(getattr(settings, name)) <= 0:
            raise ConfigError(f"{where}: {name} must be positive")
    if not 0 < settings.approval_expires_after_hours <= MAX_APPROVAL_HOURS:
        raise ConfigError(f"{where}: approval_expires_after_hours must be positive and at most "
                          f"{MAX_APPROVAL_HOURS:g} (90 days)")
    checks = settings.checks
    if checks.max_latency_p99_ratio < 1 or min(checks.max_error_rate_increase, checks.max_prediction_shift,
                                                checks.latency_slack_ms, settings.ab_margin) < 0:
        raise ConfigError(f"{where}: check thresholds must be non-negative (latency ratio at least 1)")
    if not 0 <= checks.min_shadow_agreement <= 1 or checks.min_requests < 0:
        raise ConfigError(f"{where}: min_shadow_agreement must be in [0, 1] and min_requests >= 0")


_DEFAULTS = DeploymentSettings()
