"""``[stages.<name>]``: a stage whose versions come by promotion never trains, and gets no retrain schedule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.events import DetailType
from sluice.naming import stage_of, stage_prefix
from sluice.settings import Settings
from sluice.steps.retrain import guarded_retrain
from sluice.steps.train import train_accepted
from tests.unit.growth_stack import MODEL, config_text, drop_csv, growth_stack

PROMOTION_ONLY = '\n[stages.prod]\nsource = "promotion"\n'


def test_a_stage_without_a_table_trains_and_a_promotion_stage_loses_its_retrain_schedules() -> None:
    # GIVEN a model with a retrain schedule and prod configured to take versions by promotion only
    config = load_config_text(config_text(training='retrain_schedule = "rate(7 days)"') + PROMOTION_ONLY)
    # THEN dev (no table) trains and keeps the schedule; prod does not train and has no schedule to deploy
    assert config.stage("dev").trains and not config.stage("prod").trains
    assert config.for_stage("dev").model(MODEL).training.retrain_schedule == "rate(7 days)"
    assert config.for_stage("prod").model(MODEL).training.retrain_schedule is None
    # AND the rest of the model is untouched
    assert config.for_stage("prod").model(MODEL).gates == config.model(MODEL).gates


def test_the_stage_of_a_deployment_is_read_from_its_prefix() -> None:
    assert stage_prefix("prod") == "sluice-prod" and stage_of("sluice-prod") == "prod"
    assert Settings.local("sluice-dev").stage == "dev" and Settings.local("sluice").stage == "sluice"


@pytest.mark.parametrize(("text", "message"), [
    ('[stages.prod]\nsourc = "promotion"\n', "did you mean 'source'"),
    ('[stages.prod]\nsource = "promoted"\n', "must be one of 'training', 'promotion'"),
    ('[stages.Prod]\nsource = "promotion"\n', "stage names match"),
    ("[stages]\nprod = 1\n", "[stages.prod] must be a table"),
])
def test_a_wrong_stages_table_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config_text(text + config_text())
    assert message in str(refused.value)


def test_in_a_promotion_stage_a_drop_is_accepted_and_its_training_is_a_recorded_no_op(aws: None) -> None:
    # GIVEN the prod stage, configured to take versions by promotion only
    stack = growth_stack(config_text() + PROMOTION_ONLY)
    ctx = replace(stack.ctx, settings=replace(stack.ctx.settings, prefix="sluice-prod"))
    # WHEN a drop is accepted and its DatasetAccepted reaches train_model
    accepted = stack.drop("jan.csv", drop_csv(120, seed=1))
    assert accepted["outcome"] == "accepted"
    result = train_accepted(ctx, MODEL, accepted["data_version"], correlation_id="jan")
    # THEN nothing is trained: no version, a TrainingSkipped event and an audit entry saying why
    assert result["outcome"] == "not_trained" and ctx.registry.list_versions(MODEL) == []
    (skipped,) = stack.events.of(DetailType.TRAINING_SKIPPED)
    assert skipped["stage"] == "prod" and "promotion" in skipped["reason"]
    (note,) = [entry for entry in ctx.registry.history(MODEL) if entry.subject == "retrain"]
    assert note.change == "skipped (stage does not train)" and note.trigger == "DatasetAccepted"
    # AND a scheduled, drift or alarm retrain is the same no-op (it does not take or leave a cool-down either)
    for trigger, force in (("schedule", True), ("DriftDetected", False), ("alarm sluice-prod-churn-live-accuracy",
                                                                          False)):
        assert guarded_retrain(ctx, MODEL, trigger=trigger, correlation_id=trigger, force=force)["outcome"] == \
            "not_trained"
    assert ctx.registry.list_versions(MODEL) == [] and len(stack.events.of(DetailType.TRAINING_SKIPPED)) == 4


def test_the_same_configuration_trains_in_a_stage_that_trains(aws: None) -> None:
    # GIVEN the same configuration in dev WHEN a drop is accepted THEN it trains (the switch is prod's alone)
    stack = growth_stack(config_text() + PROMOTION_ONLY)
    ctx = replace(stack.ctx, settings=replace(stack.ctx.settings, prefix="sluice-dev"))
    accepted = stack.drop("jan.csv", drop_csv(120, seed=1))
    assert train_accepted(ctx, MODEL, accepted["data_version"], correlation_id="jan")["outcome"] == "trained"
