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
    assert started == {"validate_dataset", "train_model", "evaluate_model", "deploy_model", "rollback_model"}
    assert any(isinstance(route.trigger, ScheduleTrigger) for route in routes_for("train_model"))


def test_only_approved_evaluations_reach_deploy() -> None:
    (route,) = routes_for("deploy_model")
    assert isinstance(route.trigger, BusEventTrigger)
    pattern = route.trigger.pattern(PatternContext(data_bucket="b", names=ResourceNames()))
    assert pattern == {"source": ["sluice"], "detail-type": ["ModelEvaluated"], "detail": {"approved": [True]}}


def test_names_round_trip_for_schedules_and_alarms() -> None:
    names = ResourceNames("sluice-dev")
    assert names.model_of_retrain_rule(names.retrain_rule("breast-cancer")) == "breast-cancer"
    assert names.model_of_retrain_rule("someone-elses-rule") is None
    models = ("cancer", "cancer-v2")
    assert names.model_of_alarm(names.endpoint_alarm("cancer-v2", "errors"), models) == "cancer-v2"
    assert names.model_of_alarm(names.endpoint_alarm("cancer", "errors"), models) == "cancer"
    assert names.model_of_alarm("other-alarm", models) is None
