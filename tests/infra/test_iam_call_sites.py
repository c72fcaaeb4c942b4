"""Every AWS call site is allowed by its function's role in the synthesized template: action, resource and
conditions.

The reliability suite's fault injector enumerates the call sites (every (handler, service.operation) the story
reaches); the local IAM layer, in record-only mode, maps each call to what AWS authorizes
(``sluice.local.iam_actions``). Each request is then evaluated here, statically, against the statements of the
function's role as the template declares them, so a grant missing from infra/ fails this test even where the
story would have taken another path after an AccessDenied.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sluice.demo.monitoring_story import drifted_traffic
from sluice.local import LocalCloud, ScriptedMeter
from sluice.local.iam import MISSING_KEY, Check
from sluice.local.iam_actions import requests_for
from sluice.local.iam_policy import Effect, evaluate
from sluice.local.iam_template import FunctionPolicy, function_policies
from tests.infra.synthesized import dev_template, without_action
from tests.reliability.conftest import play_story
from tests.reliability.faults import FaultInjector
from tests.reliability.harness import REPO, Dispatcher, fast_config

MODEL = "breast-cancer"
pytestmark = pytest.mark.slow


def _policies(cloud: LocalCloud, template: dict[str, Any]) -> dict[str, FunctionPolicy]:
    return function_policies(template, local_env=cloud.settings.to_env(), local_prefix=cloud.settings.prefix)


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalCloud, FaultInjector, Dispatcher]]:
    """The reliability story plus traffic, feedback and a drift check, with every call checked but none refused."""
    config = fast_config(tmp_path_factory.mktemp("call-sites") / "sluice.toml")
    injector = FaultInjector()
    with pytest.MonkeyPatch.context() as monkeypatch:
        injector.install(monkeypatch)
        with LocalCloud(config, functions_dir=REPO / "functions", meter=ScriptedMeter(),
                        iam_template=dev_template(), iam_enforce=False) as cloud:
            monkeypatch.setattr(cloud, "invoke", injector.wrap(cloud.invoke))
            dispatcher = Dispatcher(cloud)
            play_story(cloud, dispatcher)
            drifted_traffic(cloud)
            cloud.clients.s3.put_object(Bucket=cloud.settings.data_bucket, Key=f"feedback/{MODEL}/labels.csv",
                                        Body=b"request_id,instance,diagnosis\nnone,0,benign\n")
            dispatcher.run()
            cloud.fire_schedule(MODEL, "drift-schedule")
            dispatcher.run()
            yield cloud, injector, dispatcher


def _checks(cloud: LocalCloud) -> list[Check]:
    assert cloud.iam is not None
    return cloud.iam.checks


def test_every_call_site_of_every_function_is_allowed_by_its_role(
        story: tuple[LocalCloud, FaultInjector, Dispatcher]) -> None:
    cloud, injector, dispatcher = story
    # GIVEN every call the functions made, as the fault injector enumerates them, and each call's authorization
    sites = {(site.function, site.operation) for site in injector.calls}
    checked = {(check.principal, check.operation) for check in _checks(cloud)}
    # THEN every call site was mapped to what AWS authorizes (none escaped the table)
    assert sites <= checked, sorted(sites - checked)
    assert {function for function, _ in sites} >= {"validate_dataset", "train_model", "evaluate_model",
                                                   "deploy_model", "rollback_model", "detect_drift",
                                                   "record_feedback"}
    assert any(check.principal == f"predict:{MODEL}" for check in _checks(cloud))
    # AND each authorization is allowed by the template's statements for that function (re-evaluated here)
    policies = _policies(cloud, dev_template())
    refused = [f"{check} → {evaluate(policies[check.principal].statements, check.request)}"
               for check in _checks(cloud) if check.verdict != MISSING_KEY
               and evaluate(policies[check.principal].statements, check.request) is not Effect.ALLOWED]
    assert refused == []
    assert not dispatcher.failures


def test_missing_keys_are_403s_the_role_lets_the_code_settle(story: tuple[LocalCloud, FaultInjector, Dispatcher]
                                                              ) -> None:
    cloud, _, _ = story
    # GIVEN the reads S3 answers with 403 (HeadObject/GetObject of a missing key, no unconditioned ListBucket)
    checks = _checks(cloud)
    missing = [index for index, check in enumerate(checks) if check.verdict == MISSING_KEY]
    assert missing and {checks[index].operation for index in missing} <= {"s3.HeadObject", "s3.GetObject"}
    policies = _policies(cloud, dev_template())
    for index in missing:
        # (the read itself, authorized just before: s3:GetObject on the object)
        read = checks[index - 1]
        assert read.request.action == "s3:GetObject" and read.allowed
        bucket, key = read.request.resource.removeprefix("arn:aws:s3:::").split("/", 1)
        # THEN the listing ObjectStore.exists makes on a 403 (ListObjectsV2, Prefix = the key) is allowed by the
        # role's prefix grant, so the code can tell "missing" from "denied"
        listing = requests_for("s3", "ListObjectsV2", {"Bucket": bucket, "Prefix": key, "MaxKeys": 1})
        assert all(evaluate(policies[read.principal].statements, request) is Effect.ALLOWED for request in listing), \
            (read.principal, key)


def test_the_check_fails_when_a_role_lacks_a_grant(story: tuple[LocalCloud, FaultInjector, Dispatcher]) -> None:
    cloud, _, _ = story
    # GIVEN train_model's role without s3:PutObject (it writes the artifacts)
    policies = _policies(cloud, without_action(dev_template(), "train_model", "s3:PutObject"))
    # WHEN its recorded calls are evaluated against that role
    refused = [check for check in _checks(cloud) if check.principal == "train_model"
               and evaluate(policies["train_model"].statements, check.request) is not Effect.ALLOWED]
    # THEN the artifact writes are refused
    assert refused and {check.request.action for check in refused} == {"s3:PutObject"}

