"""A strict configuration: unknown keys, wrong types, invalid values and bad schedules are refused naming the
file, the table and the key; the positive class and column roles are explicit."""

from __future__ import annotations

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.config.schedule import schedule_problem

BASE = """
[models.churn]
task = "classification"
[models.churn.training]
families = ["logistic_regression"]
retrain_schedule = "rate(7 days)"
[models.churn.contract]
target = "churned"
target_values = ["Yes", "No"]
positive = "Yes"
[[models.churn.contract.columns]]
name = "customer_id"
type = "string"
unique = true
[[models.churn.contract.columns]]
name = "plan"
type = "string"
max_length = 20
[[models.churn.contract.columns]]
name = "tenure"
"""


def load(text: str = BASE, source: str = "sluice.toml"):  # type: ignore[no-untyped-def]
    return load_config_text(text, source=source).model("churn")


@pytest.mark.parametrize(("change", "message"), [
    # GIVEN a misspelled key anywhere: refused naming the file, the table, the key and the nearest valid key
    (("max_length = 20", "max_lenght = 20"),
     r"sluice.toml: \[models.churn.contract.columns\[1\]\] max_lenght: unknown key — did you mean 'max_length'\?"),
    (("retrain_schedule", "retrain_schedule = \"rate(1 day)\"\ncv_fold = 3\nxretrain_schedule"),
     r"\[models.churn.training\] cv_fold: unknown key .*did you mean 'cv_folds'\?"),
    (("[models.churn.contract]", "[models.churn.gate]\nprimary_metric = 'f1'\n[models.churn.contract]"),
     r"\[models.churn\] gate: unknown key .*did you mean 'gates'\?"),
    (("positive = \"Yes\"", "positive = \"Yes\"\nmin_lenght = 3"), r"\[models.churn.contract\] min_lenght"),
    # GIVEN a value of the wrong type or out of bounds: the key is named
    (("retrain_schedule", "cv_folds = 5.5\nretrain_schedule"), r"\[models.churn.training\] cv_folds: must be an "
                                                               r"integer, got a number 5.5"),
    (("retrain_schedule", "holdout_fraction = \"0.2\"\nretrain_schedule"), r"holdout_fraction: must be a finite"),
    (("retrain_schedule = \"rate(7 days)\"", "retrain_schedule = \"every week\""),
     r"retrain_schedule: 'every week': must be rate"),
    (("retrain_schedule = \"rate(7 days)\"", "retrain_schedule = \"rate(1 days)\""), r"use the singular"),
    (("unique = true", "unique = true\nrole = \"ids\""), r"role: must be one of .*did you mean 'id'"),
    (("positive = \"Yes\"\n", ""), r"a binary target needs an explicit positive class: add positive = 'Yes'"),
    (("positive = \"Yes\"", "positive = \"yes\""), r"positive 'yes' is not one of target_values"),
])
def test_mistakes_are_refused_naming_file_table_and_key(change: tuple[str, str], message: str) -> None:
    text = BASE.replace(*change)
    assert text != BASE
    with pytest.raises(ConfigError, match=message):
        load(text)


def test_model_level_rules_name_the_file_too() -> None:
    text = BASE.replace('task = "classification"', 'task = "regression"').replace('"logistic_regression"', '"ridge"')
    with pytest.raises(ConfigError, match=r"^sluice.toml: model 'churn': target_values and positive are for "):
        load(text)


def test_column_roles_default_from_unique_and_only_features_are_trained_on() -> None:
    model = load()
    assert model.contract.column("customer_id").role == "id"
    assert model.contract.feature_names == ("plan", "tenure")
    assert model.contract.column_names == ("customer_id", "plan", "tenure")
    assert model.positive_class == "Yes"


def test_new_tables_are_read() -> None:
    text = BASE + """
[models.churn.data]
mode = "append"
window_drops = 3
learn_from_feedback = true
[models.churn.serving]
on_violation = "flag"
"""
    model = load(text)
    assert (model.data.mode, model.data.window_drops, model.data.learn_from_feedback) == ("append", 3, True)
    assert model.serving.on_violation == "flag"
    with pytest.raises(ConfigError, match=r"\[models.churn.serving\] on_violation: must be one of"):
        load(text.replace('"flag"', '"warn"'))


@pytest.mark.parametrize(("expression", "valid"), [
    ("rate(1 minute)", True), ("rate(5 minutes)", True), ("rate(1 hour)", True), ("rate(7 days)", True),
    ("rate(0 minutes)", False), ("rate(5 minute)", False), ("rate(1 hours)", False), ("rate(1.5 hours)", False),
    ("rate(1 week)", False), ("every week", False),
    ("cron(0 12 * * ? *)", True), ("cron(15 10 ? * MON-FRI *)", True), ("cron(0/15 * * * ? *)", True),
    ("cron(0 8 1 * ? 2030)", True), ("cron(0 9 ? * 2#1 *)", True), ("cron(0 0 L * ? *)", True),
    ("cron(0 12 * * * *)", False), ("cron(0 12 1 * MON *)", False), ("cron(0 12 * * ?)", False),
    ("cron(60 12 * * ? *)", False), ("cron(0 24 * * ? *)", False), ("cron(0 12 * 13 ? *)", False),
])
def test_schedules_are_parsed_as_eventbridge_parses_them(expression: str, valid: bool) -> None:
    assert (schedule_problem(expression) is None) is valid


def test_a_model_name_too_long_for_aws_names_is_refused_naming_the_limit() -> None:
    # GIVEN a name of 40 characters: "sluice-prod-deployment-check-<model>" would be 69 characters (EventBridge: 64)
    long_name = "m" + "x" * 39
    text = BASE.replace("models.churn", f"models.{long_name}")
    with pytest.raises(ConfigError, match=r"EventBridge rule name .* 69 characters; AWS allows 64 .*at most 35"):
        load_config_text(text)
    # AND the longest name that fits loads
    load_config_text(BASE.replace("models.churn", f"models.m{'x' * 34}"))


def test_every_schedule_rule_of_the_wiring_is_checked_for_length() -> None:
    from sluice.naming import SCHEDULE_KINDS
    from sluice.wiring.routes import ROUTES, ScheduleTrigger

    kinds = {route.trigger.kind for route in ROUTES if isinstance(route.trigger, ScheduleTrigger)}
    assert kinds == set(SCHEDULE_KINDS)


@pytest.mark.parametrize(("serving", "message"), [
    # GIVEN batch scoring sizes that cannot work: refused naming the key
    ("batch_split_above_mb = 0", "batch_split_above_mb"),
    ("batch_part_mb = -1", "batch_part_mb"),
    ("batch_max_concurrency = 0", "batch_max_concurrency"),
    ('batch_max_concurrency = "ten"', "batch_max_concurrency"),
    ("batch_split_above_mb = 10\nbatch_part_mb = 20", "must not exceed batch_split_above_mb"),
])
def test_batch_scoring_sizes_are_checked(serving: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(BASE + f"\n[models.churn.serving]\n{serving}\n")


def test_batch_scoring_splits_files_above_256_mb_into_64_mb_parts_10_at_a_time_by_default() -> None:
    serving = load().serving
    assert (serving.batch_split_above_mb, serving.batch_part_mb, serving.batch_max_concurrency) == (256.0, 64.0, 10)
    tuned = load(BASE + "\n[models.churn.serving]\nbatch_split_above_mb = 1\nbatch_part_mb = 0.5\n").serving
    assert (tuned.batch_split_above_mb, tuned.batch_part_mb) == (1.0, 0.5)
