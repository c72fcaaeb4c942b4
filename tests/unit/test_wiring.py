"""The wiring table: one row per trigger, every function exists, names round-trip."""

from __future__ import annotations

from pathlib import Path

from sluice.naming import ResourceNames
from sluice.wiring import FUNCTIONS, ROUTES, BusEventTrigger, PatternContext, ScheduleTrigger, routes_for


def test_every_route_targets_a_function_with_a_handler(repo_root: Path) -> None:
    for route in ROUTES:
        assert route.function in FUNCTIONS
        assert (repo_root / "functions" / route.function / "app.py").is_file()
    for name in FUNCTIONS:
        assert (repo_root / "functions" / name / "app.py").is_file()


def test_route_names_are_unique_and_cover_the_lifecycle() -> None:
    assert len({route.name for route in ROUTES}) == len(ROUTES)
    started = {route.function for route in ROUTES}
    assert started == {"validate_dataset", "train_model", "evaluate_model", "deploy_model", "rollback_model",
                       "detect_drift", "record_feedback", "score_batch"}
    assert any(isinstance(route.trigger, ScheduleTrigger) for route in routes_for("train_model"))


def test_only_approved_evaluations_and_approval_decisions_reach_deploy() -> None:
    # GIVEN deploy_model's routes from the sluice bus
    context = PatternContext(data_bucket="b", names=ResourceNames())
    patterns = {r.name: r.trigger.pattern(context) for r in routes_for("deploy_model")  # type: ignore[union-attr]
                if isinstance(r.trigger, BusEventTrigger)}
    # THEN an evaluation reaches it only when approved, and every approval decision reaches it
    assert patterns == {
        "model-approved": {"source": ["sluice"], "detail-type": ["ModelEvaluated"], "detail": {"approved": [True]}},
        "approval-decided": {"source": ["sluice"], "detail-type": ["ApprovalDecided"]},
    }


def test_names_round_trip_for_schedules_and_alarms() -> None:
    names = ResourceNames("sluice-dev")
    assert names.model_of_retrain_rule(names.retrain_rule("breast-cancer")) == "breast-cancer"
    assert names.model_of_retrain_rule("someone-elses-rule") is None
    models = ("cancer", "cancer-v2")
    assert names.model_of_alarm(names.endpoint_alarm("cancer-v2", "errors"), models) == "cancer-v2"
    assert names.model_of_alarm(names.endpoint_alarm("cancer", "errors"), models) == "cancer"
    assert names.model_of_alarm("other-alarm", models) is None


def test_monitoring_routes_schedule_drift_and_retrain_on_drift_and_the_quality_alarm() -> None:
    # GIVEN the wiring's monitoring rows
    names = ResourceNames("sluice-dev")
    context = PatternContext(data_bucket="b", names=names)
    (drift_schedule,) = [r for r in routes_for("detect_drift") if isinstance(r.trigger, ScheduleTrigger)]
    retrains = {r.name: r.trigger for r in routes_for("train_model")}
    # THEN drift runs on its own per-model schedule rule, named so the handler finds the model
    assert isinstance(drift_schedule.trigger, ScheduleTrigger)
    rule = drift_schedule.trigger.rule_name(names, "breast-cancer")
    assert rule == "sluice-dev-drift-breast-cancer"
    assert names.model_of_schedule_rule("drift", rule) == "breast-cancer"
    # AND only DriftDetected events that ask for it, and only live-accuracy alarms, retrain
    drift = retrains["drift-detected"]
    assert isinstance(drift, BusEventTrigger)
    assert drift.pattern(context)["detail"] == {"retrain": [True]}
    alarm = retrains["quality-alarm"].pattern(context)  # type: ignore[union-attr]
    assert alarm["detail"]["alarmName"] == [{"wildcard": "sluice-dev-*-live-accuracy"}]
    (feedback,) = routes_for("record_feedback")
    assert feedback.trigger.pattern(context)["detail"]["object"]["key"] == [{"prefix": "feedback/"}]  # type: ignore[union-attr]


def test_release_checks_are_scheduled_per_model_with_a_progressive_strategy() -> None:
    from sluice.config import DeploymentSettings
    from sluice.wiring.routes import DEPLOYMENT_CHECK_KIND

    (route,) = [r for r in routes_for("deploy_model") if isinstance(r.trigger, ScheduleTrigger)]
    assert isinstance(route.trigger, ScheduleTrigger) and route.trigger.kind == DEPLOYMENT_CHECK_KIND
    names = ResourceNames("sluice-dev")
    rule = route.trigger.rule_name(names, "breast-cancer")
    assert names.model_of_schedule_rule(DEPLOYMENT_CHECK_KIND, rule) == "breast-cancer"
    assert DeploymentSettings().check_schedule is None
    assert DeploymentSettings(strategy="linear").check_schedule == "rate(1 minute)"
    # a manual approval needs the check too, even all at once: it retires versions whose approval expired
    assert DeploymentSettings(approval="manual").check_schedule == "rate(1 minute)"
