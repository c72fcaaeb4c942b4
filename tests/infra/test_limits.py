"""AWS's limits, checked on stages of 1, 20 and 100 models synthesized as `cdk synth` would (prod: longest names).

Every model is the heaviest sluice declares: classification (the live-accuracy alarm), 30 features, a retrain,
a drift and a bake-check schedule. The 20-model stage fills one model stack to ``MODELS_PER_GROUP`` with names
of the longest length the configuration allows. Each stage is synthesized once per session with asset staging
off (the templates are the same; the assets are not copied): about a minute for 100 models on 2 busy cores.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from aws_cdk import App

from infra.app import build
from infra.assets import BuildInputs
from sluice.config import load_config
from sluice.config.layout import MODELS_PER_GROUP, MODELS_PER_STAGE, model_group, model_groups
from tests.infra import limits
from tests.infra.conftest import cdk_context, fake_serving_deps
from tests.infra.limits import Template

FEATURES = 30
LONGEST_NAME = 35  # "sluice-prod-deployment-check-<model>" reaches EventBridge's 64 (tests/unit/test_config_strict.py)


def model_toml(name: str, strategy: str = "canary") -> str:
    columns = "".join(f'[[models.{name}.contract.columns]]\nname = "feature_{i:02d}"\ntype = "float"\n'
                      for i in range(FEATURES))
    return f"""
[models.{name}]
task = "classification"
[models.{name}.training]
families = ["logistic_regression"]
retrain_schedule = "rate(7 days)"
[models.{name}.monitoring]
drift_schedule = "rate(1 hour)"
capture_rate = 0.5
[models.{name}.deployment]
strategy = "{strategy}"
[models.{name}.gates]
min_metrics = {{ accuracy = 0.8 }}
[models.{name}.contract]
target = "label"
target_values = ["yes", "no"]
positive = "yes"
{columns}"""


def full_group_names(count: int) -> list[str]:
    """``count`` names of the longest allowed length, the first ``MODELS_PER_GROUP`` of them in one group."""
    names: list[str] = []
    group = model_group(f"limits-full-group-{0:0{LONGEST_NAME - 18}d}")
    index = 0
    while len(names) < MODELS_PER_GROUP:
        name = f"limits-full-group-{index:0{LONGEST_NAME - 18}d}"
        if model_group(name) == group:
            names.append(name)
        index += 1
    others = [f"limits-other-model-{i:0{LONGEST_NAME - 19}d}" for i in range(count * 4)]
    names += [name for name in others if model_group(name) != group][: count - MODELS_PER_GROUP]
    return names


MODEL_NAMES = {
    1: ["only-model"],
    20: full_group_names(20),
    MODELS_PER_STAGE: [f"model-{i:03d}" for i in range(MODELS_PER_STAGE)],
}
AT_ONCE = 5
"""Models of the 100-model stage released all at once (no bake-check schedule): 295 schedules and the stage's 5
other default-bus rules are EventBridge's 300 rules per bus; with a bake check on every model the configuration
refuses it (test_the_configuration_refuses_more_schedules_than_the_default_bus_holds)."""


def stage_toml(models: list[str]) -> str:
    return "".join(model_toml(name, "all_at_once" if i < AT_ONCE else "canary") for i, name in enumerate(models))


def synthesize_stage(tmp: Path, models: list[str]) -> list[Template]:
    config = tmp / "sluice.toml"
    config.write_text(stage_toml(models))
    inputs = BuildInputs(serving_deps_dir=fake_serving_deps(tmp / "serving-deps"), staging_dir=tmp / "staging",
                         config_path=config)
    app = App(outdir=str(tmp / "cdk.out"),
              context=cdk_context(stage="prod", **{"aws:cdk:disable-asset-staging": True}))
    build(app, inputs=inputs)
    app.synth()
    return limits.read_assembly(tmp / "cdk.out")


@pytest.fixture(scope="session")
def stages(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], list[Template]]:
    """Every template of a prod stage of 1, 20 or 100 models, each synthesized once per session."""
    cache: dict[int, list[Template]] = {}

    def stage_of(count: int) -> list[Template]:
        if count not in cache:
            cache[count] = synthesize_stage(tmp_path_factory.mktemp(f"limits-{count}"), MODEL_NAMES[count])
        return cache[count]

    return stage_of


@pytest.fixture(params=sorted(MODEL_NAMES), ids=lambda n: f"{n}-models")
def stage(request: pytest.FixtureRequest, stages: Callable[[int], list[Template]]) -> list[Template]:
    count: int = request.param
    return stages(count)


def parent_of(stage: list[Template]) -> Template:
    (parent,) = [t for t in stage if not t.name.endswith(".nested.template.json")]
    return parent


def test_the_generated_stages_are_the_worst_cases_they_claim() -> None:
    for count, names in MODEL_NAMES.items():
        assert len(names) == len(set(names)) == count
    groups = model_groups(MODEL_NAMES[20])
    assert max(len(members) for members in groups.values()) == MODELS_PER_GROUP
    assert {len(name) for name in MODEL_NAMES[20]} == {LONGEST_NAME}


def test_the_stage_is_one_stack_plus_a_model_stack_per_group(stage: list[Template]) -> None:
    # GIVEN a synthesized stage
    parent = parent_of(stage)
    nested = [t for t in stage if t is not parent]
    # THEN one stack declares every model stack, and every model has its predict function in exactly one of them
    assert parent.name == "Sluice-prod.template.json"
    assert len(parent.of_type("AWS::CloudFormation::Stack")) == len(nested)
    predict = Counter(limits.properties(fn)["FunctionName"] for t in nested
                      for fn in t.of_type("AWS::Lambda::Function").values()
                      if str(limits.properties(fn).get("FunctionName", "")).startswith("sluice-prod-predict-"))
    assert len(predict) in MODEL_NAMES
    assert sorted(predict) == sorted(f"sluice-prod-predict-{name}" for name in MODEL_NAMES[len(predict)])
    assert set(predict.values()) == {1}
    # AND each model is in the model stack its name hashes to (sluice.config.layout.model_group)
    for template in nested:
        match = re.search(r"Models(\d{2})", template.name)
        assert match, template.name
        for fn in template.of_type("AWS::Lambda::Function").values():
            name = str(limits.properties(fn).get("FunctionName", ""))
            if name.startswith("sluice-prod-predict-"):
                assert model_group(name.removeprefix("sluice-prod-predict-")) == int(match.group(1)), name


def test_every_template_fits_cloudformation(stage: list[Template]) -> None:
    for template in stage:
        assert len(template.resources) <= limits.STACK_RESOURCES, template.name
        assert len(template.body.get("Outputs", {})) <= limits.STACK_OUTPUTS, template.name
        assert len(template.body.get("Parameters", {})) <= limits.STACK_PARAMETERS, template.name
        assert template.bytes <= limits.TEMPLATE_BYTES_VIA_S3, template.name
        assert len(template.body.get("Description", "").encode()) <= limits.STACK_DESCRIPTION_BYTES, template.name


def test_every_role_fits_iam(stage: list[Template]) -> None:
    for template in stage:
        for role, chars in limits.role_inline_policies(template):
            assert chars <= limits.ROLE_INLINE_POLICY_CHARS, (template.name, role, chars)
        for key, managed in template.of_type("AWS::IAM::ManagedPolicy").items():
            assert limits.size(limits.properties(managed)["PolicyDocument"]) <= limits.MANAGED_POLICY_CHARS, key
        for key, resource in template.of_type("AWS::IAM::Role").items():
            props = limits.properties(resource)
            assert len(props.get("ManagedPolicyArns", [])) <= limits.MANAGED_POLICIES_PER_ROLE, key
            assert limits.size(props["AssumeRolePolicyDocument"]) <= limits.ROLE_TRUST_POLICY_CHARS, key


def test_every_function_fits_lambda(stage: list[Template]) -> None:
    for template in stage:
        for key, function in template.of_type("AWS::Lambda::Function").items():
            assert limits.environment_size(function) <= limits.LAMBDA_ENV_BYTES, (template.name, key)
            assert len(limits.properties(function).get("Layers", [])) <= limits.LAMBDA_LAYERS, (template.name, key)
        for target, chars in limits.lambda_resource_policies(template):
            assert chars <= limits.LAMBDA_RESOURCE_POLICY_BYTES, (template.name, target, chars)


def test_rules_queues_and_alarms_fit_their_services(stage: list[Template]) -> None:
    rules_per_bus: Counter[str] = Counter()
    for template in stage:
        for key, rule in template.of_type("AWS::Events::Rule").items():
            props = limits.properties(rule)
            assert len(props.get("Targets", [])) <= limits.RULE_TARGETS, key
            rules_per_bus[json.dumps(props.get("EventBusName", "default"), sort_keys=True)] += 1
        for key, policy in template.of_type("AWS::SQS::QueuePolicy").items():
            statements = limits.properties(policy)["PolicyDocument"]["Statement"]
            assert len(statements) <= limits.QUEUE_POLICY_STATEMENTS, key
        for key, alarm in template.of_type("AWS::CloudWatch::CompositeAlarm").items():
            assert limits.size(limits.properties(alarm)["AlarmRule"]) <= limits.COMPOSITE_ALARM_RULE_CHARS, key
    assert max(rules_per_bus.values()) <= limits.RULES_PER_BUS


def test_every_name_fits_its_service(stage: list[Template]) -> None:
    checked = 0
    for template in stage:
        for (resource_type, field), limit in limits.NAME_LIMITS.items():
            for key, resource in template.of_type(resource_type).items():
                name = limits.properties(resource).get(field)
                if name is not None:
                    assert len(str(limits.bounded(name))) <= limit, (resource_type, key, name)
                    checked += 1
    assert checked > 0


def test_what_the_stage_stack_holds_does_not_grow_with_the_models(stages: Callable[[int], list[Template]]) -> None:
    # GIVEN the stage's stack at 1 and at 100 models
    small, large = parent_of(stages(1)), parent_of(stages(MODELS_PER_STAGE))

    def shape(parent: Template) -> dict[str, object]:
        return {
            "rules": len(parent.of_type("AWS::Events::Rule")),
            "invoke permissions": len(parent.of_type("AWS::Lambda::Permission")),
            "queue policy statements": sorted(len(limits.properties(p)["PolicyDocument"]["Statement"])
                                              for p in parent.of_type("AWS::SQS::QueuePolicy").values()),
            "policy sizes": sorted(limits.size(limits.properties(p)["PolicyDocument"])
                                   for p in parent.of_type("AWS::IAM::Policy").values()),
        }

    # THEN its rules, permissions, queue policies and function policies are the same: per-model schedule rules
    # live in the model stacks, allowed by one rule-name pattern per schedule route
    assert shape(small) == shape(large)
    # AND what grows is one model stack per group and one endpoint output per model
    assert len(large.body["Outputs"]) - len(small.body["Outputs"]) == MODELS_PER_STAGE - 1


def test_the_configuration_refuses_a_stage_larger_than_the_layout(tmp_path: Path) -> None:
    # GIVEN one model more than a stage deploys
    config = tmp_path / "sluice.toml"
    config.write_text(stage_toml([f"model-{i:03d}" for i in range(MODELS_PER_STAGE + 1)]))
    # THEN loading it names the limit
    with pytest.raises(ValueError, match=rf"101 models: a stage deploys at most {MODELS_PER_STAGE}"):
        load_config(config)


def test_the_configuration_refuses_more_schedules_than_the_default_bus_holds(tmp_path: Path) -> None:
    # GIVEN the 100-model stage with a bake check on every model: 300 schedules and 4 more rules
    config = tmp_path / "sluice.toml"
    config.write_text("".join(model_toml(name) for name in MODEL_NAMES[MODELS_PER_STAGE]))
    # THEN loading it names EventBridge's quota
    with pytest.raises(ValueError, match=r"305 rules on the default event bus .* EventBridge allows 300 per bus"):
        load_config(config)
