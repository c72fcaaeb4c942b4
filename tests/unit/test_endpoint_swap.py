"""EndpointSwapper against Lambda's revision rules as real AWS applies them (moto keeps revisions still)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sluice.endpoint import EndpointSwapper, PinnedModel, SwapError

PINNED = PinnedModel("diabetes", 3, "ab" * 32)


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "operation")


class SettlingLambda:
    """A function whose update settles asynchronously: the RevisionId changes again when it does.

    ``meddle`` rewrites the environment while the update settles (another writer).
    """

    def __init__(self, *, meddle: bool = False, settling_at_start: bool = False) -> None:
        self._revisions = (f"r{n}" for n in itertools.count(1))
        self.revision = next(self._revisions)
        self.status = "InProgress" if settling_at_start else "Successful"
        self.variables: dict[str, str] = {"SLUICE_MODEL": "diabetes"}
        self.published: list[dict[str, Any]] = []
        self.meddle = meddle

    def get_function_configuration(self, FunctionName: str) -> dict[str, Any]:  # noqa: N803 (boto3's names)
        return {"RevisionId": self.revision, "LastUpdateStatus": self.status,
                "Environment": {"Variables": dict(self.variables)}}

    def update_function_configuration(self, **request: Any) -> dict[str, Any]:
        if self.status == "InProgress":
            raise _error("ResourceConflictException")
        if request.get("RevisionId") not in (None, self.revision):
            raise _error("PreconditionFailedException")
        self.variables = dict(request["Environment"]["Variables"])
        self.revision, self.status = next(self._revisions), "InProgress"
        return {"RevisionId": self.revision, "LastUpdateStatus": self.status}

    def get_waiter(self, name: str) -> Any:
        assert name == "function_updated_v2"
        return self

    def wait(self, **_: Any) -> None:
        if self.status == "InProgress":
            if self.meddle:
                self.variables = {**self.variables, "SLUICE_MODEL_VERSION": "99"}
            self.revision, self.status = next(self._revisions), "Successful"

    def publish_version(self, **request: Any) -> dict[str, Any]:
        if request.get("RevisionId") not in (None, self.revision):
            raise _error("PreconditionFailedException")
        self.published.append({"revision": self.revision, "variables": dict(self.variables)})
        return {"Version": str(len(self.published))}

    def get_paginator(self, name: str) -> Any:
        assert name == "list_versions_by_function"
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        versions = [{"Version": str(n), "Environment": {"Variables": item["variables"]}}
                    for n, item in enumerate(self.published, start=1)]
        return [{"Versions": [{"Version": "$LATEST"}, *versions]}]


def test_a_version_is_published_against_the_revision_the_update_settled_on() -> None:
    # GIVEN a function whose revision changes again when the environment update settles
    function = SettlingLambda()
    # WHEN a model is pinned and published
    version = EndpointSwapper(function, "sluice-dev-diabetes-predict").publish_pinned(PINNED)
    # THEN the published version carries the pin, published on the settled revision
    assert version == "1"
    assert PinnedModel.from_env(function.published[0]["variables"]) == PINNED
    assert function.published[0]["revision"] == "r3"
    # AND pinning the same model again reuses that version
    assert EndpointSwapper(function, "sluice-dev-diabetes-predict").publish_pinned(PINNED) == "1"
    assert len(function.published) == 1


def test_an_update_still_settling_is_waited_for_first() -> None:
    # GIVEN a function whose last update (a stack deployment, say) is still in progress
    function = SettlingLambda(settling_at_start=True)
    # WHEN a model is pinned THEN it waits, updates and publishes
    assert EndpointSwapper(function, "sluice-dev-diabetes-predict").publish_pinned(PINNED) == "1"


def test_another_writer_during_the_update_is_refused_not_published() -> None:
    # GIVEN another writer changing the environment while the update settles
    function = SettlingLambda(meddle=True)
    # WHEN a model is pinned THEN nothing is published and the reason is given
    with pytest.raises(SwapError, match="reconfigured while diabetes v3 was being pinned"):
        EndpointSwapper(function, "sluice-dev-diabetes-predict").publish_pinned(PINNED)
    assert function.published == []
